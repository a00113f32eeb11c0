import Foundation
import GenomicData
import Kernels
import Logging
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
    /// prepares `out`, writes the resolved settings (`config.yaml`, with the line that repeats the
    /// run) and, unless resuming, the vocabulary; then every process starts its pinned workers.
    func start(section: String, batch: Int, deterministicShards: Int?, data: @autoclosure () -> DataFingerprint,
               mode: RunFolder.Mode, group: ProcessGroup, command: String, logger: Logger) throws -> WorkerPool {
        try checkProcessesBeforeWriting(group, config: resolved, section: section, batch: batch,
                                        deterministicShards: deterministicShards, workers: layout.workerCount,
                                        keys: resolvedKeys, vocabulary: vocabulary, data: data())
        if group.isPrimary {
            try RunFolder.prepare(out, mode: resume == nil ? mode : .resume)
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
        return pool
    }
}
