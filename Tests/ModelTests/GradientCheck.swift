import Testing
@testable import Model

/// Central finite differences against an analytic gradient, element by element.
///
/// Computation is in Float, so the step is large (1e-2) and the tolerance mixes absolute and
/// relative error; a wrong formula is off by O(1) and still fails.
func expectGradientsMatch(name: String, count: Int,
                          analytic: (Int) -> Float,
                          perturb: (Int, Float) -> Void,
                          loss: () -> Double,
                          step: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 2e-2,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    var worst = 0.0, worstIndex = -1
    for i in 0 ..< count {
        perturb(i, step)
        let plus = loss()
        perturb(i, -2 * step)
        let minus = loss()
        perturb(i, step)
        let numeric = (plus - minus) / Double(2 * step)
        let a = Double(analytic(i))
        let excess = abs(numeric - a) - (atol + rtol * abs(numeric))
        if excess > worst { worst = excess; worstIndex = i }
    }
    #expect(worstIndex < 0, "\(name): gradient mismatch at element \(worstIndex) (excess \(worst))",
            sourceLocation: sourceLocation)
}
