/// Every attempt that ends, kept for a trace (`--trace`) while tracing is on: the bounded
/// timeline keeps only the recent ones, a trace wants the whole run. The engine appends a plain
/// copy under its lock; the trace's writer takes them in batches and does the I/O.

/// One finished attempt, as a trace shows it.
public struct TracedAttempt: Sendable, Equatable {
    public let worker: WorkerID
    /// The machine it ran on: nil for this one.
    public let host: String?
    public let job: JobID
    /// The first chunk it covered.
    public let chunk: Int64
    /// Whole chunks it covered from `chunk` on: more than 1 for a run.
    public let chunkCount: Int64
    public let attempt: AttemptID
    public let elements: ClosedRange<Int64>
    /// Seconds since the cluster started.
    public let start: Double
    public let end: Double
    public let outcome: TimelineSegment.Outcome
    public let origin: AttemptOrigin
    public let wasSplit: Bool
}

extension Cluster {
    /// Keeps every attempt that ends from now on, until `takeTracedAttempts` takes them.
    public func startTracing() {
        withState { s in if s.traced == nil { s.traced = [] } }
    }

    /// The attempts that ended since the last call, in the order they ended; empty when not
    /// tracing.
    public func takeTracedAttempts() -> [TracedAttempt] {
        let (raw, start) = withState { s -> ([TimelineEntryWithHost], UInt64) in
            guard s.traced != nil else { return ([], s.startNanos) }
            defer { s.traced!.removeAll(keepingCapacity: true) }
            return (s.traced!, s.startNanos)
        }
        func seconds(_ nanos: UInt64) -> Double { Double(nanos &- start) / 1e9 }
        return raw.map { traced in
            let entry = traced.entry, attempt = entry.attempt
            return TracedAttempt(worker: entry.worker, host: traced.host, job: attempt.job, chunk: attempt.chunk,
                                 chunkCount: attempt.chunkCount, attempt: attempt.attempt, elements: attempt.elements, start: seconds(attempt.startNanos),
                                 end: seconds(entry.endNanos ?? attempt.startNanos), outcome: entry.outcome,
                                 origin: attempt.origin, wasSplit: attempt.wasSplit)
        }
    }
}

/// A finished attempt as the engine keeps it for a trace: raw values, turned into a
/// `TracedAttempt` outside the lock.
struct TimelineEntryWithHost {
    let entry: TimelineEntry
    let host: String?
}
