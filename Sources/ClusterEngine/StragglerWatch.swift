/// Which workers lag far behind the others: a running worker whose rate over the last second is
/// under half the running workers' median is a straggler until it is back above 70% of it (the
/// gap keeps a worker near the line from flapping). A worker is judged only once it has a full
/// rate window behind it, so one that has just started is not called slow.
///
/// The log hears of it only when who lags changes, and at most once per `reportInterval`: with
/// many workers near the line the set changes all the time, and a line per change buried
/// everything else in the log.
public struct StragglerWatch {
    static let startsBelow = 0.5
    static let endsAbove = 0.7
    /// The least time between two lines on who lags.
    static let reportInterval: UInt64 = 5_000_000_000

    /// Who the log last said lags, and when it said so.
    private(set) var reportedWorkers: Set<WorkerID> = []
    private(set) var reportedHosts: Set<String?> = []
    private var reportedAt: UInt64?
    /// Whether this machine's workers outnumber its cores (said once each time they start to).
    private(set) var outnumbered = false

    private(set) var lagging: Set<WorkerID> = []
    /// Machines that lag, by host name (nil: this one's threads).
    private(set) var laggingHosts: Set<String?> = []

    /// A machine lags when most of its judged threads do (`HostLag.lags`).
    public static func hostLags(threads: Int, lagging: Int) -> Bool { HostLag.lags(threads: threads, lagging: lagging) }

    /// After `update`: given each worker's host and whether it was judged, returns the hosts
    /// that have just started to lag, with how many of their judged threads lag. Needs two
    /// machines at least: one machine has no other to lag behind.
    mutating func updateHosts(_ workers: [(id: WorkerID, host: String?, judged: Bool)])
        -> [(host: String?, lagging: Int, threads: Int)] {
        var counts: [String?: (lagging: Int, threads: Int)] = [:]
        for w in workers where w.judged {
            counts[w.host, default: (0, 0)].threads += 1
            if lagging.contains(w.id) { counts[w.host, default: (0, 0)].lagging += 1 }
        }
        guard counts.count >= 2 else {
            laggingHosts.removeAll()
            return []
        }
        let now = Set(counts.filter { Self.hostLags(threads: $0.value.threads, lagging: $0.value.lagging) }.keys)
        let started = now.subtracting(laggingHosts).map { (host: $0, lagging: counts[$0]!.lagging, threads: counts[$0]!.threads) }
        laggingHosts = now
        return started.sorted { ($0.host ?? "") < ($1.host ?? "") }
    }

    /// Given each worker's id, whether it is running with a full rate window, and its rate,
    /// returns the workers that have just started to lag, with the median they lag behind.
    mutating func update(_ workers: [(id: WorkerID, judged: Bool, rate: Double)]) -> (started: [WorkerID], median: Double) {
        let judged = workers.filter(\.judged)
        guard judged.count >= 2 else {
            lagging.removeAll()
            return ([], 0)
        }
        let rates = judged.map(\.rate).sorted()
        let mid = rates.count / 2
        let median = rates.count % 2 == 1 ? rates[mid] : (rates[mid - 1] + rates[mid]) / 2
        var started: [WorkerID] = []
        var now: Set<WorkerID> = []
        for w in judged {
            if lagging.contains(w.id) {
                if w.rate < median * Self.endsAbove { now.insert(w.id) }
            } else if w.rate < median * Self.startsBelow {
                now.insert(w.id)
                started.append(w.id)
            }
        }
        lagging = now
        return (started, median)
    }

    /// After `update` and `updateHosts`: who lags now, for the log, if that changed since the
    /// log last said (and `reportInterval` has passed since). Machines that lag are named as
    /// machines; `hostOf` says where each lagging worker runs, so their threads are not named
    /// again one by one.
    mutating func report(now: UInt64, hostOf: [WorkerID: String?]) -> (workers: [WorkerID], hosts: [String?])? {
        guard lagging != reportedWorkers || laggingHosts != reportedHosts else { return nil }
        if let at = reportedAt, now &- at < Self.reportInterval { return nil }
        reportedWorkers = lagging
        reportedHosts = laggingHosts
        reportedAt = now
        let workers = lagging.filter { id in hostOf[id].map { !laggingHosts.contains($0) } ?? true }
        return (workers.sorted { $0.rawValue < $1.rawValue }, laggingHosts.sorted { ($0 ?? "") < ($1 ?? "") })
    }

    /// Notes whether this machine's running workers outnumber its cores; true when they have
    /// just started to, for one line in the log.
    mutating func noteOutnumbered(_ now: Bool) -> Bool {
        defer { outnumbered = now }
        return now && !outnumbered
    }
}
