import Dispatch
import Foundation
import Synchronization

/// The compute cluster: worker threads that sum chunks of queued jobs, and a control API that any
/// thread may call at any time.
///
/// The engine never waits for its observers: `snapshot()` copies a little state under the same
/// short lock the workers take once per chunk, and per-element work touches no shared memory.
/// Call `shutdown()` when done; worker threads keep the cluster alive until then.
public final class Cluster: Sendable {
    public let configuration: ClusterConfiguration
    let state: Mutex<EngineState>
    let rates: Mutex<RateSampler>
    let stragglers = Mutex(StragglerWatch())
    /// Whoever observes round trips (`observeRoundTrips`).
    let roundTripObserver = Mutex<(@Sendable (Double) -> Void)?>(nil)
    private let threads = DispatchGroup()
    /// Looks for attempts that deserve a backup (`EngineState.offerBackups`): a stalled attempt
    /// sends no news, so something must look while nothing happens.
    /// Dispatch sources are thread-safe; the type is just not marked Sendable.
    nonisolated(unsafe) private let backupTimer: any DispatchSourceTimer
    /// Samples the workers' counters for their rates, the throughput history and the stragglers
    /// (`sample()`), 20 times per rate window, whether anyone looks or not.
    nonisolated(unsafe) private let samplingTimer: any DispatchSourceTimer

