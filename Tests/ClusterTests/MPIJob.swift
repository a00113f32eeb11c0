import Foundation
import Testing

/// A job of several `ulmfit` processes started by Open MPI's mpirun, for the multi-process tests:
/// its output, its exit, and its ranks' process ids (to stop or kill one).
final class MPIJob: @unchecked Sendable {
    /// Whether the multi-process tests run: mpirun is installed, or `ULMFIT_MPI_TESTS=1` (set by
    /// scripts/test.sh after installing Open MPI) or `CI=1` (set by .ci/run) says it must be, so
    /// that a CI machine where the installation failed fails these tests instead of skipping them.
    static let enabled = mpirun != nil || ProcessInfo.processInfo.environment["ULMFIT_MPI_TESTS"] == "1"
        || ProcessInfo.processInfo.environment["CI"] == "1"
    static let skipReason: Comment = "needs Open MPI's mpirun (apt-get install openmpi-bin libopenmpi-dev; scripts/test.sh installs it)"

    static let mpirun = tool("mpirun")

    /// An executable found on PATH.
    static func tool(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The `ulmfit` built beside the test bundle (`swift build --build-tests` builds both).
    static var ulmfit: String {
        get throws {
            let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let path = directory.appendingPathComponent("ulmfit").path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw JobError("no ulmfit beside the tests at \(path): build with `swift build --build-tests`")
            }
            return path
        }
    }

    struct JobError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    let process = Process()
    private let lock = NSLock()
    private var stdoutText = "", stderrText = ""

    /// Starts `mpirun -np N ulmfit ARGS` (or `ulmfit ARGS` alone with `processes` nil), with
    /// Open MPI's binding off (the workers bind themselves) and run-as-root allowed.
    init(processes: Int?, _ arguments: [String], environment: [String: String] = [:]) throws {
        let ulmfit = try MPIJob.ulmfit
        if let processes {
            guard let mpirun = MPIJob.mpirun else { throw JobError("mpirun not found on PATH: install openmpi-bin") }
            process.executableURL = URL(fileURLWithPath: mpirun)
            // vader's single-copy mechanism needs ptrace rights that containers often lack.
            process.arguments = (getuid() == 0 ? ["--allow-run-as-root"] : [])
                + ["--oversubscribe", "--bind-to", "none", "--mca", "btl_vader_single_copy_mechanism", "none",
                   "-np", "\(processes)", ulmfit] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: ulmfit)
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle.availableData, error: false) }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle.availableData, error: true) }
        try process.run()
    }

    private func append(_ data: Data, error: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if error { stderrText += String(decoding: data, as: UTF8.self) } else { stdoutText += String(decoding: data, as: UTF8.self) }
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return stdoutText }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return stderrText }
    var output: String { stdout + stderr }

    /// Waits until stdout contains `text`; false after `timeout` seconds or if the job ended first.
    func waitForOutput(_ text: String, timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if stdout.contains(text) { return true }
            if !process.isRunning { return stdout.contains(text) }
            usleep(50_000)
        }
        return false
    }

    /// The exit status, or nil if the job still runs after `timeout` seconds (then it is killed).
    func waitForExit(timeout: Double) -> Int32? {
        let end = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < end { usleep(50_000) }
        guard !process.isRunning else {
            killAll()
            return nil
        }
        usleep(200_000)   // let the pipes drain
        return process.terminationStatus
    }

    /// The process id of rank `rank`: a descendant of mpirun whose environment says so.
    func pid(ofRank rank: Int) -> pid_t? {
        descendants().first { pid in
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environ.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "OMPI_COMM_WORLD_RANK=\(rank)" }
        }
    }

    /// Every process below mpirun (from /proc: parent ids).
    private func descendants() -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var parent: [pid_t: pid_t] = [:]
        for entry in entries {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let ppid = pid_t(fields[1]) { parent[pid] = ppid }
        }
        let root = process.processIdentifier
        return parent.keys.filter { pid in
            var p = parent[pid]
            while let q = p, q > 1 {
                if q == root { return true }
                p = parent[q]
            }
            return false
        }.sorted()
    }

    /// Runs `executable` to its end; returns its status and its output (stdout and stderr).
    static func capture(_ executable: String, _ arguments: [String],
                        environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A 2-process `bench allreduce` that runs until stopped, once it is past its third repeat,
    /// and the process id of its rank 1.
    static func longJob(timeout: Double) throws -> (job: MPIJob, rank1: pid_t) {
        let job = try MPIJob(processes: 2, ["bench", "allreduce", "--count", "1000", "--warmup", "0",
                                            "--repeats", "1000000", "--mpi-timeout", "\(timeout)"])
        guard job.waitForOutput("repeat 3:", timeout: 60) else {
            job.killAll()
            throw JobError("the job did not get going:\n\(job.output)")
        }
        guard let rank1 = job.pid(ofRank: 1) else {
            job.killAll()
            throw JobError("no process of rank 1 below mpirun")
        }
        return (job, rank1)
    }

    /// Ends the job and everything it started (cleanup after a failed expectation).
    func killAll() {
        for pid in descendants() { kill(pid, SIGKILL) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
