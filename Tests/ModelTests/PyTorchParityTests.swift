import Foundation
import Kernels
@testable import Model
import SeededRandom
import Testing

/// Parity with PyTorch: the fixtures in Fixtures/ were written by Fixtures/make_fixtures.py from
/// stock PyTorch modules (nn.Embedding, nn.LSTM, nn.BatchNorm1d, nn.Linear, F.cross_entropy)
/// with the same weights; these tests run the Swift model on the same inputs and require every
/// loss, activation, running statistic and gradient to match to 1e-4 relative.
///
/// Relative error is |swift - torch| / max(|torch|, 1e-2 * max |tensor|): the floor keeps
/// elements that cancel to nearly zero from demanding more digits than Float carries. The
/// fixtures store float64 results; the script checks that float32 PyTorch is within 2.5e-5 of
/// them, so 1e-4 leaves room for a different summation order but not for a wrong formula.
/// No PyTorch is needed to run these tests.
@Suite struct PyTorchParityTests {
    static let tolerance = 1e-4

    // MARK: Language model

    @Test func languageModelMatchesPyTorch() throws {
        try checkLanguageModel(file: "lm_fixture")
    }

    /// Every AWD-LSTM dropout on, PyTorch using masks drawn by a Python port of CounterRandom
    /// and the keying of Dropout.swift; the masks themselves are compared first.
    @Test func languageModelWithDropoutMasksMatchesPyTorch() throws {
        try checkLanguageModel(file: "lm_dropout_fixture")
    }

    func checkLanguageModel(file: String) throws {
        let fixture = try loadFixture(LanguageModelFixture.self, file)
        let f = fixture.config
        var config = AWDLSTMConfig(vocabSize: f.vocabSize, embeddingSize: f.embeddingSize,
                                   hiddenSize: f.hiddenSize, layerCount: f.layerCount).withoutDropout
        config.embedP = Float(f.embedP ?? 0); config.inputP = Float(f.inputP ?? 0)
        config.weightP = Float(f.weightP ?? 0); config.hiddenP = Float(f.hiddenP ?? 0)
        config.outputP = Float(f.outputP ?? 0)
        let T = f.steps, b = f.streams
        let parameters = LanguageModelParameters(config: config)
        let params = try loadParameters(fixture.parameters, layout: parameters.layout, file: file)
        let model = LanguageModel(parameters: parameters, streamCapacity: b, steps: T)
        let shared = WeightDropState(parameters: parameters.encoder)
        let normalizer = LossNormalizer(streams: b, steps: T)
        let regularization = ActivationRegularization(alpha: Float(f.alpha), beta: Float(f.beta))
        // Window w (1-based) uses the dropout key of step w, as the script does.
        let keys = (fixture.dropout?.steps ?? []).map { DropoutKey(seed: fixture.dropout!.seed, step: $0) }
        func dropout(_ window: Int) -> (key: DropoutKey, firstStream: Int)? {
            keys.isEmpty ? nil : (keys[window], 0)
        }
        var report = ParityReport(file: file)

        // The raw last-layer output of window 2, from a second encoder on the same weights.
        let encoder = AWDLSTMEncoder(parameters: parameters.encoder, streamCapacity: b, stepCapacity: T)
        shared.prepareAndPack(params: params.pointer, key: dropout(0)?.key)
        _ = encoder.forward(tokens: fixture.windows[0].tokens, steps: T, streams: b, params: params.pointer,
                            shared: shared, dropout: dropout(0))
        encoder.carryState()
        shared.prepareAndPack(params: params.pointer, key: dropout(1)?.key)
        let raw = encoder.forward(tokens: fixture.windows[1].tokens, steps: T, streams: b,
                                  params: params.pointer, shared: shared, dropout: dropout(1))
        report.compare("rawOutput", Array(UnsafeBufferPointer(start: raw, count: T * b * f.embeddingSize)),
                       fixture.expected.rawOutput)
        if let masks = fixture.expected.masksOfWindow2, let key = dropout(1)?.key {
            try compareMasks(masks, config: config, streams: b, key: key, params: params, shared: shared,
                             parameters: parameters.encoder, report: &report)
        }

        // Window 1 only sets the carried state; window 2's gradients are compared.
        let discarded = FloatBuffer(count: parameters.layout.count)
        let grads = FloatBuffer(count: parameters.layout.count)
        shared.prepareAndPack(params: params.pointer, key: dropout(0)?.key)
        _ = model.trainStep(tokens: fixture.windows[0].tokens, targets: fixture.windows[0].targets,
                            steps: T, streams: b, params: params.pointer, shared: shared,
                            grads: discarded.pointer, dropout: dropout(0), normalizer: normalizer,
                            regularization: regularization)
        shared.prepareAndPack(params: params.pointer, key: dropout(1)?.key)
        let loss = model.trainStep(tokens: fixture.windows[1].tokens, targets: fixture.windows[1].targets,
                                   steps: T, streams: b, params: params.pointer, shared: shared,
                                   grads: grads.pointer, dropout: dropout(1), normalizer: normalizer,
                                   regularization: regularization)
        shared.maskGradients(grads.pointer, range: 0 ..< grads.count)

        report.compare("crossEntropy", loss.crossEntropySum / Double(normalizer.tokens), fixture.expected.crossEntropy)
        report.compare("ar", loss.ar, fixture.expected.ar)
        report.compare("tar", loss.tar, fixture.expected.tar)
        for l in 0 ..< config.layerCount {
            let (h, c) = model.encoder.state(layer: l)
            report.compare("state.\(l).h", h, try tensor(fixture.expected.state, "\(l).h", file))
            report.compare("state.\(l).c", c, try tensor(fixture.expected.state, "\(l).c", file))
        }
        try report.compareGradients(grads, layout: parameters.layout, expected: fixture.expected.gradients)
        report.finish()
    }