    public init(configuration: ClusterConfiguration = ClusterConfiguration()) {
        self.configuration = configuration
        state = Mutex(EngineState(configuration: configuration, startNanos: configuration.clock.now()))
        rates = Mutex(RateSampler(configuration: configuration))
        backupTimer = DispatchSource.makeTimerSource(queue: .global(qos: .userInitiated))
        samplingTimer = DispatchSource.makeTimerSource(queue: .global(qos: .userInitiated))
        if configuration.backupWatchSeconds.isFinite, configuration.backupCheckInterval > 0 {
            let interval = DispatchTimeInterval.milliseconds(max(1, Int(configuration.backupCheckInterval * 1000)))
            backupTimer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(20))
            backupTimer.setEventHandler { [weak self] in
                self?.state.withLock { $0.offerBackups(now: configuration.clock.now()) }
            }
        }
        backupTimer.resume()
        let samplingSeconds = configuration.samplingInterval ?? configuration.rateWindow / 20
        if samplingSeconds.isFinite {
            let every = DispatchTimeInterval.milliseconds(max(1, Int(samplingSeconds * 1000)))
            samplingTimer.schedule(deadline: .now(), repeating: every, leeway: .milliseconds(5))
            samplingTimer.setEventHandler { [weak self] in self?.sample() }
        }
        samplingTimer.resume()
    }

    deinit {
        backupTimer.cancel()
        samplingTimer.cancel()
    }

    // MARK: Workers

    /// Starts a new worker thread. Returns nil while `maxWorkers` workers are alive, or while
    /// the table's `maxWorkerRecords` rows are all live or cannot be freed yet.
    @discardableResult
    public func addWorker(speed: Double = 1) -> WorkerID? {
        let added: (cell: WorkerCell, row: Int)? = state.withLock { s in
            guard !s.isShuttingDown, s.canAddWorker(configuration) else { return nil }
            let row = s.addRow({ id in
                WorkerRecord(cell: WorkerCell(id: id), speed: Self.clampedSpeed(speed),
                             queueNanos: max(0, configuration.localClaimAheadSeconds) * 1e9,
                             runNanos: max(0, configuration.localRunSeconds) * 1e9)
            }, maxRows: configuration.maxWorkerRecords)
            let cell = s.workers[row].cell
            s.log(.workerAdded(cell.id))
            return (cell, row)
        }
        guard let (cell, row) = added else { return nil }
        threads.enter()
        let thread = Thread { [self] in
            WorkerLoop(cluster: self, cell: cell, index: row).run()
            threads.leave()
        }
        thread.name = "cluster-\(cell.id.rawValue)"
        thread.start()
        return cell.id
    }

    /// Adds workers, or removes the newest, until `wanted` are live (neither removed nor
    /// leaving). The newest leave first, so the numbers a person or a script uses stay meaningful.
    public func setLiveWorkers(_ wanted: Int) {
        let live = snapshot().workers.filter { $0.state != .removed && !$0.isLeaving }
        if live.count < wanted {
            for _ in live.count..<wanted { addWorker() }
        } else {
            for worker in live.suffix(live.count - wanted) { remove(worker.id) }
        }
    }

    /// Freezes a worker mid-chunk at its next sub-block. False if it cannot be paused.
    @discardableResult public func pause(_ id: WorkerID) -> Bool { control(id) { $0.pause(worker: $1) } }
    @discardableResult public func resume(_ id: WorkerID) -> Bool { control(id) { $0.resume(worker: $1) } }
    /// Simulated crash: the current attempt's work is lost and its chunk re-queued at once.
    @discardableResult public func kill(_ id: WorkerID) -> Bool { control(id) { $0.kill(worker: $1) } }
    /// Brings a dead worker back as idle.
    @discardableResult public func restart(_ id: WorkerID) -> Bool { control(id) { $0.restart(worker: $1) } }
    /// The worker finishes its current chunk, if any, then leaves for good.
    @discardableResult public func remove(_ id: WorkerID) -> Bool { control(id) { $0.remove(worker: $1) } }
    /// Sets a worker's speed factor, clamped to 0.001...1 (1 is full speed).
    @discardableResult
    public func setSpeed(_ id: WorkerID, to speed: Double) -> Bool {
        control(id) { $0.setSpeed(worker: $1, to: Self.clampedSpeed(speed)) }
    }

    /// For a lesson: worker `id`, a thread of this process, hands in forged sums from now on (one
    /// more than the truth), as a lying peer would. Each is caught as it arrives by the check
    /// every remote result gets, refused and redone elsewhere, and the liar is benched for the
    /// job. False for a remote worker: what it sends is its own process's doing.
    @discardableResult public func forgeResults(_ id: WorkerID) -> Bool { control(id) { $0.forgeResults(worker: $1) } }

    private func control(_ id: WorkerID, _ change: (inout EngineState, Int) -> Bool) -> Bool {
        state.withLock { s in
            guard !s.isShuttingDown, let i = s.index(of: id) else { return false }
            return change(&s, i)
        }
    }

    static func clampedSpeed(_ speed: Double) -> Double {
        speed.isNaN ? 1 : min(1, max(0.001, speed))
    }

    // MARK: Jobs

    /// Queues a job; it starts at once if no job is running.
    @discardableResult
    public func submit(_ spec: JobSpec) -> JobID { state.withLock { $0.submit(spec) } }

    /// The summary of a finished job, or nil if it has not finished.
    public func summary(of job: JobID) -> JobSummary? { state.withLock { $0.jobs.summaries[job] } }

    /// Blocks until `job` finishes or `timeout` seconds pass. Nil on timeout.
    public func waitForJob(_ job: JobID, timeout: Double) -> JobSummary? {
        let box = DispatchSemaphoreBox(semaphore: DispatchSemaphore(value: 0))
        let done: JobSummary? = state.withLock { s in
            if let summary = s.jobs.summaries[job] { return summary }
            s.jobs.waiters[job, default: []].append(box)
            return nil
        }
        if let done { return done }
        _ = box.semaphore.wait(timeout: .now() + timeout)
        return summary(of: job)
    }

    // MARK: Observation

    /// Events with a sequence number greater than `sequence`, oldest first.
    public func events(after sequence: UInt64) -> [ClusterEvent] {
        state.withLock { Array($0.events.events(after: sequence)) }
    }

    /// Logs where `--metrics` serves, for the event log.
    public func logMetricsServed(url: String) {
        withState { $0.log(.metricsServed(url: url)) }
    }

    /// The task timeline: the shown job's whole history, and the recent chunk attempts. Copies up
    /// to `timelineCapacity` segments: take it only while the timeline is shown.
    public func timeline() -> TimelineSnapshot {
        let (entries, whole, completeFrom, start, now) = state.withLock { s in
            let now = configuration.clock.now()
            return (s.timelineEntries(), s.jobTimeline(now: now), s.timeline.completeFromNanos, s.startNanos, now)
        }
        func seconds(_ nanos: UInt64) -> Double { Double(nanos &- start) / 1e9 }
        return TimelineSnapshot(now: seconds(now), segments: entries.map { $0.segment(since: start) },
                                whole: whole, jobStart: whole.map { seconds($0.startNanos) },
                                segmentsCompleteFrom: completeFrom.map(seconds) ?? 0)
    }

    /// A consistent copy of the cluster's state, cheap enough to take 60 times a second. Taking
    /// it changes nothing: rates are read from the samples the engine's sampler keeps
    /// (`sample()`), so a snapshot says the same whoever takes it, and however often.
    public func snapshot() -> ClusterSnapshot {
        var processed: [UInt64] = []
        var now: UInt64 = 0
        let partial = state.withLock { s -> PartialSnapshot in
            // Read the clock under the lock so no job can appear to start after "now".
            now = configuration.clock.now()
            processed = s.workers.map { $0.cell.processed.load(ordering: .relaxed) }
            return PartialSnapshot(state: s, now: now)
        }
        let (workerRates, total, history) = rates.withLock { r in
            let (perWorker, total, _) = r.rates(nanos: now, ids: partial.workers.map(\.id), perWorker: processed)
            return (perWorker, total, r.history)
        }
        let lagging = stragglers.withLock { $0.lagging }
        return partial.complete(processed: processed, rates: workerRates, throughput: total,
                                history: history, lagging: lagging)
    }

    // MARK: Shutdown

    /// Stops every worker at its next sub-block and waits up to `timeout` seconds for the threads
    /// to exit. Work in flight is abandoned. Returns false if a thread did not exit in time.
    @discardableResult
    public func shutdown(timeout: Double = 5) -> Bool {
        backupTimer.cancel()
        samplingTimer.cancel()
        state.withLock { s in
            s.isShuttingDown = true
            for record in s.workers { record.cell.poke() }
        }
        return threads.wait(timeout: .now() + timeout) == .success
    }

    /// Waits for every worker thread to have left (after `isShuttingDown`): each leaves at its
    /// next sub-block, and none may touch the rows after they are rebuilt.
    func waitForThreads() { threads.wait() }

    // MARK: For the worker loop

    func withState<T>(_ body: (inout EngineState) -> T) -> T { state.withLock { body(&$0) } }
}

