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

    /// Each worker's rate and the cluster's rate, in elements per second, over roughly the last
    /// `window` up to `nanos`, from the samples recorded so far; reads, records nothing.
    /// Also says, per worker, whether its rate spans a whole window: it was there, and had summed,
    /// when the window began.
    func rates(nanos: UInt64, ids: [WorkerID], perWorker: [UInt64]) -> (perWorker: [Double], total: Double, whole: [Bool]) {
        // The baseline: the newest sample at or beyond the window's start, else the oldest.
        var baseIndex = samples.startIndex
        while baseIndex + 1 < samples.endIndex, nanos &- samples[baseIndex + 1].nanos >= window, nanos >= samples[baseIndex + 1].nanos {
            baseIndex += 1
        }
        var whole = Array(repeating: false, count: perWorker.count)
        guard baseIndex < samples.endIndex, nanos > samples[baseIndex].nanos else {
            return (Array(repeating: 0, count: perWorker.count), 0, whole)
        }
        let base = samples[baseIndex]
        if nanos - base.nanos >= window * 9 / 10 {
            for i in perWorker.indices where base.holds(ids[i], at: i) && base.perWorker[i] > 0 { whole[i] = true }
        }
        let seconds = Double(nanos - base.nanos) / 1e9
        let rates = perWorker.indices.map { i in
            let before = base.holds(ids[i], at: i) ? base.perWorker[i] : 0
            return Double(perWorker[i] &- before) / seconds
        }
        return (rates, rates.reduce(0, +), whole)
    }

    /// Records the counters at `nanos` (the engine's sampler does, on its timer) and returns the
    /// rates as of then, as `rates` would; adds to the throughput history every `historyInterval`.
    mutating func record(nanos: UInt64, ids: [WorkerID], perWorker: [UInt64]) -> (perWorker: [Double], total: Double, whole: [Bool]) {
        // Keep one sample at or beyond the window's start as the baseline.
        while samples.count >= 2, nanos - samples[samples.startIndex + 1].nanos >= window {
            samples.removeFirst()
        }
        let measured = rates(nanos: nanos, ids: ids, perWorker: perWorker)
        // Thin out samples taken in quick succession; 20 per window is plenty.
        if samples.last.map({ nanos - $0.nanos >= window / 20 }) ?? true {
            samples.append(Sample(nanos: nanos, ids: ids, perWorker: perWorker))
        }
        if nanos - lastHistoryNanos >= historyInterval {
            lastHistoryNanos = nanos
            history.append(measured.total)
            if history.count > historyLength { history.removeFirst(history.count - historyLength) }
        }
        return measured
    }
}

extension RateSampler.Sample {
    /// Whether entry `i` is `id`'s counter.
    fileprivate func holds(_ id: WorkerID, at i: Int) -> Bool { i < ids.count && ids[i] == id }
}
