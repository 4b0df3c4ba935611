import DequeModule

/// Turns monotonic "elements processed" counters into recent rates and a throughput history.
struct RateSampler {
    fileprivate struct Sample {
        let nanos: UInt64
        /// Whose counter each entry is: a row freed and taken by another worker starts afresh.
        let ids: [WorkerID]
        let perWorker: [UInt64]
    }

    private var samples: Deque<Sample> = []
    private(set) var history: [Double] = []
    private var lastHistoryNanos: UInt64 = 0
    let window: UInt64
    let historyInterval: UInt64
    let historyLength: Int

    init(configuration: ClusterConfiguration) {
        window = UInt64(configuration.rateWindow * 1e9)
        historyInterval = UInt64(configuration.historyInterval * 1e9)
        historyLength = configuration.historyLength
    }

    /// Records the counters at `nanos` and returns each worker's rate and the cluster's rate,
    /// in elements per second, over roughly the last `window`.
    /// Also says, per worker, whether its rate spans a whole window: it was there, and had summed,
    /// when the window began.
    mutating func record(nanos: UInt64, ids: [WorkerID], perWorker: [UInt64]) -> (perWorker: [Double], total: Double, whole: [Bool]) {
        // Keep one sample at or beyond the window's start as the baseline.
        while samples.count >= 2, nanos - samples[samples.startIndex + 1].nanos >= window {
            samples.removeFirst()
        }
        let rates: [Double]
        var whole = Array(repeating: false, count: perWorker.count)
        if let base = samples.first, nanos > base.nanos {
            if nanos - base.nanos >= window * 9 / 10 {
                for i in perWorker.indices where base.holds(ids[i], at: i) && base.perWorker[i] > 0 { whole[i] = true }
            }
            let seconds = Double(nanos - base.nanos) / 1e9
            rates = perWorker.indices.map { i in
                let before = base.holds(ids[i], at: i) ? base.perWorker[i] : 0
                return Double(perWorker[i] &- before) / seconds
            }
        } else {
            rates = Array(repeating: 0, count: perWorker.count)
        }
        // Thin out samples taken in quick succession; 20 per window is plenty.
        if samples.last.map({ nanos - $0.nanos >= window / 20 }) ?? true {
            samples.append(Sample(nanos: nanos, ids: ids, perWorker: perWorker))
        }
        let total = rates.reduce(0, +)
        if nanos - lastHistoryNanos >= historyInterval {
            lastHistoryNanos = nanos
            history.append(total)
            if history.count > historyLength { history.removeFirst(history.count - historyLength) }
        }
        return (rates, total, whole)
    }
}

extension RateSampler.Sample {
    /// Whether entry `i` is `id`'s counter.
    fileprivate func holds(_ id: WorkerID, at i: Int) -> Bool { i < ids.count && ids[i] == id }
}
