import Checkpoint
import GenomicData
import Parallel
import Training

// What the processes of a job must agree on: before anything is written, and the decisions a
// run takes between steps that every process must take alike (a process that stopped, or
// checkpointed, alone would leave the others waiting in the next exchange). Each is one small
// exchange with several processes, nothing with one.

/// The signal that stops a run after `stepsDone` steps: a signal may reach the processes at
/// different times (mpirun and srun forward it to each); the first rank's that has one wins.
func agreedStopSignal(_ stop: StopRequest?, stepsDone: Int, group: ProcessGroup) -> Int32? {
    let local = stop?.signal(stepsDone: stepsDone)
    guard group.size > 1 else { return local }
    let all = group.allGather([Double(local ?? 0)], label: "the stop check after step \(stepsDone)")
    return all.lazy.map { Int32($0[0]) }.first { $0 != 0 }
}

/// Rank 0's `decision` (e.g. a checkpoint due by the clock, which differs per process).
func rankZeroDecides(_ decision: Bool, group: ProcessGroup, label: String) -> Bool {
    guard group.size > 1 else { return decision }
    return group.allGather([decision ? 1 : 0], label: label)[0] == [1]
}

/// What the processes of a job must agree on before rank 0 writes anything (the checked jobs'
/// promise: nothing is written until the whole run is known to be valid). Collective; nothing
/// to do with one process.
///
/// Arriving here means this process passed its own checks: one whose checks failed ends the job
/// instead (`ClusterSession.abortIfMultiProcess`), so rank 0 never gets past this exchange to
/// write. Then, on every process alike:
/// - the minibatch must split over every process's workers (the global shard plan; an
///   impossible one names `section.deterministic_shards` or `section.batch`);
/// - every process must have resolved the same settings (the data paths, layout and results
///   folder may differ per node) and read the same vocabulary and data; otherwise the error
///   names the ranks that differ from rank 0.
/// The trainer checks the initial weights the same way when it starts.
func checkProcessesBeforeWriting(_ group: ProcessGroup, config: RunConfig, section: String, batch: Int,
                                 deterministicShards: Int?, workers: Int, keys: [ConfigKey], vocabulary: Vocabulary,
                                 data: @autoclosure () -> DataFingerprint) throws {
    guard group.size > 1 else { return }
    _ = group.allGather(bytes: [], label: "the checks of every process (a process whose checks failed ends the job)")
    let key = "\(section).\(deterministicShards == nil ? "batch" : "deterministic_shards")"
    _ = try JobChecks.naming(key, in: config) {
        try DataParallelEngine.shardPlan(workers: workers, deterministicShards: deterministicShards, batchSize: batch,
                                         group: group)
    }
    let settings = keys.filter { !$0.isPath && $0.section != "layout" }.map { "\($0.path)=\($0.display(in: config) ?? "")" }
    let data = data()
    let text = (settings + ["vocabulary k=\(vocabulary.k) stride=\(vocabulary.stride)"] + vocabulary.tokens
        + ["data \(data.items) \(data.tokens) \(data.sha256)"]).joined(separator: "\n")
    let digest = Array(text.utf8).withUnsafeBytes { Checkpoint.sha256(of: $0) }
    let differing = group.ranksDiffering(from: UInt64(digest.prefix(16), radix: 16)!, label: "the settings and data")
    if !differing.isEmpty {
        throw TrainingError.processesDisagree(what: "settings, vocabulary or data", ranks: differing)
    }
}
