/// How often a worker process must be heard from, and how long the coordinator waits.
public struct RemoteTiming: Sendable, Equatable {
    /// Workers send a heartbeat this often.
    public var heartbeat: Duration
    /// A worker silent for this long loses its chunks.
    public var lease: Duration
    /// A connection must say Hello within this time.
    public var helloTimeout: Duration = .seconds(5)

    public init(lease: Duration = .seconds(1)) {
        self.lease = lease
        // Ten heartbeats per lease: one late or lost heartbeat never costs a chunk.
        heartbeat = max(.milliseconds(20), lease / 10)
    }

    /// The lease of a worker process that runs at `nice`: longer the nicer it is, up to 5.75×
    /// at nice 19. Such a process yields the CPU to everything else on its machine on purpose,
    /// its heartbeats included, and it cannot take that back (raising a thread's priority needs
    /// privileges): measured with the cores kept busy, a nice-19 worker's messages arrived up to
    /// 1.9 s apart, against 0.1 s when it is not starved.
    public func lease(forNice nice: Int32) -> Duration {
        guard nice > 0 else { return lease }
        return lease * (1 + Double(min(nice, 19)) / 4)
    }
}
