import Foundation
import Kernels
import Model
import Parallel
import Synchronization

/// Why a sequence cannot be classified; names the sequence (its index in the input).
public enum InferenceError: Error, Equatable, CustomStringConvertible {
    case emptySequence(index: Int)
    case tokenOutOfRange(index: Int, position: Int, token: Int32, vocabSize: Int)

    public var description: String {
        switch self {
        case .emptySequence(let i):
            return "sequence \(i) has no tokens (shorter than k?)"
        case .tokenOutOfRange(let i, let position, let token, let vocabSize):
            return "sequence \(i), token \(position): id \(token) is outside the vocabulary 0..<\(vocabSize)"
        }
    }
}

/// Forward-only classification on every worker: the deployment path of a trained classifier
/// (`ulmfit predict`, `ulmfit scan`, `bench predict`).
///
/// Predict and scan reach it through Pipeline's `SequenceClassifier`
/// (`ClassifierCheckpoint.sequenceClassifier`). Pass many sequences per call (a scan: thousands
/// of windows): a call is cut into batches of `batchSize`, and a call of one batch keeps one
/// worker busy.
///
/// Inference needs none of training's machinery: no gradient buffers, no optimizer state, no
/// dropout (so the recurrent weights are packed once, not every step), no reduce. Each worker
/// holds one `ClassifierForward` (allocated on its own thread, so on its NUMA node) and takes
/// whole batches of `batchSize` sequences from a shared counter until none are left: every
/// core runs independent batches with full-size products, and a worker slowed by a neighbour
/// simply takes fewer batches. Sequences are batched longest first (stable), so little is
/// padded; results come back in input order.
///
/// Results do not depend on the number of workers: a batch's composition is fixed by the
/// input alone, and a batch is computed whole by one worker.
public final class ClassifierInference {
    public let weights: ClassifierForwardWeights
    public let pool: WorkerPool
    /// Sequences per batch (one worker's products have this many rows).
    public let batchSize: Int
    /// The longest sequence the replicas hold now; a longer one is accepted too (the replicas
    /// grow to it).
    public private(set) var maxLength: Int
    public var classCount: Int { weights.parameters.classCount }

    private let replicas: WorkerSlots<ClassifierForward?>
    private let tokenBuffers: WorkerSlots<UnsafeMutableBufferPointer<Int32>?>
    private let lengthBuffers: WorkerSlots<UnsafeMutableBufferPointer<Int32>?>
    /// Steps per batched input projection (`ClassifierForward.timeChunk`; tests make it small).
    let timeChunk: Int

    /// - Parameters:
    ///   - parameters: the classifier's layout (dropouts are ignored).
    ///   - params, statistics: trained weights and BatchNorm running statistics (copied).
    ///   - maxLength: the longest sequence expected (longer ones grow the replicas).
    /// - Throws: `TrainingError.sizeMismatch` when `params` or `statistics` do not fit the layout.
    public convenience init(parameters: ClassifierParameters, params: [Float], statistics: [Float], pool: WorkerPool,
                            batchSize: Int = 64, maxLength: Int = 128, gemm: GemmPolicy = .measured) throws {
        try self.init(parameters: parameters, params: params, statistics: statistics, pool: pool, batchSize: batchSize,
                      maxLength: maxLength, gemm: gemm, timeChunk: 16)
    }

    init(parameters: ClassifierParameters, params: [Float], statistics: [Float], pool: WorkerPool,
         batchSize: Int, maxLength: Int, gemm: GemmPolicy, timeChunk: Int) throws {
        guard params.count == parameters.layout.count, statistics.count == parameters.statisticsCount else {
            throw TrainingError.sizeMismatch("classifier weights have \(params.count) parameters and \(statistics.count) "
                + "statistics; the model needs \(parameters.layout.count) and \(parameters.statisticsCount)")
        }
        guard batchSize >= 1 else {
            throw TrainingError.invalidHyperparameter(name: "batchSize", value: Double(batchSize), reason: "must be >= 1")
        }
        weights = ClassifierForwardWeights(parameters: parameters, params: params, statistics: statistics, gemm: gemm)
        self.pool = pool
        self.batchSize = batchSize
        self.timeChunk = timeChunk
        self.maxLength = max(1, maxLength)
        replicas = WorkerSlots(count: pool.workerCount, initial: nil)
        tokenBuffers = WorkerSlots(count: pool.workerCount, initial: nil)
        lengthBuffers = WorkerSlots(count: pool.workerCount, initial: nil)
        allocate(length: self.maxLength)
    }

    deinit { release() }

