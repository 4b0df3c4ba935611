import Synchronization

/// The engine's sampler: what is measured over time rather than read at one instant.
extension Cluster {
    /// Records every worker's counter for the rates, adds to the throughput history, and judges
    /// stragglers, logging when the set of laggards changes. The engine's timer calls it 20 times
    /// per rate window; tests may call it to sample at a moment of their choosing.
    public func sample() {
        var processed: [UInt64] = []
        var now: UInt64 = 0
        let workers = state.withLock { s -> [SampledWorker] in
            now = configuration.clock.now()
            processed = s.workers.map { $0.cell.processed.load(ordering: .relaxed) }
            return s.workers.map {
                SampledWorker(id: $0.cell.id, running: $0.phase.state == .running, host: $0.remote?.host,
                              runningSince: $0.runningSinceNanos)
            }
        }
        let (workerRates, _, whole) = rates.withLock { $0.record(nanos: now, ids: workers.map(\.id), perWorker: processed) }
        // Stragglers: judged among the workers running now, each on a whole window's rate, and
        // only once it has run that whole window (just resumed, its window holds the pause).
        // This machine's workers are not judged while they outnumber its cores: they take turns.
        let window = UInt64(max(0, configuration.rateWindow) * 1e9)
        let localRunning = workers.reduce(0) { $0 + ($1.host == nil && $1.running ? 1 : 0) }
        let outnumber = localRunning > configuration.cores
        let judged = workers.indices.map { i in
            let worker = workers[i]
            return (id: worker.id, judged: worker.running && whole[i] && now &- worker.runningSince >= window
                        && !(outnumber && worker.host == nil),
                    rate: workerRates[i])
        }
        let hosts = workers.indices.map { (id: judged[$0].id, host: workers[$0].host, judged: judged[$0].judged) }
        let (median, report, startedToOutnumber) = stragglers.withLock { watch in
            let (_, median) = watch.update(judged)
            _ = watch.updateHosts(hosts)
            let laggingNow = watch.lagging
            let hostOf = Dictionary(uniqueKeysWithValues: hosts.filter { laggingNow.contains($0.id) }.map { ($0.id, $0.host) })
            return (median, watch.report(now: now, hostOf: hostOf), watch.noteOutnumbered(outnumber))
        }
        guard report != nil || startedToOutnumber else { return }
        let running = judged.reduce(0) { $0 + ($1.judged ? 1 : 0) }
        state.withLock { s in
            if startedToOutnumber { s.log(.workersOutnumberCores(workers: localRunning, cores: configuration.cores), now: now) }
            if let report {
                s.log(.laggardsChanged(workers: report.workers, hosts: report.hosts, median: median, running: running), now: now)
            }
        }
    }
}

/// What the sampler reads of a worker under the lock.
private struct SampledWorker {
    let id: WorkerID
    let running: Bool
    let host: String?
    let runningSince: UInt64
}
