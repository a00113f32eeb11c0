import Kernels
import Testing
@testable import Model

/// The memory estimates a run checks before allocating (`allocatedBytes`) against the buffers
/// real replicas hold, found by walking each object's stored properties.
@Suite struct ReplicaMemoryTests {
    /// Bytes of every `FloatBuffer` reachable from `root` (each object counted once).
    static func floatBufferBytes(_ root: Any) -> (bytes: Double, buffers: Int) {
        var seen = Set<ObjectIdentifier>(), bytes = 0.0, buffers = 0
        func walk(_ value: Any) {
            if let buffer = value as? FloatBuffer {
                guard seen.insert(ObjectIdentifier(buffer)).inserted else { return }
                bytes += Double(max(buffer.count, 1) * 4)   // FloatBuffer allocates at least one float
                buffers += 1
                return
            }
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .class {
                guard seen.insert(ObjectIdentifier(value as AnyObject)).inserted else { return }
            }
            for child in mirror.children { walk(child.value) }
        }
        walk(root)
        return (bytes, buffers)
    }

    static let configs = [AWDLSTMConfig(vocabSize: 37, embeddingSize: 12, hiddenSize: 20, layerCount: 3),
                          AWDLSTMConfig(vocabSize: 9, embeddingSize: 24, hiddenSize: 8, layerCount: 2),
                          AWDLSTMConfig(vocabSize: 5, embeddingSize: 6, hiddenSize: 6, layerCount: 1)]

    /// Tolerance: none for the float buffers (the estimate follows their sizes exactly); the
    /// only slack a buffer adds is the rounding of zero-length buffers to one float (4 bytes).
    @Test(arguments: configs) func languageModelReplica(config: AWDLSTMConfig) {
        for (b, T) in [(1, 1), (3, 7), (16, 5)] {
            let model = LanguageModel(parameters: LanguageModelParameters(config: config), streamCapacity: b, steps: T)
            let measured = Self.floatBufferBytes(model)
            let estimate = LanguageModel.allocatedBytes(config: config, streams: b, steps: T)
            #expect(abs(measured.bytes - estimate) <= 4 * Double(measured.buffers), "b \(b) T \(T): \(measured) vs \(estimate)")
            #expect(measured.buffers >= 10)   // the walk found the encoder's buffers too
        }
    }

    /// ClassifierEncoder also holds the pooling's arg-max steps: b x E Int32 (not a FloatBuffer).
    @Test(arguments: configs) func classifierEncoderAndHead(config: AWDLSTMConfig) {
        for (b, L) in [(1, 3), (5, 11)] {
            let encoder = ClassifierEncoder(parameters: LanguageModelParameters(config: config).encoder, streamCapacity: b,
                                            stepCapacity: L)
            let measured = Self.floatBufferBytes(encoder).bytes + Double(b * config.embeddingSize * 4)
            let estimate = ClassifierEncoder.allocatedBytes(config: config, streams: b, steps: L)
            #expect(abs(measured - estimate) <= 4 * 20, "b \(b) L \(L): \(measured) vs \(estimate)")
        }
        for (classes, n) in [(2, 1), (3, 17)] {
            let parameters = ClassifierParameters(config: config, classCount: classes, headHidden: 7)
            let head = ClassifierHead(parameters: parameters, capacity: n)
            let measured = Self.floatBufferBytes(head).bytes
            #expect(measured == ClassifierHead.allocatedBytes(parameters: parameters, capacity: n))
        }
    }

    /// Sizes from bad settings give a number to refuse, not an overflow trap.
    @Test func absurdSizesDoNotTrap() {
        let paper = AWDLSTMConfig(vocabSize: 1025)
        let bytes = LanguageModel.allocatedBytes(config: paper, streams: 100_000, steps: 1_000_000_000)
        #expect(bytes > 1e18 && bytes.isFinite)
    }
}
