import Foundation
@testable import Checkpoint

/// A small run folder with checkpoints of a made-up 1000-parameter model: `params`,
/// `exp_avg` and `exp_avg_sq` sliced over the shards, `batchnorm.statistics` in shard 0.
struct CheckpointFixture {
    static let parameterCount = 1000
    let run: String

    /// - Parameter inMemory: put the run on tmpfs (/dev/shm) where there is one: the fuzz test
    ///   rewrites files thousands of times, which on a busy disk takes far longer than the test.
    init(inMemory: Bool = false) {
        let shm = "/dev/shm"
        let base = inMemory && access(shm, W_OK) == 0 ? URL(fileURLWithPath: shm) : FileManager.default.temporaryDirectory
        run = base.appendingPathComponent("ckpt-\(UUID().uuidString)").path
    }

    func remove() { try? FileManager.default.removeItem(atPath: run) }

    /// Distinct values for every step, tensor and element, so a misplaced slice shows.
    static func values(_ tensor: String, step: Int, count: Int = parameterCount) -> [Float] {
        let base = Float(tensor.utf8.reduce(0) { $0 &+ Int($1) } % 97)
        return (0 ..< count).map { Float($0) * 0.25 + base + Float(step) * 1000 }
    }

    static let vocabulary = CheckpointManifest.Vocabulary(tokens: ["xxpad", "xxunk", "AC", "GT"], k: 2, stride: 1)
    static let config: JSONValue = .object(["training": .object(["lr": .double(0.002), "seed": .uint(UInt64.max)]),
                                            "data": .object(["fasta": .array([.string("a.fa"), .string("b.fa")])])])

    static func manifest(step: Int, shards: Int) -> CheckpointManifest {
        CheckpointManifest(kind: "language-model", model: .object(["layers": .int(2)]), config: config,
                           vocabulary: vocabulary, stage: 0, epoch: 1, step: step,
                           schedule: .object(["stageStart": .int(0)]), dataCursor: .object(["window": .int(3)]),
                           randomKeys: .object(["seed": .int(42)]), optimizer: .object(["stepCounts": .array([.int(Int64(step))])]),
                           layout: .init(workers: shards, binding: "none", shardCount: shards),
                           parameters: .init(count: parameterCount,
                                             tensors: [.init(name: "a.weight", shape: [10, 60], offset: 0),
                                                       .init(name: "b.bias", shape: [400], offset: 600)]))
    }

    /// Slices of `parameterCount` over `shards` (uneven on purpose: 1000 is not a multiple of 3).
    static func slices(_ shards: Int) -> [Range<Int>] {
        (0 ..< shards).map { i in parameterCount * i / shards ..< parameterCount * (i + 1) / shards }
    }

    /// Writes checkpoint `step` with `shards` shards, each written on its own thread.
    @discardableResult
    func write(step: Int, shards: Int = 3, keep: Int? = nil, crashAfter: Int? = nil) throws -> String {
        let writer = try CheckpointWriter(run: run, step: step, shardCount: shards, keep: keep, crashAfter: crashAfter)
        let tensors = ["params", "exp_avg", "exp_avg_sq"].map { ($0, Self.values($0, step: step)) }
        let statistics = Self.values("statistics", step: step, count: 8)
        let slices = Self.slices(shards)
        let errors = ErrorList()
        DispatchQueue.concurrentPerform(iterations: shards) { w in
            do {
                try withSlices(tensors, slices[w]) { pointers in
                    var list = zip(tensors, pointers).map { ShardTensor(name: $0.0.0, values: $0.1) }
                    try statistics.withUnsafeBufferPointer { s in
                        if w == 0 { list.append(ShardTensor(name: "batchnorm.statistics", values: s)) }
                        try writer.writeShard(w, parameterRange: slices[w], tensors: list)
                    }
                }
            } catch {
                errors.add(error)
            }
        }
        if let error = errors.first { throw error }
        return try writer.commit(Self.manifest(step: step, shards: shards))
    }

    private func withSlices(_ tensors: [(String, [Float])], _ range: Range<Int>,
                            _ body: ([UnsafeBufferPointer<Float>]) throws -> Void) throws {
        let copies = tensors.map { Array($0.1[range]) }
        var pointers: [UnsafeBufferPointer<Float>] = []
        func nest(_ i: Int) throws {
            if i == copies.count { try body(pointers); return }
            try copies[i].withUnsafeBufferPointer { p in
                pointers.append(p)
                try nest(i + 1)
                pointers.removeLast()
            }
        }
        try nest(0)
    }

    var checkpoints: String { run + "/checkpoints" }
    func folder(_ step: Int) -> String { checkpoints + "/" + CheckpointDirectory.folderName(step: step) }
    func shard(_ step: Int, _ i: Int, of n: Int = 3) -> String { folder(step) + "/" + CheckpointWriter.shardFileName(i, of: n) }
}

/// Errors collected from concurrent workers.
final class ErrorList: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func add(_ error: Error) { lock.withLock { errors.append(error) } }
    var first: Error? { lock.withLock { errors.first } }
}

/// Rewrites `SHA256SUMS` of `folder` so that it matches the files as they are now (to reach
/// the checks behind the checksum).
func refreshSums(_ folder: String) throws {
    let text = try String(contentsOfFile: folder + "/SHA256SUMS", encoding: .utf8)
    var out = ""
    for line in text.split(separator: "\n") {
        let name = String(line.split(separator: " ", maxSplits: 1)[1].dropFirst())
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        out += "\(sha256Hex(data))  \(name)\n"
    }
    try Data(out.utf8).write(to: URL(fileURLWithPath: folder + "/SHA256SUMS"))
}
