import Parallel

extension RunConfig {
    /// The worker pool of `layout:` on this machine, for commands that only need workers
    /// (`predict`, `scan`); an impossible layout names the key at fault.
    public func makeWorkerPool() throws -> WorkerPool {
        let (topology, layout) = try JobChecks.planLayout(self)
        return try WorkerPool(layout: layout, topology: topology)
    }
}
