/// The sizes, in floats, of the buffers one `AWDLSTMEncoder` replica allocates for `b` streams
/// and `L` steps (time-major shapes below; E the embedding size, H a layer's output size).
///
/// One table for two readers: the replica's `init` allocates from it, and the memory check of a
/// run (`AWDLSTMEncoder.allocatedBytes`, before anything is allocated) adds it up, so the estimate
/// cannot drift from what is allocated. Kept in Double: sizes from bad settings (a BPTT of a
/// million, a batch of 10^5) must give a number to refuse, not an Int overflow trap.
struct EncoderActivationSizes {
    /// [L*b, E]: the embedding output after dropout.
    let embedded: Double
    /// [b, E]: the input dropout mask.
    let inputMask: Double
    /// Per layer [L*b, 4H]: the gate activations.
    let gates: [Double]
    /// Per layer [(L+1)*b, H]: hidden states, block 0 the carried state.
    let hidden: [Double]
    /// Per layer [(L+1)*b, H]: cell states, block 0 the carried state.
    let cell: [Double]
    /// Per layer but the last [L*b, H]: the next layer's input, after hidden dropout.
    let dropped: [Double]
    /// Per layer but the last [b, H]: the hidden dropout masks.
    let hiddenMasks: [Double]
    /// [L*b, max(E, H)]: each of the two backward ping-pong buffers.
    let gradient: Double
    /// [2*b, max(E, H)]: the backward's per-step scratch.
    let stepScratch: Double

    init(config c: AWDLSTMConfig, streams b: Int, steps L: Int) {
        let (b, L, E) = (Double(b), Double(L), Double(c.embeddingSize))
        let H = (0 ..< c.layerCount).map { Double(c.outputSize(layer: $0)) }
        let widest = Double(max(c.embeddingSize, c.hiddenSize))
        embedded = L * b * E
        inputMask = b * E
        gates = H.map { L * b * 4 * $0 }
        hidden = H.map { (L + 1) * b * $0 }
        cell = hidden
        dropped = H.dropLast().map { L * b * $0 }
        hiddenMasks = H.dropLast().map { b * $0 }
        gradient = L * b * widest
        stepScratch = 2 * b * widest
    }

    /// Every buffer added up (the gradient buffer twice: there are two).
    var totalFloats: Double {
        embedded + inputMask + (gates + hidden + cell + dropped + hiddenMasks).reduce(0, +) + 2 * gradient + stepScratch
    }
}
