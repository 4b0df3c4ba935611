import Dispatch
import BigInt
import DequeModule

/// A worker's attempt in progress.
struct CurrentAttempt {
    let job: JobID
    let chunk: Int64
    let attempt: AttemptID
    let elements: ClosedRange<Int64>
    let isRedo: Bool
}

/// Everything the engine knows about one worker, guarded by the engine lock.
struct WorkerRecord {
    let cell: WorkerCell
    var state: WorkerState = .idle
    var isLeaving = false
    var speed: Double = 1
    var current: CurrentAttempt?
    var elementsAccepted: UInt64 = 0
    var chunksDone = 0
}

/// One job from submission to verification.
struct JobRun {
    let id: JobID
    let spec: JobSpec
    let closedForm: BigInt
    var pool: WorkPool?
    var status: JobStatus = .queued
    var chunksDone: Int64 = 0
    var chunksRequeued: Int64 = 0
    var chunksRedone: Int64 = 0
    var elementsCompleted: Int64 = 0
    var total: UInt128 = 0
    /// Set if adding a chunk ever overflowed: only possible with a faulty kernel.
    var overflowed = false
    var startNanos: UInt64 = 0
    var endNanos: UInt64?
    var staleResults = 0
    var acceptedChunks: [Int64]?
}

/// What a worker thread should do next.
enum WorkerStep {
    case run(WorkerTask)
    case wait
    case exit
}

/// A chunk attempt as the worker thread sees it.
struct WorkerTask {
    let attempt: AttemptID
    let elements: ClosedRange<Int64>
    let speed: Double
    let epoch: UInt64
}

/// The engine's mutable state. Every method runs with the engine lock held, is short, and does
/// no I/O; the transitions here are the whole scheduling and fencing logic.
struct EngineState {
    var workers: [WorkerRecord] = []
    var current: JobRun?
    var queued: Deque<JobRun> = []
    var lastFinished: JobRun?
    var summaries: [JobID: JobSummary] = [:]
    var jobWaiters: [JobID: [DispatchSemaphoreBox]] = [:]
    var nextJob = 1
    var nextAttempt: UInt64 = 1
    var staleResults = 0
    var events: EventLog
    var isShuttingDown = false
    let startNanos: UInt64
    let audits: Bool

    init(configuration: ClusterConfiguration, startNanos: UInt64) {
        events = EventLog(capacity: configuration.eventCapacity)
        self.startNanos = startNanos
        audits = configuration.auditsAcceptedChunks
    }

    func seconds(_ nanos: UInt64) -> Double { Double(nanos &- startNanos) / 1e9 }

    mutating func log(_ kind: ClusterEventKind, now: UInt64 = MonotonicClock.nanoseconds()) {
        events.append(kind, at: seconds(now))
    }

    func index(of id: WorkerID) -> Int? {
        let i = id.rawValue - 1
        return workers.indices.contains(i) ? i : nil
    }

    /// Wakes idle workers because new work may be available.
    func wakeIdleWorkers() {
        for record in workers where record.state == .idle { record.cell.wakeup.signal() }
    }

    // MARK: Jobs

    mutating func submit(_ spec: JobSpec) -> JobID {
        let id = JobID(nextJob)
        nextJob += 1
        let job = JobRun(id: id, spec: spec, closedForm: spec.closedFormTotal,
                         acceptedChunks: audits ? [] : nil)
        if current == nil {
            start(job)
        } else {
            queued.append(job)
            log(.jobQueued(id, lo: spec.lo, hi: spec.hi))
        }
        return id
    }

    private mutating func start(_ job: JobRun) {
        var job = job
        let owners = workers.filter { $0.state != .dead && $0.state != .removed && !$0.isLeaving }
            .map(\.cell.id)
        job.pool = WorkPool(chunkCount: job.spec.chunkCount, policy: job.spec.schedule, workers: owners)
        job.status = .running
        job.startNanos = MonotonicClock.nanoseconds()
        current = job
        log(.jobStarted(job.id, lo: job.spec.lo, hi: job.spec.hi), now: job.startNanos)
        wakeIdleWorkers()
    }

