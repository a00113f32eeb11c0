import Checkpoint
import Foundation

/// Where a training run stands between two steps, beyond its tensors (weights, optimizer
/// moments, recurrent state, BatchNorm statistics): what a checkpoint's manifest records so
/// that a resumed run continues exactly where it stopped.
///
/// It travels in the manifest's `stage`, `epoch`, `step`, `schedule`, `dataCursor`,
/// `randomKeys`, `optimizer` and `metrics` fields (`manifestFields`, `init(manifest:file:)`).
struct RunState: Equatable {
    /// Optimizer steps taken.
    var step: Int
    /// Stage of gradual unfreezing (0-based; a language model has one) and the step it began at.
    var stage = 0
    var stageStart = 0
    /// Steps of the whole run (all stages).
    var totalSteps: Int
    /// The epoch of the next step, as the run counts and logs it: the language model's is
    /// 0-based; the classifier's counts the epochs begun so far over all stages (1-based in its
    /// logs). Either way it keys the epoch's shuffle, `(seed, epoch)`.
    var epoch: Int
    /// Classifier: epochs of the current stage begun so far (0 for a language model).
    var epochInStage = 0
    /// Next BPTT window (language model) or minibatch (classifier) of the epoch.
    var nextBatch: Int
    var seed: UInt64
    /// AdamW updates applied per layer group (`AdamWShard.stepCounts`, equal on every shard).
    var stepCounts: [Int]
    /// The training data the run was started on.
    var data: DataFingerprint
    /// Rows written so far to each metrics log, by log name (`metrics`, `valid`).
    var logRows: [String: Int]
    /// The smoothed averages the metrics rows show (`loss`, `accuracy`), kept to the bit.
    var smoothing: [String: Double]
    /// Tokens (language model) or sequences (classifier) trained on so far.
    var examples: Int

    // MARK: Manifest form

    private struct Schedule: Codable {
        var stage: Int, stageStart: Int, stepInStage: Int, epochInStage: Int, totalSteps: Int
    }

    private struct Shuffle: Codable {
        var seed: UInt64, epoch: Int
    }

    private struct Cursor: Codable {
        var epoch: Int, nextBatch: Int, shuffle: Shuffle, train: DataFingerprint
    }

    private struct RandomKeys: Codable {
        var seed: UInt64
        var dropout = "CounterRandom(seed, purpose, step, global stream or sequence index)"
        var shuffle = "CounterRandom(seed, epochShuffle, epoch)"
    }

    private struct Optimizer: Codable {
        var stepCounts: [Int]
    }

    private struct Metrics: Codable {
        var rows: [String: Int]
        /// `Double.bitPattern` of each average: exact, and NaN (no step yet) survives JSON.
        var smoothingBits: [String: UInt64]
        var examples: Int
    }

    /// The manifest fields this state fills.
    struct ManifestFields {
        var schedule, dataCursor, randomKeys, optimizer, metrics: JSONValue
    }

    func manifestFields() throws -> ManifestFields {
        ManifestFields(
            schedule: try JSONValue(encoding: Schedule(stage: stage, stageStart: stageStart, stepInStage: step - stageStart,
                                                       epochInStage: epochInStage, totalSteps: totalSteps)),
            dataCursor: try JSONValue(encoding: Cursor(epoch: epoch, nextBatch: nextBatch,
                                                       shuffle: Shuffle(seed: seed, epoch: epoch), train: data)),
            randomKeys: try JSONValue(encoding: RandomKeys(seed: seed)),
            optimizer: try JSONValue(encoding: Optimizer(stepCounts: stepCounts)),
            metrics: try JSONValue(encoding: Metrics(rows: logRows, smoothingBits: smoothing.mapValues(\.bitPattern),
                                                     examples: examples)))
    }

