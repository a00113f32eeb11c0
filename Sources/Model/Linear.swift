import Kernels

/// A fully connected layer y = x W^T + bias (PyTorch `nn.Linear` layout, W: [out, in]).
public struct Linear: Sendable {
    public let weight: ParameterSpec
    public let bias: ParameterSpec
    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[0] }

    public init(name: String, input: Int, output: Int, group: String, layout: inout ParameterLayout) {
        weight = layout.add("\(name).weight", shape: [output, input], group: group)
        bias = layout.add("\(name).bias", shape: [output], group: group)
    }

    /// y: [n, out] = x: [n, in] W^T + bias
    func forward(_ x: UnsafePointer<Float>, rows n: Int, params: UnsafePointer<Float>,
                 into y: UnsafeMutablePointer<Float>) {
        let I = inputSize, O = outputSize
        gemm(.none, .transposed, m: n, n: O, k: I, a: x, lda: I, b: params + weight.offset, ldb: I,
             beta: 0, c: y, ldc: O)
        for r in 0 ..< n { add(params + bias.offset, into: y + r * O, count: O) }
    }

    /// dW += dy^T x ; db += column sums of dy ; dx = dy W
    func backward(_ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows n: Int,
                  params: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>,
                  dx: UnsafeMutablePointer<Float>) {
        let I = inputSize, O = outputSize
        gemm(.transposed, .none, m: O, n: I, k: n, a: dy, lda: O, b: x, ldb: I,
             beta: 1, c: grads + weight.offset, ldc: I)
        addColumnSums(dy, rows: n, columns: O, into: grads + bias.offset)
        gemm(.none, .none, m: n, n: I, k: O, a: dy, lda: O, b: params + weight.offset, ldb: I,
             beta: 0, c: dx, ldc: I)
    }

    /// PyTorch's default init: weight and bias U(-1/sqrt(in), 1/sqrt(in)).
    func initialize(_ params: UnsafeMutablePointer<Float>, random: inout some RandomNumberGenerator) {
        let bound = 1 / Float(inputSize).squareRoot()
        for i in weight.range { params[i] = Float.random(in: -bound ... bound, using: &random) }
        for i in bias.range { params[i] = Float.random(in: -bound ... bound, using: &random) }
    }
}
