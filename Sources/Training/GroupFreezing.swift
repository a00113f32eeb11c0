/// fastai's `freeze_to(n)`: groups before index `n` are frozen, the rest trained; a negative
/// `n` counts from the end, as a Python slice. `freeze_to(-1)` (fastai `freeze()`) trains only
/// the last group, `freeze_to(-2)` the last two, `freeze_to(0)` (`unfreeze()`) everything.
public enum GroupFreezing {
    /// One flag per group, true where the group is trained.
    /// - Throws: `TrainingError.freezeIndexOutOfRange` unless `-groupCount <= n <= groupCount`
    ///   (fastai accepts `n == groupCount`, freezing the whole model, with a warning).
    public static func trainableFlags(freezeTo n: Int, groupCount: Int) throws -> [Bool] {
        guard n >= -groupCount, n <= groupCount else {
            throw TrainingError.freezeIndexOutOfRange(index: n, groupCount: groupCount)
        }
        let frozenCount = n >= 0 ? n : groupCount + n
        return (0..<groupCount).map { $0 >= frozenCount }
    }
}