    /// Reads the state back from `manifest` (at `file`).
    /// - Throws: `CheckpointError` naming the field that is missing or malformed (a checkpoint
    ///   written without optimizer state cannot be resumed; it can start a new run).
    init(manifest m: CheckpointManifest, file: String) throws {
        func read<T: Decodable>(_ type: T.Type, _ value: JSONValue?, _ field: String) throws -> T {
            guard let value, value != .null else {
                throw CheckpointError(file: file, field: field, "missing: this checkpoint holds weights only (written "
                    + "without the training state), so a run cannot resume from it; it can start one (--init-from)")
            }
            do {
                return try value.decode(T.self)
            } catch {
                throw CheckpointError(file: file, field: field, "does not describe where training stood: \(error)")
            }
        }
        let schedule = try read(Schedule.self, m.schedule, "schedule")
        let cursor = try read(Cursor.self, m.dataCursor, "dataCursor")
        let optimizer = try read(Optimizer.self, m.optimizer, "optimizer")
        let metrics = try read(Metrics.self, m.metrics, "metrics")
        guard schedule.stage == m.stage, cursor.epoch == m.epoch, schedule.stepInStage == m.step - schedule.stageStart,
              schedule.stageStart >= 0, schedule.stageStart <= m.step, m.step <= schedule.totalSteps,
              cursor.nextBatch >= 0, schedule.epochInStage >= 0 else {
            throw CheckpointError(file: file, field: "schedule", "stage \(schedule.stage), stage start "
                + "\(schedule.stageStart), \(schedule.totalSteps) steps disagree with stage \(m.stage), epoch \(m.epoch), "
                + "step \(m.step)")
        }
        step = m.step
        stage = m.stage
        stageStart = schedule.stageStart
        totalSteps = schedule.totalSteps
        epoch = cursor.epoch
        epochInStage = schedule.epochInStage
        nextBatch = cursor.nextBatch
        seed = cursor.shuffle.seed
        stepCounts = optimizer.stepCounts
        data = cursor.train
        logRows = metrics.rows
        smoothing = metrics.smoothingBits.mapValues { Double(bitPattern: $0) }
        examples = metrics.examples
    }

    init(step: Int, stage: Int = 0, stageStart: Int = 0, totalSteps: Int, epoch: Int, epochInStage: Int = 0,
         nextBatch: Int, seed: UInt64, stepCounts: [Int], data: DataFingerprint, logRows: [String: Int],
         smoothing: [String: Double], examples: Int) {
        self.step = step
        self.stage = stage
        self.stageStart = stageStart
        self.totalSteps = totalSteps
        self.epoch = epoch
        self.epochInStage = epochInStage
        self.nextBatch = nextBatch
        self.seed = seed
        self.stepCounts = stepCounts
        self.data = data
        self.logRows = logRows
        self.smoothing = smoothing
        self.examples = examples
    }

    static func == (a: RunState, b: RunState) -> Bool {
        // Smoothed averages compare by bits (NaN included).
        a.step == b.step && a.stage == b.stage && a.stageStart == b.stageStart && a.totalSteps == b.totalSteps
            && a.epoch == b.epoch && a.epochInStage == b.epochInStage && a.nextBatch == b.nextBatch && a.seed == b.seed
            && a.stepCounts == b.stepCounts && a.data == b.data && a.logRows == b.logRows && a.examples == b.examples
            && a.smoothing.mapValues(\.bitPattern) == b.smoothing.mapValues(\.bitPattern)
    }
}

/// What a run trained on, in a few numbers: a resumed run checks that its data is the same.
struct DataFingerprint: Codable, Equatable, Sendable {
    /// Documents (language model) or sequences (classifier).
    var items: Int
    var tokens: Int
    /// SHA-256 of every item's length and token ids (and the labels), little-endian Int32.
    var sha256: String

    init(items: [[Int32]], labels: [Int32] = []) {
        var words: [Int32] = []
        words.reserveCapacity(items.reduce(items.count + labels.count) { $0 + $1.count })
        for item in items {
            words.append(Int32(truncatingIfNeeded: item.count))
            words += item
        }
        words += labels
        self.items = items.count
        tokens = items.reduce(0) { $0 + $1.count }
        sha256 = words.map(\.littleEndian).withUnsafeBytes { Checkpoint.sha256(of: $0) }
    }
}
