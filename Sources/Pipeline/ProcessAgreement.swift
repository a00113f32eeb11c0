import Parallel

// Decisions a run takes between steps that every process of a job must take alike: a process
// that stopped, or checkpointed, alone would leave the others waiting in the next exchange.
// Each is one small exchange per step with several processes, nothing with one.

/// The signal that stops a run after `stepsDone` steps: a signal may reach the processes at
/// different times (mpirun and srun forward it to each); the first rank's that has one wins.
func agreedStopSignal(_ stop: StopRequest?, stepsDone: Int, group: ProcessGroup) -> Int32? {
    let local = stop?.signal(stepsDone: stepsDone)
    guard group.size > 1 else { return local }
    let all = group.allGather([Double(local ?? 0)], label: "the stop check after step \(stepsDone)")
    return all.lazy.map { Int32($0[0]) }.first { $0 != 0 }
}

/// Rank 0's `decision` (e.g. a checkpoint due by the clock, which differs per process).
func rankZeroDecides(_ decision: Bool, group: ProcessGroup, label: String) -> Bool {
    guard group.size > 1 else { return decision }
    return group.allGather([decision ? 1 : 0], label: label)[0] == [1]
}
