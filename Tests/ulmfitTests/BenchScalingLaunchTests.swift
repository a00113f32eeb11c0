import Foundation
import Testing
@testable import ulmfit

/// `bench scaling --ranks` starts `bench step` under mpirun with its own options: every model,
/// config and layout option given to `bench scaling` must reach `bench step` unchanged (a flag
/// dropped or renamed on the way would measure another model or layout without a word).
@Suite struct BenchScalingLaunchTests {
    @Test(arguments: [
        ["--out", "s"],
        ["--preset", "tiny", "--vocab", "257", "--emb", "32", "--hidden", "48", "--layers", "2", "--batch", "8",
         "--bptt", "12", "--config", "configs/quick.yaml", "--set", "training.seed=3", "--set", "model.drop_mult=0.5",
         "--bind", "pu", "--policy", "scatter", "--cpus", "core:0-1", "--oversubscribe", "--no-bind",
         "--worker-counts", "1,2", "--ranks", "1,2", "--out", "s"],
        ["--no-oversubscribe", "--ranks", "1,3", "--out", "s"],
    ])
    func everyOptionReachesTheLaunchedStep(arguments: [String]) throws {
        let scaling = try BenchScalingCommand.parse(arguments)
        let forwarded = scaling.model.arguments + scaling.layout.placementArguments + (scaling.noBind ? ["--no-bind"] : [])
        let step = try BenchStepCommand.parse(forwarded + ["--workers", "2"])
        let (a, b) = (scaling.model, step.model)
        #expect(a.preset == b.preset && a.vocab == b.vocab)
        #expect([a.emb, a.hidden, a.layers, a.batch, a.bptt] == [b.emb, b.hidden, b.layers, b.batch, b.bptt])
        #expect(a.configOptions.config == b.configOptions.config && a.configOptions.assignments == b.configOptions.assignments)
        let (x, y) = (scaling.layout, step.layout)
        #expect([x.bind, x.policy, x.cpus] == [y.bind, y.policy, y.cpus] && x.oversubscribe == y.oversubscribe)
        #expect(scaling.noBind == step.noBind && step.layout.workers == "2")
    }

    @Test(arguments: [("2,4", "--ranks '2,4' must include 1: efficiency is relative to one process"),
                      ("1,x", "--ranks: 'x' in '1,x' is not a positive integer"),
                      ("1,2,1", "--ranks: 1 is listed twice in '1,2,1'")])
    func processCountsAreCheckedLikeWorkerCounts(list: String, message: String) throws {
        do {
            _ = try BenchScalingCommand.parse(["--ranks", list, "--out", "s"])
            Issue.record("--ranks \(list) was accepted")
        } catch {
            #expect(BenchScalingCommand.message(for: error) == message)
        }
        #expect(try BenchScalingCommand.parse(["--ranks", "2, 1", "--out", "s"]).parsedRanks() == [1, 2])
    }
}
