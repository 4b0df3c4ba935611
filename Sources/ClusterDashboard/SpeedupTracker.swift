import ClusterEngine

/// Measures cluster throughput at each number of running workers as the user changes it, for the
/// speedup panel. Fed one snapshot per frame; pure, so tests drive it with made-up snapshots.
public struct SpeedupTracker: Equatable, Sendable {
    /// Throughput measured with `workers` full-speed workers running.
    public struct Point: Equatable, Sendable {
        public let workers: Int
        public var throughput: Double
        public var samples: Int
    }

    /// Seconds a worker count must hold before its throughput counts: the rate is averaged over
    /// about a second, so earlier samples still mix in the previous count.
    public static let settleSeconds = 1.5
    /// Later samples weigh at least this much, so a count revisited later shows the new rate.
    static let minimumWeight = 0.05

    /// A worker count and when it began to hold.
    struct Steady: Equatable, Sendable {
        let workers: Int
        let since: Double
    }

    public private(set) var points: [Int: Point] = [:]
    private var steady: Steady?

    public init() {}

    /// Workers that count: running at full speed. A throttled or paused worker makes the sample
    /// say nothing clean about scaling, so such frames are skipped.
    static func runningWorkers(_ snapshot: ClusterSnapshot) -> Int? {
        guard let job = snapshot.job, job.status == .running else { return nil }
        var running = 0
        for worker in snapshot.workers where worker.state == .running {
            if worker.speed < 1 { return nil }
            running += 1
        }
        return running > 0 ? running : nil
    }

    public mutating func record(_ snapshot: ClusterSnapshot) {
        guard let workers = Self.runningWorkers(snapshot) else {
            steady = nil
            return
        }
        guard let current = steady, current.workers == workers else {
            steady = Steady(workers: workers, since: snapshot.time)
            return
        }
        guard snapshot.time - current.since >= Self.settleSeconds, snapshot.throughput > 0 else { return }
        var point = points[workers] ?? Point(workers: workers, throughput: 0, samples: 0)
        point.samples += 1
        let weight = max(1 / Double(point.samples), Self.minimumWeight)
        point.throughput += (snapshot.throughput - point.throughput) * weight
        points[workers] = point
    }

    /// Points by worker count.
    public var sortedPoints: [Point] { points.values.sorted { $0.workers < $1.workers } }

    /// One worker's throughput, the base of the ideal line: measured at 1 worker if possible,
    /// else the best per-worker rate seen.
    public var baseThroughput: Double? {
        if let one = points[1] { return one.throughput }
        return points.values.map { $0.throughput / Double($0.workers) }.max()
    }
}