/// The lock-held half of a snapshot: plain copies, finished outside the lock.
private struct PartialSnapshot {
    struct Worker {
        let id: WorkerID, state: WorkerState, isLeaving: Bool, speed: Double
        let current: CurrentAttempt?, progress: Int64, accepted: UInt64, chunksDone: Int
        let remote: RemoteWorkerInfo?, leaseLost: Bool, runningSince: UInt64, benched: BenchReason?
    }
    let time: Double
    let job: JobSnapshot?
    let queuedJobs: Int
    let finishedJobs: Int
    let workers: [Worker]
    let staleResults: Int
    let lastEvent: UInt64
    let journalStopped: Bool
    let totals: ClusterTotals

    init(state s: EngineState, now: UInt64) {
        time = s.seconds(now)
        let running = s.jobs.current?.id
        let workers = s.workers.map { r in
            Worker(id: r.cell.id, state: r.phase.state, isLeaving: r.phase == .leaving, speed: r.speed,
                   current: r.current, progress: r.cell.attemptProgress.load(ordering: .relaxed),
                   accepted: r.elementsAccepted, chunksDone: r.chunksDone, remote: r.remote,
                   leaseLost: r.phase.leaseLost, runningSince: r.runningSinceNanos, benched: r.benchReason(in: running))
        }
        self.workers = workers
        // A backup and its original cover the same elements: only the one further along counts.
        let inFlight = workers.reduce(Int64(0)) { sum, w in
            guard let attempt = w.current else { return sum }
            let done = min(w.progress, attempt.elements.count64)
            guard let twin = attempt.twin else { return sum + done }
            let twinDone = min(workers[twin.worker].progress, attempt.elements.count64)
            // Counted once, by the one further along (the original on a tie).
            return done > twinDone || (done == twinDone && !attempt.origin.isBackup) ? sum + done : sum
        }
        // Distinct chunks: after a split, two workers can hold pieces of one chunk; a backup
        // pair holds one chunk twice. Runs are never split nor backed up: each counts all its chunks.
        var chunksHeld: [Int64] = [], inRuns: Int64 = 0
        for attempt in workers.compactMap(\.current) {
            if attempt.chunkCount > 1 { inRuns += attempt.chunkCount } else { chunksHeld.append(attempt.chunk) }
        }
        if s.jobs.current.map({ !$0.splitRemaining.isEmpty }) ?? false || workers.contains(where: { $0.current?.twin != nil }) {
            chunksHeld = Array(Set(chunksHeld))
        }
        let inFlightChunks = Int64(chunksHeld.count) + inRuns
        job = (s.jobs.current ?? s.jobs.lastFinished).map { j in
            let waits = s.jobAwaitsFirstWorker && j.id == s.jobs.current?.id
            return JobSnapshot(
                id: j.id, spec: j.spec, status: j.status, chunksTotal: j.spec.chunkCount,
                chunksDone: j.chunksDone, chunksInFlight: j.status == .running ? inFlightChunks : 0,
                chunksRequeued: j.chunksRequeued, chunksRedone: j.chunksRedone,
                chunksSplit: j.chunksSplit, chunksStolen: j.chunksStolen,
                elementsCompleted: j.elementsCompleted,
                elementsInFlight: j.status == .running ? inFlight : 0,
                runningTotal: j.total, elapsed: waits ? 0 : Double((j.endNanos ?? now) &- j.startNanos) / 1e9,
                closedForm: j.status.isFinished ? String(j.closedForm) : nil, wrongSums: j.wrongSums,
                waitsForWorkers: waits)
        }
        queuedJobs = s.jobs.queued.count
        finishedJobs = s.jobs.summaries.count
        staleResults = s.jobs.staleResults
        lastEvent = s.events.nextSequence - 1
        journalStopped = s.journalStopped
        totals = s.jobs.totals
    }