    /// (Re)builds every worker's replica for sequences of up to `length` tokens.
    private func allocate(length: Int) {
        release()
        maxLength = length
        let b = batchSize
        pool.run { [self] w in
            replicas[w] = ClassifierForward(weights: weights, sequenceCapacity: b, stepCapacity: length,
                                            timeChunk: timeChunk)
            tokenBuffers[w] = .allocate(capacity: b * length)
            lengthBuffers[w] = .allocate(capacity: b)
        }
    }

    private func release() {
        for w in 0 ..< replicas.count {
            replicas[w] = nil
            tokenBuffers[w]?.deallocate()
            tokenBuffers[w] = nil
            lengthBuffers[w]?.deallocate()
            lengthBuffers[w] = nil
        }
    }

    /// `result[i][c]`: the probability of class `c` for `sequences[i]`, in input order.
    /// - Throws: `InferenceError` for an empty sequence or a token id outside the vocabulary,
    ///   `TrainingError.nonFiniteOutput` when a logit is NaN or infinite.
    public func probabilities(_ sequences: [[Int32]]) throws -> [[Float]] {
        let C = classCount
        let flat = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, sequences.count * C))
        defer { flat.deallocate() }
        try probabilities(sequences, into: flat)
        return (0 ..< sequences.count).map { Array(flat[$0 * C ..< ($0 + 1) * C]) }
    }

    /// The same into a flat buffer: `out[i * classCount + c]` (no per-sequence arrays; scans).
    public func probabilities(_ sequences: [[Int32]], into out: UnsafeMutableBufferPointer<Float>) throws {
        let n = sequences.count, C = classCount, V = weights.parameters.encoder.config.vocabSize
        precondition(out.count >= n * C, "output buffer of \(out.count) floats for \(n) x \(C) probabilities")
        if n == 0 { return }
        var longest = 0
        for (i, s) in sequences.enumerated() {
            if s.isEmpty { throw InferenceError.emptySequence(index: i) }
            if let p = s.firstIndex(where: { $0 < 0 || Int($0) >= V }) {
                throw InferenceError.tokenOutOfRange(index: i, position: p, token: s[p], vocabSize: V)
            }
            longest = max(longest, s.count)
        }
        if longest > maxLength { allocate(length: longest) }

        // Longest first, ties in input order: batches are fixed by the input, padding is small.
        let order = sequences.indices.sorted { a, b in
            sequences[a].count != sequences[b].count ? sequences[a].count > sequences[b].count : a < b
        }
        let b = batchSize, batchCount = (n + b - 1) / b
        let next = BatchCounter()
        let failures = WorkerSlots<Error?>(count: pool.workerCount, initial: nil)
        let output = out.baseAddress!
        pool.run { [self] w in
            let model = replicas[w]!, tokens = tokenBuffers[w]!, lengths = lengthBuffers[w]!
            while true {
                let i = next.take()
                if i >= batchCount { return }
                let rows = order[i * b ..< min((i + 1) * b, n)]
                let rowCount = rows.count
                let L = sequences[rows.first!].count   // longest of the batch
                tokens.baseAddress!.update(repeating: 0, count: L * rowCount)   // Vocabulary.paddingID
                for (j, index) in rows.enumerated() {
                    let s = sequences[index]
                    lengths[j] = Int32(s.count)
                    for t in 0 ..< s.count { tokens[t * rowCount + j] = s[t] }
                }
                let logits = model.logits(tokens: tokens.baseAddress!, lengths: lengths.baseAddress!,
                                          sequences: rowCount, steps: L)
                for (j, index) in rows.enumerated() {
                    let z = logits + j * C
                    if let bad = (0 ..< C).first(where: { !z[$0].isFinite }) {
                        failures[w] = TrainingError.nonFiniteOutput("logit \(bad) of sequence \(index) is \(z[bad]) "
                            + "(the weights or BatchNorm statistics hold NaN or infinite values)")
                        return
                    }
                    Self.softmax(z, count: C, into: output + index * C)
                }
            }
        }
        if let error = failures.elements.compactMap({ $0 }).first { throw error }
    }

    /// Numerically stable softmax of `count` logits.
    static func softmax(_ z: UnsafePointer<Float>, count: Int, into p: UnsafeMutablePointer<Float>) {
        var m = z[0]
        for c in 1 ..< max(count, 1) { m = max(m, z[c]) }
        var sum: Float = 0
        for c in 0 ..< count { p[c] = expf(z[c] - m); sum += p[c] }
        for c in 0 ..< count { p[c] /= sum }
    }
}

/// Hands out batch indices 0, 1, 2, ... to whichever worker asks first.
private final class BatchCounter: @unchecked Sendable {
    private let next = Atomic<Int>(0)
    func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}