    private mutating func finishCurrentJob() {
        guard var job = current else { return }
        let now = MonotonicClock.nanoseconds()
        job.endNanos = now
        let verified = !job.overflowed && BigInt(job.total) == job.closedForm
        job.status = verified ? .verified : .mismatch
        summaries[job.id] = JobSummary(
            id: job.id, spec: job.spec, total: job.total, closedForm: String(job.closedForm),
            verified: verified, elapsed: Double(now - job.startNanos) / 1e9,
            chunksRequeued: job.chunksRequeued, staleResults: job.staleResults,
            acceptedChunks: job.acceptedChunks)
        log(.jobFinished(job.id, verified: verified, total: job.total), now: now)
        lastFinished = job
        current = nil
        for waiter in jobWaiters.removeValue(forKey: job.id) ?? [] { waiter.semaphore.signal() }
        if let next = queued.popFirst() { start(next) }
    }

    // MARK: Worker threads

    /// Hands in a finished attempt's sum. Only the current attempt of its worker counts;
    /// anything else was killed or superseded and is discarded and counted.
    mutating func complete(worker i: Int, attempt: AttemptID, sum: UInt128) {
        guard let attemptInfo = workers[i].current, attemptInfo.attempt == attempt,
              current?.id == attemptInfo.job
        else {
            staleResults += 1
            current?.staleResults += 1
            log(.staleResultDiscarded(chunk: staleChunk(attempt) ?? -1, attempt: attempt,
                                      worker: workers[i].cell.id))
            return
        }
        workers[i].current = nil
        workers[i].cell.attemptProgress.store(0, ordering: .relaxed)
        let count = attemptInfo.elements.upperBound - attemptInfo.elements.lowerBound + 1
        workers[i].chunksDone += 1
        workers[i].elementsAccepted += UInt64(count)
        let jobDone = updateCurrentJob { job -> Bool in
            let (sumSoFar, overflow) = job.total.addingReportingOverflow(sum)
            job.total = sumSoFar
            job.overflowed = job.overflowed || overflow
            job.chunksDone += 1
            job.elementsCompleted += count
            job.acceptedChunks?.append(attemptInfo.chunk)
            return job.chunksDone == job.spec.chunkCount
        }
        if jobDone == true { finishCurrentJob() }
    }

    /// Changes the running job in place. Copying it out and back would make its work pool's
    /// storage copy-on-write on every chunk, all under the lock every worker needs.
    private mutating func updateCurrentJob<T>(_ change: (inout JobRun) -> T) -> T? {
        guard current != nil else { return nil }
        return change(&current!)
    }

    /// Stale results are rare; remember which chunk an attempt was for so the log can say.
    var attemptChunks: [AttemptID: Int64] = [:]
    private func staleChunk(_ attempt: AttemptID) -> Int64? { attemptChunks[attempt] }

    /// Decides what worker `i`'s thread does next, and hands it a chunk if there is one.
    mutating func nextStep(worker i: Int) -> WorkerStep {
        if isShuttingDown { return .exit }
        switch workers[i].state {
        case .removed:
            return .exit
        case .dead, .paused:
            return .wait
        case .idle, .running:
            break
        }
        let id = workers[i].cell.id
        if workers[i].isLeaving {
            workers[i].state = .removed
            workers[i].isLeaving = false
            if current?.pool?.release(ownedBy: id) == true { wakeIdleWorkers() }
            log(.workerRemoved(id))
            return .exit
        }
        let taken = updateCurrentJob { job -> (job: JobID, chunk: Int64, lostBy: WorkerID?, elements: ClosedRange<Int64>)? in
            guard let (chunk, lostBy) = job.pool?.next(for: id) else { return nil }
            if lostBy != nil { job.chunksRedone += 1 }
            return (job.id, chunk, lostBy, job.spec.elements(ofChunk: chunk))
        }
        guard let taken = taken ?? nil else {  // no job, or no chunk for this worker
            workers[i].state = .idle
            return .wait
        }
        let attempt = AttemptID(nextAttempt)
        nextAttempt += 1
        if let lostBy = taken.lostBy { log(.chunkRedistributed(chunk: taken.chunk, from: lostBy, to: id)) }
        let elements = taken.elements
        workers[i].current = CurrentAttempt(job: taken.job, chunk: taken.chunk, attempt: attempt,
                                            elements: elements, isRedo: taken.lostBy != nil)
        workers[i].state = .running
        workers[i].cell.attemptProgress.store(0, ordering: .relaxed)
        return .run(WorkerTask(attempt: attempt, elements: elements, speed: workers[i].speed,
                               epoch: workers[i].cell.controlEpoch.load(ordering: .relaxed)))
    }

