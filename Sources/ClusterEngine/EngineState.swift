import Dispatch
import BigInt
import DequeModule

/// A worker's attempt in progress.
struct CurrentAttempt {
    let job: JobID
    let chunk: Int64
    let attempt: AttemptID
    /// Shrinks when a thief splits the unprocessed part off.
    var elements: ClosedRange<Int64>
    let origin: AttemptOrigin
    let startNanos: UInt64
    var wasSplit = false
}

/// Everything the engine knows about one worker, guarded by the engine lock.
struct WorkerRecord {
    let cell: WorkerCell
    var phase: WorkerPhase = .idle
    var speed: Double = 1
    var current: CurrentAttempt?
    /// Work stealing: the index of an idle worker waiting for this one to split its chunk.
    var splitRequestedBy: Int?
    var elementsAccepted: UInt64 = 0
    var chunksDone = 0
    /// Where a remote worker runs; nil for a local thread.
    let remote: RemoteWorkerInfo?
    /// Elements' worth of attempts this worker keeps queued behind `current`: none for a local
    /// thread, which asks the engine for its next chunk directly; enough for a remote one that a
    /// network round trip never leaves its thread idle.
    let queueElements: Int64
    /// Attempts queued behind `current`. Not started, so not in flight: given back untouched
    /// when the worker pauses, leaves or dies, or when an idle worker has nothing else to do.
    var queue: [QueuedAttempt] = []

    init(cell: WorkerCell, speed: Double, remote: RemoteWorkerInfo? = nil, queueElements: Int64 = 0) {
        self.cell = cell
        self.speed = speed
        self.remote = remote
        self.queueElements = queueElements
    }
}

/// An attempt handed to a worker ahead of time, waiting in its queue.
struct QueuedAttempt {
    let job: JobID
    let chunk: Int64
    let attempt: AttemptID
    let elements: ClosedRange<Int64>
    let piece: ChunkPiece?
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
    /// Work stealing: chunks split, and queued chunks moved between slices.
    var chunksSplit: Int64 = 0
    var chunksStolen: Int64 = 0
    /// Elements not yet accepted of each chunk that was split; a chunk is done when it reaches 0.
    var splitRemaining: [Int64: Int64] = [:]
    var elementsCompleted: Int64 = 0
    var total: UInt128 = 0
    /// Set if adding a chunk ever overflowed: only possible with a faulty kernel.
    var overflowed = false
    var startNanos: UInt64 = 0
    var endNanos: UInt64?
    var staleResults = 0
    var acceptedChunks: [Int64]?
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
    var timeline: TimelineLog
    var isShuttingDown = false
    let startNanos: UInt64
    let audits: Bool
    /// Work stealing leaves alone a chunk with less than this much left to do.
    let smallestSplit: Int64
    /// ...and a running worker's chunk with less than this much left at full speed (about a
    /// millisecond): splitting it would cost more than it saves, and the tail of a job would
    /// become a storm of ever smaller splits.
    let worthSplitting: Double

