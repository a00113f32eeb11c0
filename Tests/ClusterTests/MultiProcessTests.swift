import Foundation
import Testing

/// Real processes under Open MPI's mpirun: the transport, its reductions checked element by
/// element, and what happens when a rank dies or hangs.
@Suite(.serialized, .enabled(if: MPIJob.enabled, MPIJob.skipReason))
struct MultiProcessTests {
    /// Both reductions over 2 and 3 processes: `bench allreduce` checks every element of the sum
    /// (small integers, exact in any order) and exits non-zero on a wrong one.
    @Test(arguments: [(2, "sum"), (2, "ordered"), (3, "sum"), (3, "ordered")])
    func reductionsAreExactAcrossProcesses(job: (processes: Int, mode: String)) throws {
        let run = try MPIJob(processes: job.processes, ["bench", "allreduce", "--count", "100003", "--mode", job.mode,
                                                        "--warmup", "0", "--repeats", "2", "--mpi-timeout", "60"])
        let status = run.waitForExit(timeout: 120)
        #expect(status == 0, "exit \(String(describing: status)):\n\(run.output)")
        // The transport is a log line (stderr), the measurement a result (stdout).
        #expect(run.stderr.contains("transport: MPI: Open MPI"), "\(run.stderr)")
        #expect(run.stdout.contains("\(job.processes) processes, 100003 floats"), "\(run.stdout)")
        // Rank 0 alone logs and prints: one transport line, one result header, not one per rank.
        #expect(run.stderr.components(separatedBy: "transport:").count == 2, "\(run.stderr)")
        #expect(run.stdout.components(separatedBy: "floats (").count == 2, "\(run.stdout)")
    }

    /// A rank that hangs (stopped with SIGSTOP mid-job) makes the others give up after the
    /// timeout, name it, and end the job with a non-zero status.
    @Test func aHungRankAbortsTheJobNamingIt() throws {
        let timeout = 4.0
        let (run, victim) = try MPIJob.longJob(timeout: timeout)
        defer { run.killAll() }
        let start = Date()
        kill(victim, SIGSTOP)
        // The timeout, the grace period for answers (2 s at this timeout) and Open MPI's teardown.
        let status = run.waitForExit(timeout: timeout + 2 + 30)
        let elapsed = Date().timeIntervalSince(start)
        #expect(status != nil && status != 0, "exit \(String(describing: status)) after \(elapsed) s:\n\(run.output)")
        #expect(elapsed >= timeout, "aborted after \(elapsed) s, before the \(timeout) s timeout")
        #expect(run.stderr.contains("Rank 1 did not answer"), "\(run.stderr)")
        #expect(run.stderr.contains("rank 0 ("), "the message names the rank that reports it:\n\(run.stderr)")
    }

    /// A rank that dies (SIGKILL) ends the job with a non-zero status and a message naming it,
    /// well within the timeout (the launcher notices the death; the timeout is the backstop).
    @Test func aKilledRankEndsTheJobNamingIt() throws {
        let timeout = 30.0
        let (run, victim) = try MPIJob.longJob(timeout: timeout)
        defer { run.killAll() }
        let start = Date()
        kill(victim, SIGKILL)
        let status = run.waitForExit(timeout: timeout + 30)
        let elapsed = Date().timeIntervalSince(start)
        #expect(status != nil && status != 0, "exit \(String(describing: status)):\n\(run.output)")
        #expect(elapsed < timeout + 2 + 10, "took \(elapsed) s")
        #expect(run.output.contains("rank 1") || run.output.contains("Rank 1"), "\(run.output)")
    }

    /// Started by mpirun, but the MPI library cannot be loaded: every rank stops at once with the
    /// reason (no rank waits for the others), and the job fails.
    @Test func aMissingLibraryUnderMpirunFailsFast() throws {
        let run = try MPIJob(processes: 2, ["bench", "allreduce", "--count", "10"],
                             environment: ["ULMFIT_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        let status = run.waitForExit(timeout: 60)
        #expect(status != nil && status != 0, "\(run.output)")
        #expect(run.stderr.contains("/nonexistent/libmpi.so.40 could not be loaded"), "\(run.stderr)")
    }

    /// Without a launcher the same binary runs alone and says so with --verbose (a plain run's
    /// log does not mention MPI).
    @Test func withoutALauncherOneProcess() throws {
        let run = try MPIJob(processes: nil, ["bench", "allreduce", "--count", "10", "--verbose"])
        #expect(run.waitForExit(timeout: 60) == 0, "\(run.output)")
        #expect(run.stderr.contains("transport: shared memory only (1 process, not started by mpirun or srun)"), "\(run.stderr)")
        let plain = try MPIJob(processes: nil, ["bench", "allreduce", "--count", "10"])
        #expect(plain.waitForExit(timeout: 60) == 0, "\(plain.output)")
        #expect(!plain.stderr.contains("transport:"), "\(plain.stderr)")
    }
}
