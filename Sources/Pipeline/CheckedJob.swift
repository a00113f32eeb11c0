import Foundation
import GenomicData
import Kernels
import Logging
import OutputFiles
import Parallel
import Training

/// What the language-model and classifier jobs share once planned and checked: the settings,
/// the results folder and the worker layout. Its `start` is the one way a job begins writing.
protocol CheckedJob {
    var resolved: RunConfig { get }
    var resolvedKeys: [ConfigKey] { get }
    var out: String { get }
    var vocabulary: Vocabulary { get }
    var topology: Topology { get }
    var layout: WorkerLayout { get }
    var memory: MemoryEstimate { get }
    var resume: ResumePoint? { get }
}

extension CheckedJob {
    /// The start of a checked run: the processes agree on the job (`checkProcessesBeforeWriting`:
    /// `section`'s batch and shards over every worker, the same settings and `data`); then rank 0
    /// prepares `out` (and takes its lock: the caller holds it while the run writes), writes the resolved settings (`config.yaml`, with the line that repeats the
    /// run) and, unless resuming, the vocabulary; then every process starts its pinned workers.
    func start(section: String, batch: Int, deterministicShards: Int?, data: @autoclosure () -> DataFingerprint,
               mode: RunFolder.Mode, group: ProcessGroup, command: String, logger: Logger) throws
        -> (pool: WorkerPool, lock: RunFolderLock?) {
        try checkProcessesBeforeWriting(group, config: resolved, section: section, batch: batch,
                                        deterministicShards: deterministicShards, workers: layout.workerCount,
                                        keys: resolvedKeys, vocabulary: vocabulary, data: data())
        var lock: RunFolderLock?
        if group.isPrimary {
            lock = try RunFolder.prepare(out, mode: resume == nil ? mode : .resume)
            try resolved.write(keys: resolvedKeys, to: (out as NSString).appendingPathComponent("config.yaml"),
                               header: "The resolved settings of this run (every value, and where it came from).\n"
                                   + "Repeat it with: \(command) --config THIS_FILE --out OTHER_FOLDER")
            var vocabulary = self.vocabulary
            if resume == nil { try vocabulary.save(to: (out as NSString).appendingPathComponent("vocab.json")) }
        }
        let pool = try WorkerPool(layout: layout, topology: topology)
        logger.debug("BLAS: \(blasConfiguration())")
        logger.debug("\(layout.table())")
        logger.debug("memory estimate: \(memory)")
        return (pool, lock)
    }

    /// Runs the training `body` in the prepared folder: with `--overwrite`, the previous run set
    /// aside (`RunFolder.prepare`) is removed once the new run finished, and put back when the
    /// new run fails before writing any checkpoint (a run that diverges at once leaves the
    /// previous model, not nothing). An interrupted run keeps both until it is resumed.
    func replacingPrevious<T>(group: ProcessGroup, logger: Logger, _ body: () throws -> T) throws -> T {
        do {
            let result = try body()
            if group.isPrimary { RunFolder.discardReplaced(out) }
            return result
        } catch {
            if group.isPrimary, !(error is RunInterrupted), !RunFolder.hasCheckpoint(out), RunFolder.restoreReplaced(out) {
                let note = "the run failed before its first checkpoint: the previous run in \(ConfigPath.display(out)) "
                    + "was put back (--overwrite replaces it only once the new run has a checkpoint)"
                logger.warning("\(note)")
            }
            throw error
        }
    }
}
