/// Which workers lag far behind the others: a running worker whose rate over the last second is
/// under half the running workers' median is a straggler until it is back above 70% of it (the
/// gap keeps a worker near the line from flapping). A worker is judged only once it has a full
/// rate window behind it, so one that has just started is not called slow.
struct StragglerWatch {
    static let startsBelow = 0.5
    static let endsAbove = 0.7

    private(set) var lagging: Set<WorkerID> = []

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
}