    /// The masks of window 2 must be exactly those the script drew (0 or 1/(1-p) in Float).
    func compareMasks(_ masks: [String: FixtureTensor], config: AWDLSTMConfig, streams b: Int,
                      key: DropoutKey, params: FloatBuffer, shared: WeightDropState,
                      parameters: AWDLSTMParameters, report: inout ParityReport) throws {
        let file = report.file, E = config.embeddingSize
        report.compare("mask.embedding", shared.embeddingMask.array, try tensor(masks, "embedding", file), exact: true)
        func locked(_ p: Float, _ purpose: RandomPurpose, width: Int, layer: Int) -> [Float] {
            let m = FloatBuffer(count: b * width)
            RNNDropout(p: p, purpose: purpose).fillMask(m.pointer, streams: b, firstStream: 0, width: width,
                                                       layer: layer, key: key)
            return m.array
        }
        report.compare("mask.input", locked(config.inputP, .inputDropout, width: E, layer: 0),
                       try tensor(masks, "input", file), exact: true)
        report.compare("mask.output", locked(config.outputP, .outputDropout, width: E, layer: 0),
                       try tensor(masks, "output", file), exact: true)
        for l in 0 ..< config.layerCount - 1 {
            report.compare("mask.hidden.\(l)", locked(config.hiddenP, .hiddenDropout,
                                                      width: config.outputSize(layer: l), layer: l),
                           try tensor(masks, "hidden.\(l)", file), exact: true)
        }
        // Weight-drop masks are private to WeightDropState; its effective matrix is W * mask.
        for (l, layer) in parameters.layers.enumerated() {
            let mask = try tensor(masks, "weight.\(l)", file)
            let effective = shared.weightHH(layer: l, params: params.pointer)
            let expected = layer.weightHH.range.enumerated().map { k, i in Double(params[i]) * Double(Float(mask.data[k])) }
            report.compare("effective rnns.\(l).weight_hh",
                           Array(UnsafeBufferPointer(start: effective, count: layer.weightHH.count)),
                           FixtureTensor(shape: mask.shape, data: expected), exact: true)
        }
    }

    // MARK: Classifier