    // MARK: Controls

    /// A simulated crash: the attempt's partial work is lost and its chunk is re-queued.
    mutating func kill(worker i: Int) -> Bool {
        let id = workers[i].cell.id
        switch workers[i].state {
        case .dead, .removed: return false
        case .idle, .running, .paused: break
        }
        var lostChunk: Int64?
        if let attempt = workers[i].current, current?.id == attempt.job {
            updateCurrentJob { job in
                job.pool?.requeue(attempt.chunk, lostBy: id)
                job.chunksRequeued += 1
            }
            attemptChunks[attempt.attempt] = attempt.chunk
            lostChunk = attempt.chunk
        }
        _ = current?.pool?.release(ownedBy: id)
        workers[i].current = nil
        workers[i].state = .dead
        workers[i].isLeaving = false
        workers[i].cell.attemptProgress.store(0, ordering: .relaxed)
        workers[i].cell.poke()
        log(.workerKilled(id, chunk: lostChunk))
        if let lostChunk { log(.chunkRequeued(chunk: lostChunk, from: id)) }
        wakeIdleWorkers()
        return true
    }

    mutating func pause(worker i: Int) -> Bool {
        guard workers[i].state == .idle || workers[i].state == .running, !workers[i].isLeaving
        else { return false }
        workers[i].state = .paused
        workers[i].cell.poke()
        log(.workerPaused(workers[i].cell.id))
        return true
    }

    mutating func resume(worker i: Int) -> Bool {
        guard workers[i].state == .paused else { return false }
        workers[i].state = workers[i].current == nil ? .idle : .running
        workers[i].cell.poke()
        log(.workerResumed(workers[i].cell.id))
        return true
    }

    mutating func restart(worker i: Int) -> Bool {
        guard workers[i].state == .dead else { return false }
        workers[i].state = .idle
        workers[i].cell.poke()
        log(.workerRestarted(workers[i].cell.id))
        return true
    }

    /// A worker with a chunk finishes it first (a paused one is resumed to do so); any other
    /// worker leaves at once.
    mutating func remove(worker i: Int) -> Bool {
        let id = workers[i].cell.id
        guard workers[i].state != .removed, !workers[i].isLeaving else { return false }
        if workers[i].current != nil {
            workers[i].isLeaving = true
            if workers[i].state == .paused { workers[i].state = .running }
            log(.workerLeaving(id))
        } else {
            workers[i].state = .removed
            if current?.pool?.release(ownedBy: id) == true { wakeIdleWorkers() }
            log(.workerRemoved(id))
        }
        workers[i].cell.poke()
        return true
    }

    mutating func setSpeed(worker i: Int, to speed: Double) -> Bool {
        guard workers[i].state != .removed else { return false }
        workers[i].speed = speed
        workers[i].cell.poke()
        log(.workerThrottled(workers[i].cell.id, speed: speed))
        return true
    }

    /// What a running worker must do after its control epoch changed.
    enum ControlCheck { case proceed(epoch: UInt64, speed: Double), pause, abandon }

    func controlCheck(worker i: Int, attempt: AttemptID) -> ControlCheck {
        let record = workers[i]
        guard !isShuttingDown, record.current?.attempt == attempt else { return .abandon }
        if record.state == .paused { return .pause }
        return .proceed(epoch: record.cell.controlEpoch.load(ordering: .relaxed), speed: record.speed)
    }
}

/// A semaphore a caller parks on until a job finishes.
struct DispatchSemaphoreBox {
    let semaphore: DispatchSemaphore
}
