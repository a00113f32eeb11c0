/// One worker's share of the classifier's AR and TAR (already divided by the minibatch-wide
/// counts of `SequenceNormalizer`), and their forward and backward: fastai's AR and TAR on the
/// classifier's last LSTM layer.
///
/// What fastai computes (fastai 2 `TextLearner`, and fastai 1 `RNNLearner` which the reference
/// used, both with `alpha=2, beta=1`): `PoolingLinearClassifier.forward` returns
/// `(logits, out, out)`, where `out` is `SentenceEncoder`'s concatenation of the BPTT chunks'
/// outputs of the last LSTM layer, raw (the classifier applies no dropout there; its `output_p`
/// is the head's first dropout, after pooling). `RNNRegularizer.after_loss` then adds, in
/// training only, `alpha * out.pow(2).mean()` and `beta * (out[:,1:] - out[:,:-1]).pow(2).mean()`
/// to the loss that is backpropagated (the reported loss stays the cross-entropy). TAR therefore
/// spans the chunk boundaries, and its gradient flows into both chunks.
///
/// The one difference: fastai's means run over its padded `[B, L, E]` tensor, whose padding is
/// an artefact of its batching (`pad_input_chunk` puts whole chunks of padding first, as zeros
/// the LSTM never sees, and the remainder after the text, as LSTM outputs on pad tokens). Here
/// both means run over real positions only, so a sequence's penalty does not depend on its
/// batch-mates' lengths. For batches without padding the two are the same number; every batch of
/// the promoter sets is such a batch (all sequences of a set have one length). fastai also skips
/// TAR for a batch of one sequence (`len(h) > 1` tests the batch size); here TAR needs one pair
/// of real steps.
///
/// Layout: `output` [L*b, E] time-major (row t*b + j), `lengths` [b]. The arithmetic is
/// `ActivationPenalty`'s, which the language model's AR and TAR use too.
public struct SequencePenalty: Sendable, Equatable {
    /// alpha * mean(h^2) over real positions.
    public var ar: Double = 0
    /// beta * mean((h_t - h_{t-1})^2) over consecutive real positions.
    public var tar: Double = 0
    public init(ar: Double = 0, tar: Double = 0) {
        self.ar = ar
        self.tar = tar
    }

    public static func + (a: Self, b: Self) -> Self { Self(ar: a.ar + b.ar, tar: a.tar + b.tar) }

    /// This worker's share of AR and TAR of its sequences (`L` steps, `b` streams).
    static func forward(output: UnsafePointer<Float>, lengths: UnsafePointer<Int32>, steps L: Int, streams b: Int,
                        width E: Int, regularization r: ActivationRegularization,
                        normalizer: SequenceNormalizer) -> SequencePenalty {
        var penalty = SequencePenalty()
        if r.alpha != 0 && normalizer.positions > 0 {
            let sum = ActivationPenalty.sumOfSquares(output, steps: L, streams: b, width: E, lengths: lengths)
            penalty.ar = Double(r.alpha) * sum / Double(normalizer.positions * E)
        }
        if r.beta != 0 && normalizer.pairs > 0 {
            let sum = ActivationPenalty.sumOfDifferences(output, steps: L, streams: b, width: E, lengths: lengths)
            penalty.tar = Double(r.beta) * sum / Double(normalizer.pairs * E)
        }
        return penalty
    }

    /// Adds the penalty's gradient w.r.t. `output` into `dOutput` (same layout).
    static func backward(output: UnsafePointer<Float>, lengths: UnsafePointer<Int32>, steps L: Int, streams b: Int,
                         width E: Int, regularization r: ActivationRegularization, normalizer: SequenceNormalizer,
                         dOutput: UnsafeMutablePointer<Float>) {
        if r.alpha != 0 && normalizer.positions > 0 {
            ActivationPenalty.addGradientOfSquares(output, scale: 2 * r.alpha / Float(normalizer.positions * E),
                                                   into: dOutput, steps: L, streams: b, width: E, lengths: lengths)
        }
        if r.beta != 0 && normalizer.pairs > 0 {
            _ = ActivationPenalty.sumOfDifferences(output, steps: L, streams: b, width: E, lengths: lengths,
                                                   scale: 2 * r.beta / Float(normalizer.pairs * E), gradientInto: dOutput)
        }
    }
}