    /// classifier_fixture: padded sequences, AR/TAR over real steps; classifier_fastai_fixture:
    /// unpadded, AR/TAR checked against fastai's own RNNRegularizer when it was generated.
    @Test(arguments: ["classifier_fixture", "classifier_fastai_fixture"])
    func classifierMatchesPyTorch(file: String) throws {
        let fixture = try loadFixture(ClassifierFixture.self, file)
        let f = fixture.config
        let config = AWDLSTMConfig.classifier(vocabSize: f.vocabSize, embeddingSize: f.embeddingSize,
                                              hiddenSize: f.hiddenSize, layerCount: f.layerCount).withoutDropout
        let L = f.steps, b = f.sequences
        let parameters = ClassifierParameters(config: config, classCount: f.classCount, headHidden: f.headHidden,
                                              finalDropout: 0)
        let params = try loadParameters(fixture.parameters, layout: parameters.layout, file: file)
        let statistics = FloatBuffer(count: parameters.statisticsCount)
        let norms = [("head.bn0", parameters.bn0), ("head.bn1", parameters.bn1)]
        for (name, bn) in norms {
            for (suffix, offset) in [("running_mean", bn.runningMeanOffset), ("running_var", bn.runningVarOffset)] {
                let t = try tensor(fixture.statistics, "\(name).\(suffix)", file)
                guard t.shape == [bn.channels] else {
                    throw FixtureError.shapeMismatch(file: file, name: "\(name).\(suffix)",
                                                     expected: [bn.channels], found: t.shape)
                }
                for (k, v) in t.data.enumerated() { statistics[offset + k] = Float(v) }
            }
        }
        let pass = ClassifierPass(parameters: parameters, streams: b, steps: L, bptt: f.bptt)
        let grads = FloatBuffer(count: parameters.layout.count)
        // Training mode (BatchNorm on batch statistics); every dropout probability is 0.
        let (lossSum, penalty, logits) = pass.run(
            tokens: fixture.tokens, lengths: fixture.lengths, labels: fixture.labels, params: params,
            statistics: statistics, key: DropoutKey(seed: 1, step: 1),
            regularization: ActivationRegularization(alpha: f.alpha, beta: f.beta), grads: grads)
        let (shared, features) = (pass.shared, pass.features)
        shared.maskGradients(grads.pointer, range: 0 ..< grads.count)

        var report = ParityReport(file: file)
        report.compare("features", features.array, fixture.expected.features)
        report.compare("logits", logits, fixture.expected.logits)
        report.compare("loss", lossSum / Double(b), fixture.expected.loss)
        report.compare("ar", penalty.ar, fixture.expected.ar)
        report.compare("tar", penalty.tar, fixture.expected.tar)
        for (name, bn) in norms {
            for (suffix, offset) in [("running_mean", bn.runningMeanOffset), ("running_var", bn.runningVarOffset)] {
                report.compare("\(name).\(suffix)", Array(statistics.array[offset ..< offset + bn.channels]),
                               try tensor(fixture.expected.statistics, "\(name).\(suffix)", file))
            }
        }
        try report.compareGradients(grads, layout: parameters.layout, expected: fixture.expected.gradients)
        report.finish()
    }

    // MARK: Fixture loading

    func loadFixture<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw FixtureError.missingFile(name: "Fixtures/\(name).json")
        }
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    /// Copies the fixture's tensors into a flat buffer by name; the names and shapes must be
    /// exactly those of `layout`.
    func loadParameters(_ tensors: [String: FixtureTensor], layout: ParameterLayout, file: String) throws -> FloatBuffer {
        let extra = Set(tensors.keys).subtracting(layout.specs.map(\.name))
        if let name = extra.sorted().first { throw FixtureError.unknownTensor(file: file, name: name) }
        let params = FloatBuffer(count: layout.count)
        for spec in layout.specs {
            let t = try tensor(tensors, spec.name, file)
            guard t.shape == spec.shape, t.data.count == spec.count else {
                throw FixtureError.shapeMismatch(file: file, name: spec.name, expected: spec.shape, found: t.shape)
            }
            for (k, v) in t.data.enumerated() { params[spec.offset + k] = Float(v) }
        }
        return params
    }

    func tensor(_ tensors: [String: FixtureTensor], _ name: String, _ file: String) throws -> FixtureTensor {
        guard let t = tensors[name] else { throw FixtureError.missingTensor(file: file, name: name) }
        return t
    }
}

/// Worst relative error per compared tensor; records a test issue for each tensor over the
/// tolerance and prints one line per tensor (the parity report).
struct ParityReport {
    let file: String
    private var lines: [String] = []

    init(file: String) { self.file = file }

    mutating func compare(_ name: String, _ actual: Double, _ expected: Double,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        compareValues(name, [actual], [expected], exact: false, sourceLocation: sourceLocation)
    }

    /// exact: masks must match bit for bit (they are 0 or 1/(1-p) in Float on both sides).
    mutating func compare(_ name: String, _ actual: [Float], _ expected: FixtureTensor, exact: Bool = false,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        compareValues(name, actual.map(Double.init), exact ? expected.data.map { Double(Float($0)) } : expected.data,
                      exact: exact, sourceLocation: sourceLocation)
    }

