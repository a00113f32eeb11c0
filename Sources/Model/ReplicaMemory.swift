/// What one worker's replica allocates, as pure functions of the sizes: the memory check of a
/// run (before anything is allocated) adds these up. The encoder's buffers come from the table
/// its `init` allocates from (`EncoderActivationSizes`); the others mirror the `init` of their
/// type buffer by buffer (the comments there give the same shapes). `ReplicaMemoryTests`
/// measures the buffers a real replica holds and compares. Computed in Double: sizes from bad
/// settings (a BPTT of a million, a batch of 10^5) must give a number to refuse, not an overflow trap.
extension AWDLSTMEncoder {
    /// Bytes allocated for `b` streams and `L` steps.
    public static func allocatedBytes(config c: AWDLSTMConfig, streams b: Int, steps L: Int) -> Double {
        4 * EncoderActivationSizes(config: c, streams: b, steps: L).totalFloats
    }
}

extension LanguageModel {
    /// Bytes allocated for `b` streams and `T` steps: the encoder, output dropout, logits.
    public static func allocatedBytes(config c: AWDLSTMConfig, streams b: Int, steps T: Int) -> Double {
        let (bd, Td, E, V) = (Double(b), Double(T), Double(c.embeddingSize), Double(c.vocabSize))
        // outputMask, dropped, logits, dRaw
        return AWDLSTMEncoder.allocatedBytes(config: c, streams: b, steps: T)
            + 4 * (bd * E + Td * bd * E + Td * bd * V + Td * bd * E)
    }
}

extension ClassifierEncoder {
    /// Bytes allocated for `b` sequences of up to `L` tokens: the encoder, the pooling's
    /// arg-max steps (Int32) and the gradient of the encoder output.
    public static func allocatedBytes(config c: AWDLSTMConfig, streams b: Int, steps L: Int) -> Double {
        let (bd, Ld, E) = (Double(b), Double(L), Double(c.embeddingSize))
        return AWDLSTMEncoder.allocatedBytes(config: c, streams: b, steps: L) + 4 * bd * E + 4 * Ld * bd * E
    }
}

extension ClassifierHead {
    /// Bytes allocated for minibatches of up to `n` rows.
    public static func allocatedBytes(parameters p: ClassifierParameters, capacity n: Int) -> Double {
        let (nd, F, K, C) = (Double(n), Double(p.bn0.channels), Double(p.linear0.outputSize), Double(p.classCount))
        // xHat0, a0, mask0, dA0, dFeatures; invStd0; z1, xHat1, a1, mask1, dA1; invStd1; logits
        return 4 * (5 * nd * F + F + 5 * nd * K + K + nd * C)
    }
}

extension ClassifierForward {
    /// Bytes one inference replica allocates for `b` sequences of up to `L` tokens (the buffers
    /// of `init`, the head included), in Double so that huge settings give a number to refuse.
    public static func allocatedBytes(parameters p: ClassifierParameters, sequences b: Int, steps L: Int,
                                      timeChunk: Int = 16) -> Double {
        let c = p.encoder.config
        let (bd, Ld, E) = (Double(b), Double(L), Double(c.embeddingSize))
        let widest = Double(max(c.embeddingSize, c.hiddenSize)), chunk = Double(min(timeChunk, L))
        let floats = Ld * bd * E + 2 * (Ld + 1) * bd * widest + (chunk + 1) * bd * widest + chunk * bd * 4 * widest
            + bd * 3 * E + bd * E
        return 4 * floats + ClassifierHead.allocatedBytes(parameters: p, capacity: b)
    }
}
