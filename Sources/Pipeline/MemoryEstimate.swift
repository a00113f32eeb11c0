import Foundation
import Model

/// The memory a data-parallel run will allocate, estimated from the sizes before anything is
/// allocated (so an impossible batch or BPTT is refused with numbers instead of exhausting the
/// machine). Replicas come from the models' own `allocatedBytes` (checked against real
/// replicas by `ReplicaMemoryTests`); the rest are the trainer's flat buffers:
/// weights, the reduce-scatter's summed gradient and AdamW's two moments (4 x P floats in all),
/// one gradient per shard (P floats), and the per-step weight-drop state (masks, effective and
/// packed recurrent matrices, ~4 x 4H^2 per layer).
public struct MemoryEstimate: Sendable, CustomStringConvertible {
    /// Bytes shared by all workers.
    public var shared: Double
    /// Bytes of one shard: replica, gradient buffer, token buffers (shards sized alike).
    public var perShard: Double
    public var shards: Int
    public var workers: Int

    /// Everything the trainer allocates.
    public var total: Double { shared + perShard * Double(shards) }
    /// What the busiest worker allocates near itself.
    public var perWorker: Double { perShard * Double((shards + workers - 1) / max(workers, 1)) }

    public var description: String {
        "about \(Self.format(total)): \(Self.format(perWorker)) per worker (\(shards) shard(s) of \(Self.format(perShard)) "
            + "over \(workers) worker(s)) and \(Self.format(shared)) shared (weights, optimizer state)"
    }

    /// `1.25 GiB`, `310 MiB`.
    public static func format(_ bytes: Double) -> String {
        if bytes >= 1_073_741_824 { return String(format: "%.2f GiB", bytes / 1_073_741_824) }
        return String(format: "%.0f MiB", (bytes / 1_048_576).rounded(.up))
    }

    /// The language-model trainer for `batch` streams of `bptt` steps over `shards` shards.
    public static func languageModel(config: AWDLSTMConfig, batch: Int, bptt: Int, shards: Int, workers: Int) -> MemoryEstimate {
        let P = Double(LanguageModelParameters(config: config).layout.count)
        // Every term of a replica is linear in its streams, so the G shards' replicas (their
        // stream counts summing to the batch) hold what one replica of the whole batch would.
        let replicas = LanguageModel.allocatedBytes(config: config, streams: batch, steps: bptt)
        let tokens = 2 * 4 * Double(batch) * Double(bptt)
        let G = Double(shards)
        return MemoryEstimate(shared: 4 * 4 * P + weightDrop(config), perShard: (replicas + tokens) / G + 4 * P,
                              shards: shards, workers: workers)
    }

    /// The classifier trainer for `batch` sequences of up to `maxLength` tokens over `shards` shards.
    public static func classifier(parameters: ClassifierParameters, batch: Int, maxLength: Int, shards: Int,
                                  workers: Int) -> MemoryEstimate {
        let config = parameters.encoder.config
        let P = Double(parameters.layout.count)
        let capacity = (batch + shards - 1) / max(shards, 1)
        let replica = ClassifierEncoder.allocatedBytes(config: config, streams: capacity, steps: maxLength)
        let tokens = 4 * Double(capacity) * Double(maxLength)
        let head = ClassifierHead.allocatedBytes(parameters: parameters, capacity: batch)
        let features = 4 * Double(batch) * 3 * Double(config.embeddingSize)
        return MemoryEstimate(shared: 4 * 4 * P + weightDrop(config) + head + features,
                              perShard: replica + tokens + 4 * P, shards: shards, workers: workers)
    }

    /// Inference (`predict`, `scan`, `bench predict`): the weights once, and on every worker a
    /// forward replica for `batch` sequences of up to `maxLength` tokens and their token buffer.
    public static func inference(parameters: ClassifierParameters, batch: Int, maxLength: Int, workers: Int) -> MemoryEstimate {
        let P = Double(parameters.layout.count + parameters.statisticsCount)
        let replica = ClassifierForward.allocatedBytes(parameters: parameters, sequences: batch, steps: maxLength)
        let tokens = 4 * Double(batch) * Double(maxLength) + 4 * Double(batch)
        return MemoryEstimate(shared: 4 * P, perShard: replica + tokens, shards: workers, workers: workers)
    }

    /// Refuses `estimate` when it exceeds the memory available, naming what to lower (`lower`,
    /// e.g. "--batch 64 or --window 251") and the numbers.
    public func check(lower: String) throws {
        guard let available = MachineMemory.availableBytes(), total > available else { return }
        throw MemoryTooLarge(message: "this needs \(self), but \(Self.format(available)) are available: lower \(lower)")
    }

    /// DropConnect masks and effective matrices, both packed forms of each W_hh, embedding mask.
    private static func weightDrop(_ c: AWDLSTMConfig) -> Double {
        let recurrent = (0 ..< c.layerCount).reduce(0.0) { acc, l in
            let H = Double(c.outputSize(layer: l))
            return acc + 4 * H * H
        }
        return 4 * (4 * recurrent + Double(c.vocabSize))
    }
}

/// An estimate past the memory available, refused before anything is allocated.
public struct MemoryTooLarge: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