    private mutating func compareValues(_ name: String, _ actual: [Double], _ expected: [Double], exact: Bool,
                                        sourceLocation: SourceLocation) {
        guard actual.count == expected.count, !actual.isEmpty else {
            Issue.record("\(file) \(name): \(actual.count) values, fixture has \(expected.count)",
                         sourceLocation: sourceLocation)
            return
        }
        let scale = expected.map(abs).max()!
        let floor = max(1e-2 * scale, Double(Float.leastNormalMagnitude))
        var worst = 0.0, worstIndex = 0
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            let err = exact ? (a == e ? 0 : .infinity) : abs(a - e) / max(abs(e), floor)
            if err > worst || (err.isNaN && !worst.isNaN) { worst = err; worstIndex = i }
        }
        let detail = "worst at [\(worstIndex)]: swift \(actual[worstIndex]), torch \(expected[worstIndex])"
        lines.append("\(name): \(String(format: "%.2e", worst)) (\(detail))")
        let limit = exact ? 0 : PyTorchParityTests.tolerance
        #expect(worst <= limit, "\(file) \(name): relative error \(worst) > \(limit), \(detail)",
                sourceLocation: sourceLocation)
    }

    /// Every parameter's gradient; the fixture must hold exactly the layout's names.
    mutating func compareGradients(_ grads: FloatBuffer, layout: ParameterLayout,
                                   expected: [String: FixtureTensor]) throws {
        let extra = Set(expected.keys).subtracting(layout.specs.map(\.name))
        if let name = extra.sorted().first { throw FixtureError.unknownTensor(file: file, name: "gradient \(name)") }
        for spec in layout.specs {
            guard let e = expected[spec.name] else {
                throw FixtureError.missingTensor(file: file, name: "gradient \(spec.name)")
            }
            guard e.shape == spec.shape else {
                throw FixtureError.shapeMismatch(file: file, name: "gradient \(spec.name)",
                                                 expected: spec.shape, found: e.shape)
            }
            compare("grad \(spec.name)", Array(grads.array[spec.range]), e)
        }
    }

    func finish() {
        print("PyTorch parity, \(file) (worst relative error per tensor):\n  " + lines.joined(separator: "\n  "))
    }
}

/// A tensor as the script writes it: row-major data and its shape.
struct FixtureTensor: Decodable {
    let shape: [Int]
    let data: [Double]
}

struct LanguageModelFixture: Decodable {
    struct Config: Decodable {
        let vocabSize, embeddingSize, hiddenSize, layerCount, streams, steps: Int
        let alpha, beta: Double
        let embedP, inputP, weightP, hiddenP, outputP: Double?
    }
    struct Window: Decodable {
        /// [T*b] time-major.
        let tokens, targets: [Int32]
    }
    struct Dropout: Decodable {
        let seed: UInt64
        /// The dropout step of each window.
        let steps: [Int]
    }
    struct Expected: Decodable {
        let crossEntropy, ar, tar: Double
        let rawOutput: FixtureTensor
        /// "L.h", "L.c": [b, H] after window 2.
        let state: [String: FixtureTensor]
        let gradients: [String: FixtureTensor]
        let masksOfWindow2: [String: FixtureTensor]?
    }
    let config: Config
    let parameters: [String: FixtureTensor]
    let windows: [Window]
    let dropout: Dropout?
    let expected: Expected
}

struct ClassifierFixture: Decodable {
    struct Config: Decodable {
        let vocabSize, embeddingSize, hiddenSize, layerCount, classCount, headHidden, sequences, steps, bptt: Int
        /// fastai's AR and TAR coefficients.
        let alpha, beta: Float
    }
    struct Expected: Decodable {
        let features, logits: FixtureTensor
        /// Mean cross-entropy; gradients are of loss + ar + tar.
        let loss, ar, tar: Double
        let statistics, gradients: [String: FixtureTensor]
    }
    let config: Config
    let parameters, statistics: [String: FixtureTensor]
    /// [L*b] time-major, padded with 0 after each sequence's length.
    let tokens: [Int32]
    let lengths, labels: [Int32]
    let expected: Expected
}

enum FixtureError: Error, CustomStringConvertible {
    case missingFile(name: String)
    case missingTensor(file: String, name: String)
    case unknownTensor(file: String, name: String)
    case shapeMismatch(file: String, name: String, expected: [Int], found: [Int])

    var description: String {
        switch self {
        case let .missingFile(name): return "fixture \(name) not found in the test bundle"
        case let .missingTensor(file, name): return "\(file).json: no tensor named \(name)"
        case let .unknownTensor(file, name): return "\(file).json: tensor \(name) is not in the Swift model"
        case let .shapeMismatch(file, name, expected, found):
            return "\(file).json: \(name) has shape \(found), the Swift model expects \(expected)"
        }
    }
}
