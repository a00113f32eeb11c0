import Kernels

/// The per-minibatch, worker-shared part of the AWD-LSTM step: the DropConnect masks and
/// effective recurrent matrices of every layer, those matrices packed for the per-step GEMMs,
/// and the embedding row mask.
///
/// Computed once per step before the workers' forward passes (`prepare` then `pack`, each
/// split across workers with a barrier after each), read by every worker, and used again after
/// the all-reduce to turn the gradient of each effective matrix into that of its raw matrix.
public final class WeightDropState: @unchecked Sendable {
    public let parameters: AWDLSTMParameters
    private let masks: [FloatBuffer]
    private let effective: [FloatBuffer]
    /// Per layer: W_hh^T packed as the forward product's B ([H, 4H]) and W_hh as the backward's
    /// ([4H, H]); nil when `gemm.recurrent` is OpenBLAS.
    private let packedForward: [PackedMatrix?]
    private let packedBackward: [PackedMatrix?]
    /// Per layer: packed since the last `prepare` (raw storage: parts write distinct layers).
    private let packedFresh: UnsafeMutablePointer<Bool>
    /// [V] scales of embedding dropout (all ones when off).
    public let embeddingMask: FloatBuffer
    /// Whether the current step uses the masks (training with p > 0) or the raw weights.
    public private(set) var active = false
    /// The GEMM backends every layer uses with this state.
    public let gemm: GemmPolicy

    public init(parameters: AWDLSTMParameters, gemm: GemmPolicy = .measured) {
        self.parameters = parameters
        self.gemm = gemm
        let c = parameters.config
        let size = { (l: Int) in c.weightP > 0 ? 4 * c.outputSize(layer: l) * c.outputSize(layer: l) : 0 }
        masks = (0 ..< c.layerCount).map { FloatBuffer(count: size($0)) }
        effective = (0 ..< c.layerCount).map { FloatBuffer(count: size($0)) }
        embeddingMask = FloatBuffer(count: c.vocabSize)
        embeddingMask.pointer.update(repeating: 1, count: c.vocabSize)
        packedFresh = .allocate(capacity: c.layerCount)
        packedFresh.initialize(repeating: false, count: c.layerCount)
        let pack = gemm.recurrent == .ownSIMD
        packedForward = (0 ..< c.layerCount).map { l in
            let h = c.outputSize(layer: l)
            return pack ? PackedMatrix(k: h, n: 4 * h) : nil
        }
        packedBackward = (0 ..< c.layerCount).map { l in
            let h = c.outputSize(layer: l)
            return pack ? PackedMatrix(k: 4 * h, n: h) : nil
        }
    }

    /// Packs the recurrent matrices this step uses (after every part of `prepare` has run).
    /// Part `part` of `parts` packs the layers l with l % parts == part.
    public func pack(params: UnsafePointer<Float>, part: Int = 0, parts: Int = 1) {
        for l in stride(from: part, to: parameters.config.layerCount, by: parts) {
            let w = weightHH(layer: l, params: params)
            let h = parameters.config.outputSize(layer: l)
            packedForward[l]?.pack(.transposed, b: w, ldb: h)
            packedBackward[l]?.pack(.none, b: w, ldb: h)
            packedFresh[l] = true
        }
    }

    /// One-thread convenience: `prepare` then `pack`.
    public func prepareAndPack(params: UnsafePointer<Float>, key: DropoutKey?) {
        prepare(params: params, key: key)
        pack(params: params)
    }

    /// The packed recurrent matrices of layer `l` for this step.
    public func packed(layer l: Int) -> (forward: PackedMatrix?, backward: PackedMatrix?) {
        precondition(packedForward[l] == nil || packedFresh[l],
                     "WeightDropState: call pack(params:) (or prepareAndPack) after prepare, before the forward pass")
        return (packedForward[l], packedBackward[l])
    }

    deinit { packedFresh.deallocate() }

    /// Draws this step's masks and effective weights. Part `part` of `parts` fills its share of
    /// rows, so workers can split the work; every part must run before the forward pass.
    public func prepare(params: UnsafePointer<Float>, key: DropoutKey?, part: Int = 0, parts: Int = 1) {
        let c = parameters.config
        let on = key != nil && c.weightP > 0
        if part == 0 {
            active = on
            packedFresh.update(repeating: false, count: c.layerCount)
            if let key, c.embedP > 0 {
                EmbeddingDropout(p: c.embedP).fillMask(embeddingMask.pointer, vocabSize: c.vocabSize, key: key)
            } else {
                embeddingMask.pointer.update(repeating: 1, count: c.vocabSize)
            }
        }
        guard let key, on else { return }
        let dropout = WeightDropout(p: c.weightP)
        for (l, layer) in parameters.layers.enumerated() {
            let rows = layer.weightHH.shape[0], columns = layer.weightHH.shape[1]
            let mine = (rows * part / parts) ..< (rows * (part + 1) / parts)
            dropout.fillMask(masks[l].pointer, rows: mine, columns: columns, layer: l, key: key)
            let start = mine.lowerBound * columns, count = mine.count * columns
            let eff = effective[l].pointer + start
            eff.update(from: params + layer.weightHH.offset + start, count: count)
            multiply(eff, by: masks[l].pointer + start, count: count)
        }
    }

    /// The recurrent matrix layer `l` uses this step.
    public func weightHH(layer l: Int, params: UnsafePointer<Float>) -> UnsafePointer<Float> {
        active ? UnsafePointer(effective[l].pointer) : params + parameters.layers[l].weightHH.offset
    }

    /// Converts summed gradients of the effective matrices into gradients of the raw ones,
    /// for the indices of `range` only (the slice a worker owns after the reduce-scatter).
    public func maskGradients(_ grads: UnsafeMutablePointer<Float>, range: Range<Int>) {
        guard active else { return }
        for (l, layer) in parameters.layers.enumerated() {
            let r = layer.weightHH.range.clamped(to: range)
            if r.isEmpty { continue }
            multiply(grads + r.lowerBound, by: masks[l].pointer + (r.lowerBound - layer.weightHH.offset),
                     count: r.count)
        }
    }
}