    init(configuration: ClusterConfiguration, startNanos: UInt64) {
        events = EventLog(capacity: configuration.eventCapacity)
        timeline = TimelineLog(capacity: configuration.timelineCapacity)
        self.startNanos = startNanos
        audits = configuration.auditsAcceptedChunks
        smallestSplit = max(2, 2 * configuration.subBlockSize)
        worthSplitting = Double(32 * configuration.subBlockSize)
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
        for record in workers where record.phase == .idle { record.cell.wake() }
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
        let owners = workers.filter(\.phase.takesNewWork).map(\.cell.id)
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
            chunksRequeued: job.chunksRequeued, chunksSplit: job.chunksSplit,
            chunksStolen: job.chunksStolen, staleResults: job.staleResults,
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
    mutating func complete(worker i: Int, attempt: AttemptID, sum: UInt128,
                           now: UInt64 = MonotonicClock.nanoseconds()) {
        guard let attemptInfo = workers[i].current, attemptInfo.attempt == attempt,
              current?.id == attemptInfo.job
        else {
            discardStale(worker: i, attempt: attempt)
            return
        }
        workers[i].current = nil
        workers[i].cell.attemptProgress.store(0, ordering: .relaxed)
        if !workers[i].queue.isEmpty { startQueued(worker: i, now: now) }
        if workers[i].splitRequestedBy != nil {
            // It finished before it saw the request: let the thief look again.
            workers[i].splitRequestedBy = nil
            wakeIdleWorkers()
        }
        record(attemptInfo, of: i, outcome: .done, now: now)
        let count = attemptInfo.elements.count64
        workers[i].chunksDone += 1
        workers[i].elementsAccepted += UInt64(count)
        let jobDone = updateCurrentJob { job -> Bool in
            let (sumSoFar, overflow) = job.total.addingReportingOverflow(sum)
            job.total = sumSoFar
            job.overflowed = job.overflowed || overflow
            job.elementsCompleted += count
            // A split chunk is done once all its pieces are in; others arrive in one piece.
            if !job.splitRemaining.isEmpty, let left = job.splitRemaining[attemptInfo.chunk] {
                guard left > count else {
                    job.splitRemaining[attemptInfo.chunk] = nil
                    return job.acceptChunk(attemptInfo.chunk)
                }
                job.splitRemaining[attemptInfo.chunk] = left - count
                return false
            }
            return job.acceptChunk(attemptInfo.chunk)
        }
        if jobDone == true { finishCurrentJob() }
    }

    /// Counts and logs a result that arrived for an attempt that is no longer current.
    mutating func discardStale(worker i: Int, attempt: AttemptID) {
        staleResults += 1
        current?.staleResults += 1
        log(.staleResultDiscarded(chunk: staleChunk(attempt) ?? -1, attempt: attempt, worker: workers[i].cell.id))
    }

    /// Changes the running job in place. Copying it out and back would make its work pool's
    /// storage copy-on-write on every chunk, all under the lock every worker needs.
    private mutating func updateCurrentJob<T>(_ change: (inout JobRun) -> T) -> T? {
        guard current != nil else { return nil }
        return change(&current!)
    }

    /// Adds a finished attempt to the task timeline.
    mutating func record(_ attempt: CurrentAttempt, of i: Int, outcome: TimelineSegment.Outcome,
                         now: UInt64 = MonotonicClock.nanoseconds()) {
        timeline.append(TimelineEntry(attempt: attempt, worker: workers[i].cell.id, outcome: outcome, endNanos: now))
    }

    /// Finished attempts, then those in flight, as plain copies: the caller turns them into
    /// segments after releasing the lock.
    func timelineEntries() -> [TimelineEntry] {
        var entries = Array(timeline.entries)
        for record in workers {
            if let attempt = record.current {
                entries.append(TimelineEntry(attempt: attempt, worker: record.cell.id, outcome: .inFlight, endNanos: nil))
            }
        }
        return entries
    }

    /// Stale results are rare; remember which chunk an attempt was for so the log can say.
    var attemptChunks: [AttemptID: Int64] = [:]
    private func staleChunk(_ attempt: AttemptID) -> Int64? { attemptChunks[attempt] }

    /// Hands in worker `i`'s `finished` attempt, if any, and decides what it does next: the
    /// attempts to append to its queue (the first becomes current if it had none), nothing new,
    /// or leave. One call, one lock, for a local thread and a remote one alike. `now` is the time
    /// a new attempt starts.
    mutating func step(worker i: Int, finished: (attempt: AttemptID, sum: UInt128)? = nil,
                       now: UInt64 = MonotonicClock.nanoseconds()) -> WorkerStep {
        if let finished { complete(worker: i, attempt: finished.attempt, sum: finished.sum, now: now) }
        if isShuttingDown { return .exit }
        var tasks: [AttemptTask] = []
        if workers[i].current == nil {
            switch nextStep(worker: i, now: now) {
            case .exit: return .exit
            case .wait: return .wait
            case .run(let first): tasks = first
            }
        }
        tasks += refillQueue(worker: i).map {
            AttemptTask(attempt: $0.attempt, chunk: $0.chunk, elements: $0.elements, speed: workers[i].speed)
        }
        return tasks.isEmpty ? .wait : .run(tasks)
    }

    /// Gives worker `i`, which holds no attempt, a current one if there is work for it.
    private mutating func nextStep(worker i: Int, now: UInt64) -> WorkerStep {
        if isShuttingDown { return .exit }
        let id = workers[i].cell.id
        switch workers[i].phase {
        case .removed:
            return .exit
        case .dead, .paused:
            return .wait
        case .pausing:
            // Its thread is here, between attempts: it has stopped.
            workers[i].phase = .paused
            return .wait
        case .leaving:
            workers[i].phase = .removed
            if current?.pool?.release(ownedBy: id) == true { wakeIdleWorkers() }
            log(.workerRemoved(id))
            return .exit
        case .idle, .running:
            break
        }
        var taken = takeWork(for: id)
        if taken == nil, current?.spec.schedule == .stealing {
            let stolen = updateCurrentJob { job -> (victim: WorkerID, count: Int64)? in
                guard let stolen = job.pool?.stealSlice(for: id) else { return nil }
                job.chunksStolen += stolen.count
                return stolen
            } ?? nil
            if let (victim, count) = stolen {
                log(.sliceStolen(count: count, from: victim, to: id))
                taken = takeWork(for: id)
            } else {
                askForSplit(thief: i)
            }
        }
        if taken == nil, reclaimQueued() { taken = takeWork(for: id) }
        guard let taken else {  // no job, or no chunk for this worker
            workers[i].phase = .idle
            return .wait
        }
        let attempt = AttemptID(nextAttempt)
        nextAttempt += 1
        logOrigin(of: taken, to: id)
        let elements = taken.elements
        workers[i].current = CurrentAttempt(job: taken.job, chunk: taken.chunk, attempt: attempt,
                                            elements: elements, origin: taken.origin,
                                            startNanos: now)
        workers[i].phase = .running
        workers[i].cell.attemptProgress.store(0, ordering: .relaxed)
        return .run([AttemptTask(attempt: attempt, chunk: taken.chunk, elements: elements, speed: workers[i].speed)])
    }

    struct Taken {
        let job: JobID
        let chunk: Int64
        let elements: ClosedRange<Int64>
        let piece: ChunkPiece?
        var origin: AttemptOrigin { piece?.origin ?? .fresh }
    }

    /// Says in the event log where a redo or a split-off piece came from.
    mutating func logOrigin(of taken: Taken, to id: WorkerID) {
        switch taken.origin {
        case .redo(let by): log(.chunkRedistributed(chunk: taken.chunk, from: by, to: id))
        case .split(let from): log(.chunkStolen(chunk: taken.chunk, from: from, to: id))
        case .fresh: break
        }
    }

    mutating func takeWork(for id: WorkerID) -> Taken? {
        updateCurrentJob { job -> Taken? in
            guard let (chunk, piece) = job.pool?.next(for: id) else { return nil }
            if piece?.origin.isRedo == true { job.chunksRedone += 1 }
            return Taken(job: job.id, chunk: chunk, elements: piece?.elements ?? job.spec.elements(ofChunk: chunk),
                         piece: piece)
        } ?? nil
    }

    // MARK: Attempt queues

    /// How many attempts worker `i` keeps queued behind its current one, on `job`: none for a
    /// local thread; for a remote one, its queue's elements in chunks, at least 1 and at most 64.
    func queueDepth(worker i: Int, _ job: JobRun) -> Int {
        let elements = workers[i].queueElements
        return elements == 0 ? 0 : Int(min(64, max(1, elements / max(1, job.spec.chunkSize))))
    }

    /// Tops up worker `i`'s queue behind its current attempt; returns what was added.
    mutating func refillQueue(worker i: Int) -> [QueuedAttempt] {
        guard workers[i].phase == .running,
              let attempt = workers[i].current, let job = current, job.id == attempt.job
        else { return [] }
        let depth = queueDepth(worker: i, job)
        let id = workers[i].cell.id
        var added: [QueuedAttempt] = []
        while workers[i].queue.count < depth, let taken = takeWork(for: id) {
            let attempt = AttemptID(nextAttempt)
            nextAttempt += 1
            logOrigin(of: taken, to: id)
            let queued = QueuedAttempt(job: taken.job, chunk: taken.chunk, attempt: attempt, elements: taken.elements,
                                       piece: taken.piece)
            workers[i].queue.append(queued)
            added.append(queued)
        }
        return added
    }

    /// Worker `i` finished its attempt; the first queued one becomes current.
    private mutating func startQueued(worker i: Int, now: UInt64) {
        let next = workers[i].queue.removeFirst()
        workers[i].current = CurrentAttempt(job: next.job, chunk: next.chunk, attempt: next.attempt,
                                            elements: next.elements, origin: next.piece?.origin ?? .fresh, startNanos: now)
    }

    /// Returns worker `i`'s queued attempts to the pool, untouched; their ids become stale.
    mutating func giveQueueBack(worker i: Int) {
        guard !workers[i].queue.isEmpty else { return }
        for queued in workers[i].queue { returnToPool(queued) }
        workers[i].queue.removeAll()
        workers[i].cell.poke()  // its session tells the thread to drop them
        wakeIdleWorkers()
    }

    /// An idle worker found nothing: take the last queued attempt of the remote worker with the
    /// longest queue back into the pool. True if there was one.
    private mutating func reclaimQueued() -> Bool {
        guard let v = workers.indices.filter({ !workers[$0].queue.isEmpty })
            .max(by: { workers[$0].queue.count < workers[$1].queue.count })
        else { return false }
        let queued = workers[v].queue.removeLast()
        guard returnToPool(queued) else { return false }
        workers[v].cell.poke()
        return true
    }

    /// Puts a queued attempt's work back at the front of its job's pool, untouched. Its attempt
    /// id stays known, so a result for it that was already on its way counts as stale. True if
    /// its job is still the current one.
    @discardableResult
    private mutating func returnToPool(_ queued: QueuedAttempt) -> Bool {
        attemptChunks[queued.attempt] = queued.chunk
        guard current?.id == queued.job else { return false }
        updateCurrentJob { job in
            job.pool?.giveBack(chunk: queued.chunk, piece: queued.piece)
            // Counted when it was taken; it is counted again when it is taken next.
            if queued.piece?.origin.isRedo == true { job.chunksRedone -= 1 }
        }
        return true
    }

    // MARK: Work stealing

    /// Asks the worker whose chunk has the most time left (a paused one first) to split it at its
    /// next sub-block. The thief waits idle; the split wakes it.
    private mutating func askForSplit(thief: Int) {
        guard let job = current?.id else { return }
        var best: (index: Int, score: Double)?
        for (v, record) in workers.enumerated() {
            guard let attempt = record.current, attempt.job == job, record.splitRequestedBy == nil,
                  record.phase == .running || record.phase == .leaving || record.phase.isStopping
            else { continue }
            let left = attempt.elements.count64 - record.cell.attemptProgress.load(ordering: .relaxed)
            guard left >= smallestSplit else { continue }
            // Time left at its speed; a paused worker will never finish on its own.
            let score = record.phase.isStopping ? 1e30 + Double(left) : Double(left) / record.speed
            guard score >= worthSplitting else { continue }
            if best.map({ score > $0.score }) ?? true { best = (v, score) }
        }
        guard let best else { return }
        workers[best.index].splitRequestedBy = thief
        workers[best.index].cell.poke()
    }

    /// Worker `i`, standing at element `position` of its attempt with `sum` of the elements before
    /// it, gives up the unprocessed part: a share in proportion to the thief's speed, so both
    /// finish together, or all of it when paused. The part it gives up becomes a piece at the
    /// front of the queue. A paused worker also hands in what it did, so the job need not wait
    /// for it. Returns false if the worker holds no attempt any more.
    private mutating func split(worker i: Int, at position: Int64, sum: UInt128, for thief: Int) -> Bool {
        guard var attempt = workers[i].current else { return true }
        let left = attempt.elements.upperBound - position + 1
        guard left >= smallestSplit, current?.id == attempt.job else {
            wakeIdleWorkers()  // nothing worth taking any more; the thief looks elsewhere
            return true
        }
        let victimSpeed = workers[i].phase.isStopping ? 0 : workers[i].speed
        let thiefSpeed = workers[thief].speed
        let keep = Int64(Double(left) * victimSpeed / (victimSpeed + thiefSpeed))
        let id = workers[i].cell.id
        let givenUp = (position + keep)...attempt.elements.upperBound
        updateCurrentJob { job in
            if job.splitRemaining[attempt.chunk] == nil {
                job.splitRemaining[attempt.chunk] = job.spec.elements(ofChunk: attempt.chunk).count64
            }
            job.chunksSplit += 1
            job.pool?.requeue(ChunkPiece(chunk: attempt.chunk, elements: givenUp, origin: .split(from: id)))
        }
        log(.chunkSplit(chunk: attempt.chunk, from: id, elements: givenUp))
        wakeIdleWorkers()
        if position + keep == attempt.elements.lowerBound {
            record(attempt, of: i, outcome: .handedOver)
            workers[i].current = nil
            workers[i].cell.attemptProgress.store(0, ordering: .relaxed)
            return false
        }
        attempt.elements = attempt.elements.lowerBound...(position + keep - 1)
        attempt.wasSplit = true
        workers[i].current = attempt
        guard keep == 0 else { return true }
        complete(worker: i, attempt: attempt.attempt, sum: sum)
        return false
    }

    // MARK: Controls

    /// A simulated crash: the attempt's partial work is lost and its chunk is re-queued.
    mutating func kill(worker i: Int) -> Bool {
        guard !workers[i].phase.isDead, workers[i].phase != .removed else { return false }
        let lostChunk = dropAttempt(of: i)
        workers[i].phase = .dead(.killed)
        workers[i].cell.poke()
        log(.workerKilled(workers[i].cell.id, chunk: lostChunk))
        logRequeue(lostChunk, from: i)
        return true
    }

    /// Takes worker `i`'s attempt away as a crash does: its partial work is lost, its chunk goes
    /// back to the queue and its own slice is freed. Returns the chunk it held, if any.
    mutating func dropAttempt(of i: Int) -> Int64? {
        let id = workers[i].cell.id
        var lostChunk: Int64?
        if let attempt = workers[i].current, current?.id == attempt.job {
            updateCurrentJob { job in
                job.pool?.requeue(ChunkPiece(chunk: attempt.chunk, elements: attempt.elements, origin: .redo(lostBy: id)))
                job.chunksRequeued += 1
            }
            attemptChunks[attempt.attempt] = attempt.chunk
            lostChunk = attempt.chunk
            record(attempt, of: i, outcome: .killed)
        }
        workers[i].splitRequestedBy = nil
        giveQueueBack(worker: i)
        _ = current?.pool?.release(ownedBy: id)
        workers[i].current = nil
        workers[i].cell.attemptProgress.store(0, ordering: .relaxed)
        return lostChunk
    }

    /// Logs a chunk's return to the queue and lets idle workers take it.
    mutating func logRequeue(_ chunk: Int64?, from i: Int) {
        if let chunk { log(.chunkRequeued(chunk: chunk, from: workers[i].cell.id)) }
        wakeIdleWorkers()
    }

    /// A worker with an attempt is `pausing` until its thread stops (see `checkIn`); one
    /// without is stopped already.
    mutating func pause(worker i: Int) -> Bool {
        guard workers[i].phase == .idle || workers[i].phase == .running else { return false }
        workers[i].phase = workers[i].current == nil ? .paused : .pausing
        // Its queue goes back when it checks in (see checkIn), not now.
        workers[i].cell.poke()
        log(.workerPaused(workers[i].cell.id))
        return true
    }

    mutating func resume(worker i: Int) -> Bool {
        guard workers[i].phase.isStopping else { return false }
        workers[i].phase = workers[i].current == nil ? .idle : .running
        workers[i].cell.poke()
        log(.workerResumed(workers[i].cell.id))
        return true
    }

    mutating func restart(worker i: Int) -> Bool {
        guard workers[i].phase.isDead else { return false }
        workers[i].phase = .idle
        workers[i].cell.poke()
        log(.workerRestarted(workers[i].cell.id))
        return true
    }

    /// A worker with a chunk finishes it first (a paused one is resumed to do so); any other
    /// worker leaves at once.
    mutating func remove(worker i: Int) -> Bool {
        let id = workers[i].cell.id
        guard workers[i].phase != .removed, workers[i].phase != .leaving else { return false }
        if workers[i].current != nil {
            workers[i].phase = .leaving  // a paused one is resumed to finish
            log(.workerLeaving(id))
        } else {
            workers[i].phase = .removed
            if current?.pool?.release(ownedBy: id) == true { wakeIdleWorkers() }
            log(.workerRemoved(id))
        }
        workers[i].cell.poke()
        return true
    }

    mutating func setSpeed(worker i: Int, to speed: Double) -> Bool {
        guard workers[i].phase != .removed else { return false }
        workers[i].speed = speed
        workers[i].cell.poke()
        log(.workerThrottled(workers[i].cell.id, speed: speed))
        return true
    }

    /// Worker `i` stopped between sub-blocks of `attempt` at element `position`, with `sum` of the
    /// elements before it, because a controller changed something: what it does now. The only
    /// place a split happens, because only the worker knows exactly how far it got.
    mutating func checkIn(worker i: Int, attempt: AttemptID, position: Int64, sum: UInt128) -> CheckInAnswer {
        guard !isShuttingDown, workers[i].current?.attempt == attempt else { return .abandon }
        if let thief = workers[i].splitRequestedBy {
            workers[i].splitRequestedBy = nil
            if !split(worker: i, at: position, sum: sum, for: thief) { return .abandon }
        }
        // Its thread stands here: a pause asked for is now a fact.
        if workers[i].phase == .pausing { workers[i].phase = .paused }
        let record = workers[i]
        // A remote thread may have finished, and even started, attempts queued behind the one
        // the controller saw (it can hold results back a few milliseconds). Only now, stopped
        // inside `attempt` with those results in, are the ones behind it known to be untouched.
        if record.phase == .paused || record.phase == .leaving { giveQueueBack(worker: i) }
        if record.phase == .paused { return .hold }
        return .proceed(last: record.current!.elements.upperBound, speed: record.speed)
    }
}

extension JobRun {
    /// Counts a chunk whose every element is in. True when that was the job's last chunk.
    mutating func acceptChunk(_ chunk: Int64) -> Bool {
        chunksDone += 1
        acceptedChunks?.append(chunk)
        return chunksDone == spec.chunkCount
    }
}

/// A semaphore a caller parks on until a job finishes.
struct DispatchSemaphoreBox {
    let semaphore: DispatchSemaphore
}
