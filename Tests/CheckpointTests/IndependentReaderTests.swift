import Foundation
import Testing
@testable import Checkpoint

/// The shards are plain safetensors files: a few lines of Python using only `json`, `struct`
/// and `hashlib` (no safetensors package, no code of ours) read a written checkpoint and get
/// the same numbers.
@Suite struct IndependentReaderTests {
    static let reader = #"""
import hashlib, json, struct, sys
folder = sys.argv[1]
manifest = json.load(open(folder + "/manifest.json"))
params = []
for shard in manifest["shards"]:
    raw = open(folder + "/" + shard["file"], "rb").read()
    assert len(raw) == shard["bytes"] and hashlib.sha256(raw).hexdigest() == shard["sha256"]
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    begin, end = header["params"]["data_offsets"]
    assert header["params"]["dtype"] == "F32"
    values = struct.unpack("<%df" % ((end - begin) // 4), raw[8 + n + begin:8 + n + end])
    lo, hi = shard["parameterRange"]
    assert len(values) == hi - lo and header["params"]["shape"] == [hi - lo]
    params.extend(values)
t = manifest["parameters"]["tensors"][1]
print(json.dumps({"count": len(params), "sum": sum(params), "name": t["name"],
                  "first": params[t["offset"]], "last": params[-1], "step": manifest["step"]}))
"""#

    @Test func pythonReadsTheShardsWithJsonAndStructOnly() throws {
        let fixture = CheckpointFixture()
        defer { fixture.remove() }
        try fixture.write(step: 4, shards: 3)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.reader, fixture.folder(4)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let result = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        let expected = CheckpointFixture.values("params", step: 4)
        #expect(result["count"] as? Int == 1000)
        #expect(result["step"] as? Int == 4)
        #expect(result["name"] as? String == "b.bias")
        // Every value is a multiple of 0.25 below 2^24: float32 holds them exactly, and Python
        // sums them exactly in float64 (the sum stays below 2^53), so equality is exact.
        #expect(result["sum"] as? Double == expected.reduce(0.0) { $0 + Double($1) })
        #expect(result["first"] as? Double == Double(expected[600]))
        #expect(result["last"] as? Double == Double(expected[999]))
    }
}
