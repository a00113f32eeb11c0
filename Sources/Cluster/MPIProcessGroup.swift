import Foundation
import Parallel

/// The processes of a job started by mpirun or srun, talking through Open MPI.
///
/// Every collective is started non-blocking and then polled, so that no call waits forever: a
/// process that waits longer than `timeout` for the others asks every other rank, on a side
/// channel, whether it is alive and where it is, then aborts the whole job (MPI_Abort, exit code
/// 124) with a message naming the ranks that did not answer. A rank that died is usually
/// reported sooner by the launcher itself (mpirun and `srun --kill-on-bad-exit` end the job when
/// a process exits); the timeout is what catches a rank that hangs (stopped, deadlocked,
/// swapping, a dead node whose death the launcher has not noticed).
///
/// MPI calls are made from one thread at a time (worker 0, or the coordinator between steps):
/// MPI_THREAD_SERIALIZED.
public final class MPIProcessGroup: ProcessGroup, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public let transport: String
    /// Seconds one collective may wait for the other processes before the job is aborted.
    public let timeout: Double
    /// Exit code of a job aborted by the timeout (as coreutils' `timeout`).
    public static let timeoutExitCode: Int32 = 124

    private let mpi: MPILibrary
    private let host: String
    /// Collectives started so far; a timeout message names the one that timed out.
    private var sequence = 0
    /// Whether `finish` ran (MPI is finalized: no more calls).
    public private(set) var finished = false
    /// The side channel: a receive for "are you alive?" from any rank, always posted, answered
    /// while this process waits in a collective.
    private let question = UnsafeMutablePointer<Int64>.allocate(capacity: 2)
    private var questionRequest: MPILibrary.Request = nil
    /// Answers being sent, with their buffers.
    private var answers: [(request: MPILibrary.Request, buffer: UnsafeMutablePointer<Int64>)] = []
    private static let questionTag: Int32 = 30_001
    private static let answerTag: Int32 = 30_002

    /// Joins the job: loads Open MPI, initializes it and checks that it sees the job the
    /// launcher described.
    /// - Parameters:
    ///   - launch: the launcher's description of the job (`LaunchEnvironment.detect`).
    ///   - library: the libmpi to load (default: Open MPI's soname, libmpi.so.40, found through the
    ///     loader's paths).
    ///   - timeout: seconds a collective may wait.
    public init(launch: LaunchEnvironment, library: String? = nil, timeout: Double) throws {
        guard timeout > 0 else { throw ClusterError.badTimeout("\(timeout)") }
        mpi = try MPILibrary(name: library ?? MPILibrary.defaultName, launch: launch.description)
        self.timeout = timeout
        // The default non-blocking all-reduce of Open MPI 4.1 (libnbc) is a binomial tree: 2.3x
        // slower than the blocking ring for an 82 MB gradient on 2 local ranks (0.58 vs 0.25 s);
        // its ring matches the blocking call (0.25 s). A value set by the user wins.
        setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "ring", 0)
        var provided: Int32 = 0
        try MPIProcessGroup.check(mpi.initThread(nil, nil, MPILibrary.threadSerialized, &provided), "MPI_Init_thread")
        guard provided >= MPILibrary.threadSerialized else { throw ClusterError.threadSupport(provided: provided) }
        var r: Int32 = 0, n: Int32 = 0
        try MPIProcessGroup.check(mpi.commRank(mpi.commWorld, &r), "MPI_Comm_rank")
        try MPIProcessGroup.check(mpi.commSize(mpi.commWorld, &n), "MPI_Comm_size")
        guard Int(r) == launch.rank, Int(n) == launch.size else {
            throw ClusterError.launchMismatch(launch: launch.description, mpiRank: Int(r), mpiSize: Int(n),
                                              library: mpi.path)
        }
        rank = Int(r)
        size = Int(n)
        host = ProcessInfo.processInfo.hostName
        transport = "MPI: \(mpi.version) (\(mpi.path)), \(size) processes started by \(launch.launcher.rawValue); "
            + "a collective waits at most \(MPIProcessGroup.seconds(timeout)) for the others"
        postQuestion()
    }

    deinit {
        question.deallocate()
    }

    private static func check(_ code: Int32, _ call: String) throws {
        guard code == 0 else { throw ClusterError.mpiFailed(call: call, code: code) }
    }

    // MARK: collectives

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, label: String) {
        sequence += 1
        var requests: [MPILibrary.Request] = []
        // MPI counts are C ints: larger buffers go in chunks (all started before any is awaited).
        var start = 0
        while start < count {
            let n = min(count - start, Int(Int32.max))
            var request: MPILibrary.Request = nil
            call(mpi.iallreduce(MPILibrary.inPlace, buffer + start, Int32(n), mpi.float, mpi.sum, mpi.commWorld, &request),
                 "MPI_Iallreduce", label)
            requests.append(request)
            start += n
        }
        wait(&requests, label: label)
    }

    public func allGather(_ buffer: UnsafeMutablePointer<Float>, counts: [Int], label: String) {
        precondition(counts.count == size, "allGather needs one count per process (\(size)), got \(counts.count)")
        sequence += 1
        let (counts32, displacements) = MPIProcessGroup.layout(counts)
        var request: MPILibrary.Request = nil
        call(mpi.iallgatherv(MPILibrary.inPlace, 0, nil, buffer, counts32, displacements, mpi.float, mpi.commWorld, &request),
             "MPI_Iallgatherv", label)
        var requests = [request]
        wait(&requests, label: label)
    }

    public func allGather(bytes local: [UInt8], label: String) -> [[UInt8]] {
        sequence += 1
        // First every process's length, then the bytes.
        var lengths = [UInt8](repeating: 0, count: 8 * size)
        withUnsafeBytes(of: Int64(local.count).littleEndian) { lengths.replaceSubrange(8 * rank ..< 8 * rank + 8, with: $0) }
        gatherBytes(&lengths, counts: [Int](repeating: 8, count: size), label: label)
        let counts = (0 ..< size).map { r in
            Int(Int64(littleEndian: lengths[8 * r ..< 8 * r + 8].withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }))
        }
        var data = [UInt8](repeating: 0, count: counts.reduce(0, +))
        let offset = counts[..<rank].reduce(0, +)
        data.replaceSubrange(offset ..< offset + local.count, with: local)
        gatherBytes(&data, counts: counts, label: label)
        var start = 0
        return counts.map { n in
            defer { start += n }
            return Array(data[start ..< start + n])
        }
    }

    public func exchange(outgoing: [FloatBlock], incoming: [FloatBlock], label: String) {
        sequence += 1
        var requests: [MPILibrary.Request] = []
        for block in incoming {
            precondition(block.rank != rank && block.count <= Int(Int32.max), "bad incoming block from rank \(block.rank)")
            var request: MPILibrary.Request = nil
            call(mpi.irecv(block.pointer, Int32(block.count), mpi.float, Int32(block.rank), Int32(block.tag), mpi.commWorld,
                           &request), "MPI_Irecv", label)
            requests.append(request)
        }
        for block in outgoing {
            precondition(block.rank != rank && block.count <= Int(Int32.max), "bad outgoing block to rank \(block.rank)")
            var request: MPILibrary.Request = nil
            call(mpi.isend(block.pointer, Int32(block.count), mpi.float, Int32(block.rank), Int32(block.tag), mpi.commWorld,
                           &request), "MPI_Isend", label)
            requests.append(request)
        }
        wait(&requests, label: label)
    }

    /// The end of a successful job: waits (with the timeout) until every process got here, then
    /// finalizes MPI. Without the check-in a rank that hangs would leave the others blocked in
    /// MPI_Finalize, which waits for everyone and has no timeout.
    public func finish() {
        guard !finished else { return }
        _ = allGather(bytes: [], label: "the end of the job")
        finished = true
        var flag: Int32 = 0
        _ = mpi.cancel(&questionRequest)
        while flag == 0 { _ = mpi.testall(1, &questionRequest, &flag, nil) }
        completeAnswers(waitForAll: true)
        _ = mpi.finalize()
    }

    /// Ends the whole job now: prints `message` (prefixed with this rank) on stderr and calls
    /// MPI_Abort, which makes the launcher stop every process and exit with `code`.
    public func abort(message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("rank \(rank) (\(host)): \(message)\n".utf8))
        _ = mpi.abort(mpi.commWorld, code)
        exit(code)   // MPI_Abort does not return; this is in case a broken library does
    }

    // MARK: waiting, with a timeout

    private func call(_ code: Int32, _ function: String, _ label: String) {
        if code != 0 { abort(message: "\(function) failed with code \(code) in \(label)", code: 1) }
    }

    private func gatherBytes(_ data: inout [UInt8], counts: [Int], label: String) {
        let (counts32, displacements) = MPIProcessGroup.layout(counts)
        data.withUnsafeMutableBytes { buffer in
            var request: MPILibrary.Request = nil
            // An empty buffer still needs a valid address for MPI.
            let base = buffer.baseAddress ?? UnsafeMutableRawPointer(question)
            call(mpi.iallgatherv(MPILibrary.inPlace, 0, nil, base, counts32, displacements, mpi.byte, mpi.commWorld, &request),
                 "MPI_Iallgatherv", label)
            var requests = [request]
            wait(&requests, label: label)
        }
    }

    private static func layout(_ counts: [Int]) -> (counts: [Int32], displacements: [Int32]) {
        var displacements: [Int32] = [], start = 0
        for n in counts {
            precondition(start + n <= Int(Int32.max), "allGather of \(counts.reduce(0, +)) elements exceeds MPI's int counts")
            displacements.append(Int32(start))
            start += n
        }
        return (counts.map { Int32($0) }, displacements)
    }

    /// Polls `requests` until all are complete, answering other ranks' questions meanwhile; past
    /// the timeout, diagnoses and aborts the job.
    private func wait(_ requests: inout [MPILibrary.Request], label: String) {
        let deadline = MPIProcessGroup.now() + timeout
        var flag: Int32 = 0
        while true {
            _ = requests.withUnsafeMutableBufferPointer { mpi.testall(Int32($0.count), $0.baseAddress!, &flag, nil) }
            if flag != 0 { return }
            answerQuestions()
            if MPIProcessGroup.now() >= deadline { timedOut(label) }
            // Let another process's worker have the core on an oversubscribed node; a thread that
            // has its own core comes straight back.
            sched_yield()
        }
    }

    /// Answers a pending "are you alive?" with this rank's collective number, and posts the next receive.
    private func answerQuestions() {
        var flag: Int32 = 0
        _ = mpi.testall(1, &questionRequest, &flag, nil)
        if flag != 0 {
            let asker = Int32(truncatingIfNeeded: question[0])
            let buffer = UnsafeMutablePointer<Int64>.allocate(capacity: 2)
            buffer[0] = Int64(rank)
            buffer[1] = Int64(sequence)
            var request: MPILibrary.Request = nil
            _ = mpi.isend(buffer, 16, mpi.byte, asker, MPIProcessGroup.answerTag, mpi.commWorld, &request)
            answers.append((request, buffer))
            postQuestion()
        }
        completeAnswers(waitForAll: false)
    }

    private func postQuestion() {
        _ = mpi.irecv(question, 16, mpi.byte, MPILibrary.anySource, MPIProcessGroup.questionTag, mpi.commWorld,
                      &questionRequest)
    }

    private func completeAnswers(waitForAll: Bool) {
        var i = 0
        while i < answers.count {
            var flag: Int32 = 0
            repeat {
                _ = mpi.testall(1, &answers[i].request, &flag, nil)
            } while waitForAll && flag == 0
            if flag != 0 {
                answers[i].buffer.deallocate()
                answers.remove(at: i)
            } else {
                i += 1
            }
        }
    }

    /// Asks every other rank whether it is alive, waits a grace period for the answers, names
    /// the ranks that did not answer and aborts the job.
    private func timedOut(_ label: String) -> Never {
        let grace = min(10, max(2, timeout / 2))
        let others = (0 ..< size).filter { $0 != rank }
        let outgoing = UnsafeMutablePointer<Int64>.allocate(capacity: 2)
        outgoing[0] = Int64(rank)
        outgoing[1] = Int64(sequence)
        let replies = UnsafeMutablePointer<Int64>.allocate(capacity: 2 * size)
        replies.initialize(repeating: -1, count: 2 * size)
        var sends: [MPILibrary.Request] = [], receives = [MPILibrary.Request](repeating: nil, count: size)
        for q in others {
            var request: MPILibrary.Request = nil
            _ = mpi.isend(outgoing, 16, mpi.byte, Int32(q), MPIProcessGroup.questionTag, mpi.commWorld, &request)
            sends.append(request)
            _ = mpi.irecv(replies + 2 * q, 16, mpi.byte, Int32(q), MPIProcessGroup.answerTag, mpi.commWorld, &receives[q])
        }
        let end = MPIProcessGroup.now() + grace
        var answered = Set<Int>()
        while answered.count < others.count && MPIProcessGroup.now() < end {
            for q in others where !answered.contains(q) {
                var flag: Int32 = 0
                _ = mpi.testall(1, &receives[q], &flag, nil)
                if flag != 0 { answered.insert(q) }
            }
            answerQuestions()
            sched_yield()
        }
        let silent = others.filter { !answered.contains($0) }
        let elsewhere = others.filter { answered.contains($0) && replies[2 * $0 + 1] != Int64(sequence) }
        var message = "\(label) (collective #\(sequence)) waited \(MPIProcessGroup.seconds(timeout)) for the other processes. "
        if !silent.isEmpty {
            message += (silent.count == 1 ? "Rank \(silent[0]) did" : "Ranks \(silent.map(String.init).joined(separator: ", ")) did")
                + " not answer within \(MPIProcessGroup.seconds(grace)): dead, hung, or busy for longer than the timeout. "
        } else if !elsewhere.isEmpty {
            message += "Every rank answered, but " + elsewhere.map { "rank \($0) is at collective #\(replies[2 * $0 + 1])" }
                .joined(separator: ", ") + ": the ranks disagree on the sequence of operations. "
        } else {
            message += "Every rank answered from the same collective: the transport itself is stuck or too slow "
                + "(raise --mpi-timeout for very large messages on a slow network). "
        }
        message += "Aborting the job (checkpoints already written stay usable)."
        abort(message: message, code: MPIProcessGroup.timeoutExitCode)
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    private static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }
}
