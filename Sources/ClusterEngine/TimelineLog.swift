import ClusterModel
import DequeModule

/// An attempt as the engine keeps it: raw values copied under the lock once per chunk, turned
/// into a `TimelineSegment` only when someone looks.
struct TimelineEntry {
    let attempt: CurrentAttempt
    let worker: WorkerID
    let outcome: TimelineSegment.Outcome
    /// Nil while in flight.
    let endNanos: UInt64?

    /// The segment, with times in seconds since `clusterStart`.
    func segment(since clusterStart: UInt64) -> TimelineSegment {
        func seconds(_ nanos: UInt64) -> Double { Double(nanos &- clusterStart) / 1e9 }
        return TimelineSegment(worker: worker, job: attempt.job, chunk: attempt.chunk, chunkCount: attempt.chunkCount,
                               attempt: attempt.attempt,
                               elements: attempt.elements, start: seconds(attempt.startNanos),
                               end: endNanos.map(seconds), outcome: outcome, origin: attempt.origin,
                               wasSplit: attempt.wasSplit)
    }
}

/// Finished attempts, bounded: the oldest fall off once `capacity` is reached.
struct TimelineLog {
    private(set) var entries: Deque<TimelineEntry> = []
    let capacity: Int
    /// When the last attempt that fell off ended: every attempt that ended later is kept, so
    /// the log is complete from then on.
    private(set) var completeFromNanos: UInt64?

    init(capacity: Int) { self.capacity = capacity }

    mutating func append(_ entry: TimelineEntry) {
        guard capacity > 0 else { return }
        if entries.count == capacity {
            let dropped = entries.removeFirst()
            completeFromNanos = max(completeFromNanos ?? 0, dropped.endNanos ?? 0)
        }
        entries.append(entry)
    }
}
