/// The words between the engine and a worker, whichever transport carries them: a local thread
/// gets them from a function call, a remote thread as the wire messages of the same names
/// (Assign, Check, Proceed, Hold, Abandon, Release).

/// What a worker does next, after handing in its last attempt.
public enum WorkerStep: Sendable, Equatable {
    /// Append these attempts to the worker's queue, in order: the one, then `then` (the first
    /// becomes current if it had none). A local thread gets exactly one and `then` is empty, so
    /// a step allocates nothing: it runs once per chunk.
    case run(AttemptTask, then: [AttemptTask])
    /// Nothing to do now; the worker is woken when that changes.
    case wait
    /// The worker is removed or the cluster is shutting down: leave (a remote thread is released).
    case exit

    /// Every attempt a `run` appends, in order; none otherwise.
    public var tasks: [AttemptTask] {
        if case let .run(first, then) = self { [first] + then } else { [] }
    }
}

/// A chunk attempt handed to a worker.
public struct AttemptTask: Sendable, Equatable {
    public let attempt: AttemptID
    public let chunk: Int64
    public let elements: ClosedRange<Int64>
    public let speed: Double
}

/// The answer to a worker that stopped between sub-blocks to check in.
public enum CheckInAnswer: Sendable, Equatable {
    /// Go on to `last` (a split may have moved it, never before the worker's position) at `speed`.
    case proceed(last: Int64, speed: Double)
    /// Paused: stay stopped where you are.
    case hold
    /// The attempt is no longer yours: abandon it, without a result.
    case abandon
}

extension Cluster {
    /// Hands in `finished`, if any, and says what worker `id` does next, in one lock.
    public func step(_ id: WorkerID, finished: (attempt: AttemptID, sum: UInt128)? = nil) -> WorkerStep {
        step(id, finished: finished.map { [$0] } ?? [], processed: nil)
    }

    /// Hands in `finished`, in the order worker `id` finished them (a remote thread's results
    /// arrive several to a message), and says what it does next, in one lock. `processed`, if
    /// given, is its count of elements ever summed.
    public func step(_ id: WorkerID, finished: [(attempt: AttemptID, sum: UInt128)], processed: UInt64?) -> WorkerStep {
        withState { s in
            guard let i = s.index(of: id) else { return .exit }
            return s.handInAndStep(worker: i, finished: finished, processed: processed)
        }
    }

    /// Worker `id` stopped between sub-blocks of `attempt` at `position`, with `sum` of the
    /// attempt's elements before it: what it does now.
    public func checkIn(_ id: WorkerID, attempt: AttemptID, position: Int64, sum: UInt128) -> CheckInAnswer {
        withState { s in
            guard let i = s.index(of: id) else { return .abandon }
            return s.checkIn(worker: i, attempt: attempt, position: position, sum: sum)
        }
    }
}

extension EngineState {
    /// `Cluster.step`, under the lock: hands in what arrived, then says what worker `i` does next.
    mutating func handInAndStep(worker i: Int, finished: [(attempt: AttemptID, sum: UInt128)], processed: UInt64?) -> WorkerStep {
        if let processed { workers[i].cell.processed.store(processed, ordering: .relaxed) }
        let now = clock.now()
        handIn(worker: i, arrived: finished, now: now)
        // The hand-in may have started the next job (at a clock read of its own, later): what
        // the worker is given of it starts no earlier than it.
        return step(worker: i, now: max(now, jobs.current?.startNanos ?? now))
    }
}
