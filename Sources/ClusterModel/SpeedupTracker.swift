/// Measures cluster throughput at each number of running workers as it changes, for the speedup
/// panel. Fed one snapshot at a time; pure, so tests drive it with made-up snapshots.
public struct SpeedupTracker: Equatable, Sendable, Codable {
    /// Throughput measured with `workers` full-speed workers running.
    public struct Point: Equatable, Sendable, Codable {
        public let workers: Int
        public var throughput: Double
        public var samples: Int
        /// Snapshot times of the first and the latest sample that counted.
        public var firstSample: Double
        public var lastSample: Double
        /// How long this count has been measured for.
        public var seconds: Double { lastSample - firstSample }
    }

    /// Seconds a worker count must hold before its throughput counts: the rate is averaged over
    /// about a second, so earlier samples still mix in the previous count.
    public static let settleSeconds = 1.5
    /// Later samples weigh at least this much, so a count revisited later shows the new rate.
    static let minimumWeight = 0.05

    /// A worker count and when it began to hold.
    struct Steady: Equatable, Sendable, Codable {
        let workers: Int
        let since: Double
    }

    public private(set) var points: [Int: Point] = [:]
    private var steady: Steady?

    public init() {}

    /// Forgets every point: a new measurement starts.
    public mutating func reset() { self = SpeedupTracker() }

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
        var point = points[workers]
            ?? Point(workers: workers, throughput: 0, samples: 0, firstSample: snapshot.time, lastSample: snapshot.time)
        point.samples += 1
        point.lastSample = snapshot.time
        let weight = max(1 / Double(point.samples), Self.minimumWeight)
        point.throughput += (snapshot.throughput - point.throughput) * weight
        points[workers] = point
    }

    /// Points by worker count.
    public var sortedPoints: [Point] { points.values.sorted { $0.workers < $1.workers } }

    /// One worker's throughput, the base of every speedup: only ever measured, never assumed.
    public var baseThroughput: Double? { points[1]?.throughput }
}

/// Measures the speedup curve for a presenter: 1, 2, … `upTo` full-speed workers in turn, each
/// held until the tracker has measured it for `secondsPerCount`. Pure: the caller applies
/// `wanted` to the cluster and feeds the tracker.
public struct SpeedupMeasurement: Equatable, Sendable {
    public static let secondsPerCount = 1.0
    public let counts: [Int]
    public private(set) var index = 0

    public init(upTo: Int) { counts = Array(1...max(1, upTo)) }

    /// The number of workers to run now; nil once every count has been measured.
    public var wanted: Int? { index < counts.count ? counts[index] : nil }

    /// Moves past the counts the tracker has measured long enough; true if it moved.
    @discardableResult
    public mutating func advance(_ tracker: SpeedupTracker) -> Bool {
        let before = index
        while let n = wanted, let point = tracker.points[n], point.seconds >= Self.secondsPerCount { index += 1 }
        return index != before
    }
}