    func complete(processed: [UInt64], rates: [Double], throughput: Double, history: [Double],
                  lagging: Set<WorkerID>) -> ClusterSnapshot {
        let workerSnapshots = workers.enumerated().map { i, w in
            WorkerSnapshot(
                id: w.id, state: w.state, isLeaving: w.isLeaving, speed: w.speed,
                assignment: w.current.map {
                    ChunkAssignment(job: $0.job, chunk: $0.chunk, chunkCount: $0.chunkCount, attempt: $0.attempt, elements: $0.elements,
                                    elementsDone: min(w.progress, $0.elements.count64), origin: $0.origin,
                                    wasSplit: $0.wasSplit)
                },
                elementsProcessed: processed[i], elementsAccepted: w.accepted, chunksDone: w.chunksDone,
                throughput: rates[i], remote: w.remote, leaseLost: w.leaseLost, isLagging: lagging.contains(w.id),
                benched: w.benched)
        }
        // Rows in id order, as people number them, whichever rows of the table they hold.
        let ordered = workerSnapshots.indices.dropFirst().allSatisfy { workerSnapshots[$0 - 1].id < workerSnapshots[$0].id }
            ? workerSnapshots : workerSnapshots.sorted { $0.id < $1.id }
        var snapshot = ClusterSnapshot(time: time, job: job, queuedJobs: queuedJobs, finishedJobs: finishedJobs,
                                       workers: ordered, throughput: throughput, throughputHistory: history,
                                       staleResults: staleResults, lastEventSequence: lastEvent, kernel: KernelVariant.active)
        snapshot.journalStopped = journalStopped
        snapshot.totals = totals
        return snapshot
    }
}

extension ClosedRange where Bound == Int64 {
    /// Number of elements; accepted ranges are far from overflowing Int64.
    var count64: Int64 { upperBound - lowerBound + 1 }
}
