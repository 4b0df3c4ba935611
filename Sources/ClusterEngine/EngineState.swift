import DequeModule

/// The engine's mutable state, guarded by the engine lock. Every method runs with that lock held,
/// is short, and does no I/O.
///
/// It composes the parts that each have one concern and their own tests: `JobLedger` (jobs and
/// the accounting of results), `WorkPool` (who may take which chunk), `WorkerPhase` (the life of
/// a worker) and `SplitPolicy` (work stealing's choices). What is here ties them together: the
/// worker records, handing attempts out and in, with attempt-id fencing. Attempt queues, work
/// stealing and the controls live in the files named after them.
struct EngineState {
    /// The table of rows, live and removed, in no particular order: a freed row's place is
    /// taken by the next worker. Indexed by `index(of:)`.
    var workers: [WorkerRecord] = []
    /// Where each worker's row is in `workers`, by id.
    private(set) var rowOfID: [Int: Int] = [:]
    /// The next worker's id: ids are never given twice.
    private var nextWorkerID = 1
    /// Workers not removed, kept by `setPhase` and `addRow` (counted per join, it cost a pass
    /// over the table for every thread of every process).
    var liveWorkers = 0
    /// Rows in the order their workers were removed, oldest first: the next to be freed. A row
    /// brought back since (a process that rejoined) is skipped when its turn comes.
    var removedRows: Deque<Int> = []
    var jobs: JobLedger
    /// The running job started with no worker to take its work (a coordinator waiting for its
    /// first laptop): its clock starts when a worker first steps in, not while it waited.
    var jobAwaitsFirstWorker = false
    /// The running job's pace, nanoseconds per element, smoothed over every worker's samples
    /// (`notePace`): a worker at under half of it draws its attempts as slow on the timeline.
    var jobNanosPerElement = 0.0
    var nextAttempt: UInt64 = 1
    /// What a journal (`--journal`) has yet to store; nil without one.
    var journal: JournalFeed?
    /// The journal stopped (a write failed, or the ceiling of attempt ids could not be stored).
    var journalStopped = false
    /// The last network session number given out (see `RemoteWorkerHandle`).
    var nextRemoteSession: UInt64 = 0
    var events: EventLog
    var timeline: TimelineLog
    /// The running job's whole timeline (or the last finished job's), in bounded memory.
    var jobTimeline: JobTimeline?
    var isShuttingDown = false
    let startNanos: UInt64
    /// The clock the engine reads (`ClusterConfiguration.clock`).
    let clock: EngineClock
    /// Work stealing leaves alone a chunk with less than this much left to do.
    let smallestSplit: Int64
    /// ...and a running worker's chunk with less than this much left at full speed (about a
    /// millisecond): splitting it would cost more than it saves, and the tail of a job would
    /// become a storm of ever smaller splits.
    let worthSplitting: Double
    /// Which attempts get a backup at the tail; nil: none do.
    let backupPolicy: BackupPolicy?

    /// Whether another worker may join: fewer than `maxWorkers` alive (removed ones do not
    /// count: a machine that leaves frees its places), and a row for it in the table.
    func canAddWorker(_ configuration: ClusterConfiguration) -> Bool {
        guard liveWorkers < configuration.maxWorkers else { return false }
        return workers.count < configuration.maxWorkerRecords || freeableRow() != nil
    }

    /// Where in `removedRows` the row removed longest ago that may be freed now is, if any.
    func freeableRow() -> Int? { removedRows.firstIndex { workers[$0].isFreeable } }

    /// Gives a new worker an id and a row (`canAddWorker` said there is one): a new row while
    /// the table has room, else the row removed longest ago, freed. Returns its index.
    mutating func addRow(_ makeRecord: (WorkerID) -> WorkerRecord, maxRows: Int) -> Int {
        let id = WorkerID(nextWorkerID)
        nextWorkerID += 1
        let i: Int
        // Rows brought back to life since their removal are no longer in line to be freed.
        while let first = removedRows.first, workers[first].phase != .removed { removedRows.removeFirst() }
        if workers.count < maxRows {
            i = workers.count
            workers.append(makeRecord(id))
        } else {
            i = removedRows.remove(at: freeableRow()!)
            let freed = workers[i].cell.id
            rowOfID[freed.rawValue] = nil
            jobTimeline?.retire(freed)
            workers[i] = makeRecord(id)
        }
        rowOfID[id.rawValue] = i
        liveWorkers += 1
        return i
    }

    init(configuration: ClusterConfiguration, startNanos: UInt64) {
        clock = configuration.clock
        jobs = JobLedger(audits: configuration.auditsAcceptedChunks)
        events = EventLog(capacity: configuration.eventCapacity)
        timeline = TimelineLog(capacity: configuration.timelineCapacity)
        self.startNanos = startNanos
        smallestSplit = max(2, 2 * configuration.subBlockSize)
        worthSplitting = Double(32 * configuration.subBlockSize)
        let watch = configuration.backupWatchSeconds
        backupPolicy = watch.isFinite && watch >= 0 ? BackupPolicy(watchNanos: UInt64(watch * 1e9)) : nil
    }

    func seconds(_ nanos: UInt64) -> Double { Double(nanos &- startNanos) / 1e9 }

    mutating func log(_ kind: ClusterEventKind, now: UInt64? = nil) {
        events.append(kind, at: seconds(now ?? clock.now()))
    }

    /// Worker `id`'s row. Runs once per chunk: a worker among the table's first `maxWorkerRecords`
    /// still has the row it was given, found without hashing.
    func index(of id: WorkerID) -> Int? {
        let first = id.rawValue - 1
        if workers.indices.contains(first), workers[first].cell.id == id { return first }
        return rowOfID[id.rawValue]
    }

    /// The remote worker's index, if `worker`'s session still holds its row.
    func index(of worker: RemoteWorkerHandle) -> Int? {
        guard let i = index(of: worker.id), workers[i].session == worker.session else { return nil }
        return i
    }

    /// Wakes idle workers because new work may be available.
    func wakeIdleWorkers() {
        for i in workers.indices where workers[i].phase == .idle { workers[i].cell.wake() }
    }

    // MARK: Jobs

    mutating func submit(_ spec: JobSpec) -> JobID {
        let id = jobs.submit(spec)
        journal?.pending.jobChanges.append(.submitted(id, spec))
        if !startNextJob() { log(.jobQueued(id, lo: spec.lo, hi: spec.hi)) }
        return id
    }

    /// Queues jobs a journal kept, the running one first, under their ids; the first starts
    /// at once if no job runs. Nothing goes back to the journal: it has them.
    mutating func resume(_ journaled: [JournaledJob]) {
        for job in journaled { jobs.submit(resuming: job) }
        startNextJob()
    }

    /// The coordinator crashed (the lesson), its threads stopped already: every row is dropped
    /// with its attempts, and the running job replaced by `rebuilt`. Returns the elements lost.
    mutating func rebuildAfterCrash(_ rebuilt: (JobSpec, JobID) -> JournaledJob) -> Int64? {
        for i in workers.indices where workers[i].phase != .removed {
            workers[i].clearAttempt()
            workers[i].queue.removeAll()
            setPhase(of: i, to: .removed)
        }
        guard let running = jobs.current,
              let (lost, kept) = jobs.replaceRunning(with: rebuilt(running.spec, running.id)) else { return nil }
        log(.coordinatorCrashed(running.id, elementsLost: lost, elementsKept: kept))
        startNextJob()
        return lost
    }

    /// Starts the next queued job if none runs, shared among the workers that take new work.
    /// True if one started.
    @discardableResult
    mutating func startNextJob() -> Bool {
        let owners = workers.filter(\.phase.takesNewWork).map(\.cell.id)
        guard let job = jobs.startNext(owners: owners, now: clock.now()) else { return false }
        journal?.pending.jobChanges.append(.started(job.id))
        // A job rebuilt after a crash of the coordinator (the lesson) started long ago, and its
        // clock runs on while its threads start again.
        let rebuilt = job.coordinatorCrashes > 0
        if !rebuilt { log(.jobStarted(job.id, lo: job.spec.lo, hi: job.spec.hi), now: job.startNanos) }
        jobAwaitsFirstWorker = owners.isEmpty && !rebuilt
        jobNanosPerElement = 0
        startJobClock(job.id, at: job.startNanos)
        wakeIdleWorkers()
        return true
    }

    /// The running job's time counts from `now`: its timeline starts there, and workers paused
    /// before show as paused from then.
    private mutating func startJobClock(_ job: JobID, at now: UInt64) {
        jobs.update { $0.startNanos = now }
        jobTimeline = JobTimeline(job: job, startNanos: now)
        for i in workers.indices where workers[i].pausedSinceNanos != nil { workers[i].pausedSinceNanos = now }
    }

    // MARK: Handing attempts out and in

    /// Decides what worker `i` does next, its results handed in (`handIn`): the attempts to
    /// append to its queue (the first becomes current if it had none), nothing new, or leave. For
    /// a local thread and a remote one alike, in the same lock as the hand-in. `now` is the time
    /// a new attempt starts.
    mutating func step(worker i: Int, now: UInt64) -> WorkerStep {
        if jobAwaitsFirstWorker, workers[i].phase == .idle || workers[i].phase == .running, let job = jobs.current?.id {
            jobAwaitsFirstWorker = false
            startJobClock(job, at: now)
        }
        let step = decideStep(worker: i, now: now)
        // A local thread told to exit never comes back: its row may be freed once removed.
        if case .exit = step, !workers[i].isRemote { workers[i].threadGone = true }
        return step
    }

    private mutating func decideStep(worker i: Int, now: UInt64) -> WorkerStep {
        if isShuttingDown { return .exit }
        var first: AttemptTask?
        if workers[i].current == nil {
            switch nextStep(worker: i, now: now) {
            case .exit: return .exit
            case .wait: return .wait
            case .run(let task, _): first = task
            }
        }
        var queued: [AttemptTask] = []
        refillQueue(worker: i, into: &queued)
        if let first { return .run(first, then: queued) }
        guard !queued.isEmpty else { return .wait }
        return .run(queued.removeFirst(), then: queued)
    }

    /// Gives worker `i`, which holds no attempt, a current one if there is work for it.
    private mutating func nextStep(worker i: Int, now: UInt64) -> WorkerStep {
        let id = workers[i].cell.id
        switch workers[i].phase {
        case .removed:
            return .exit
        case .dead, .paused:
            return .wait
        case .pausing:
            // Its thread is here, between attempts: it has stopped.
            setPhase(of: i, to: .paused)
            return .wait
        case .leaving:
            setPhase(of: i, to: .removed)
            if jobs.releaseSlice(ownedBy: id) { wakeIdleWorkers() }
            log(.workerRemoved(id))
            return .exit
        case .idle, .running:
            break
        }
        // It stalled, crawled or lied in this job: it sits the rest of it out.
        if workers[i].benchReason(in: jobs.current?.id) != nil {
            setPhase(of: i, to: .idle)
            return .wait
        }
        var taken = takeWork(for: id)
        if taken == nil, jobs.current?.spec.schedule == .stealing {
            taken = stealWork(for: i)
        }
        if taken == nil, reclaimQueued() { taken = takeWork(for: id) }
        if taken == nil { taken = takeBackup(for: i, now: now) }
        guard let taken else {  // no job, or no chunk for this worker
            setPhase(of: i, to: .idle)
            return .wait
        }
        let attempt = newAttempt(for: taken, to: id)
        workers[i].current = CurrentAttempt(job: taken.job, chunk: taken.chunk, attempt: attempt,
                                            elements: taken.elements, origin: taken.origin, startNanos: now)
        if let original = taken.backupOf { pairBackup(worker: i, with: original) }
        setPhase(of: i, to: .running)
        workers[i].cell.attemptProgress.store(0, ordering: .relaxed)
        return .run(AttemptTask(attempt: attempt, chunk: taken.chunk, elements: taken.elements, speed: workers[i].speed), then: [])
    }

    /// Work taken from the running job's pool for one attempt.
    struct Taken {
        let job: JobID
        let chunk: Int64
        let elements: ClosedRange<Int64>
        let piece: ChunkPiece?
        /// A backup's original attempt, which keeps running.
        var backupOf: CurrentAttempt.Twin? = nil
        var origin: AttemptOrigin { piece?.origin ?? .fresh }
    }

    mutating func takeWork(for id: WorkerID) -> Taken? {
        jobs.update { job -> Taken? in
            guard let (chunk, piece) = job.pool?.next(for: id) else { return nil }
            if piece?.origin.isRedo == true { job.chunksRedone += 1 }
            return Taken(job: job.id, chunk: chunk, elements: piece?.elements ?? job.spec.elements(ofChunk: chunk),
                         piece: piece)
        } ?? nil
    }

    /// A fresh attempt id for `taken`, given to worker `id`; the log says where a redo or a
    /// split-off piece came from.
    mutating func newAttempt(for taken: Taken, to id: WorkerID) -> AttemptID {
        if journal != nil, nextAttempt >= journal!.attemptCeiling { raiseAttemptCeiling() }
        let attempt = AttemptID(nextAttempt)
        nextAttempt += 1
        switch taken.origin {
        case .redo(let by): log(.chunkRedistributed(chunk: taken.chunk, from: by, to: id))
        case .split(let from): log(.chunkStolen(chunk: taken.chunk, from: from, to: id))
        case .fresh, .backup: break  // a backup's start is logged where it is chosen
        }
        return attempt
    }

    /// The journal's writer did not raise the stored ceiling of attempt ids in time (it does,
    /// long before): stored now, under the lock, or the journal is given up, since ids above
    /// what it stored could repeat after a restart.
    private mutating func raiseAttemptCeiling() {
        if let raised = journal!.raiseCeiling(nextAttempt + AttemptCeiling.step) {
            journal!.attemptCeiling = raised
        } else {
            journal = nil
            journalStopped = true
            log(.journalStopped(reason: "the ceiling of attempt ids could not be stored"))
        }
    }

    /// Hands in a finished attempt's sum. Only the current attempt of its worker counts;
    /// anything else was killed or superseded and is discarded and counted.
    /// Returns a local worker's pace sample (its elements, and the time it worked on them) for
    /// the caller to note: a thread that hands in a batch notes the batch's once.
    @discardableResult
    mutating func complete(worker i: Int, attempt: AttemptID, sum: UInt128,
                           now: UInt64) -> PaceSample? {
        guard let attemptInfo = workers[i].current, attemptInfo.attempt == attempt,
              jobs.current?.id == attemptInfo.job
        else {
            discardStale(worker: i, attempt: attempt)
            return nil
        }
        let handedIn = workers[i].forgesResults ? sum &+ 1 : sum  // a lesson's liar lies here
        if workers[i].checksResults,
           handedIn != ClosedForm.sumOfSquares128(attemptInfo.elements.lowerBound, attemptInfo.elements.upperBound) {
            refuseWrongSum(worker: i, attempt: attemptInfo)
            return nil
        }
        workers[i].clearAttempt()
        if !workers[i].queue.isEmpty { startQueued(worker: i, now: now) }
        if workers[i].splitRequestedBy != nil {
            // It finished before it saw the request: let the thief look again.
            workers[i].splitRequestedBy = nil
            wakeIdleWorkers()
        }
        record(attemptInfo, of: i, outcome: .done, now: now)
        if attemptInfo.twin != nil { fenceTwin(of: attemptInfo, winner: i, now: now) }
        let count = attemptInfo.elements.count64
        // A local thread's attempts carry their own finish times. A remote one's results arrive
        // several at a time; its pace is taken per message (`handIn(worker:arrived:now:)`).
        // A pause inside the attempt is no slowness of the worker's: left out of its pace.
        var pace: PaceSample?
        if !workers[i].isRemote, now > attemptInfo.startNanos + attemptInfo.pausedNanos {
            pace = PaceSample(elements: count, nanos: now - attemptInfo.startNanos - attemptInfo.pausedNanos)
        }
        workers[i].chunksDone += 1
        workers[i].elementsAccepted += UInt64(count)
        let acceptance = jobs.accept(chunk: attemptInfo.chunk, elements: count, sum: handedIn)
        if journal != nil, let (chunk, chunkSum) = acceptance.completed, let spec = jobs.current?.spec {
            let elements = spec.elements(ofChunk: chunk).count64
            journal!.accepted(AcceptedRange(job: attemptInfo.job, firstChunk: chunk, endChunk: chunk + 1,
                                            elements: elements, sum: chunkSum,
                                            lastAttempt: attemptInfo.attempt, worker: workers[i].cell.id,
                                            host: workers[i].remote?.host))
            journal!.credit(row: i, worker: workers[i].cell.id, host: workers[i].remote?.host, job: attemptInfo.job,
                            elements: elements)
        }
        if acceptance.jobDone {
            if let summary = jobs.finishCurrent(now: now) {
                journal?.pending.jobChanges.append(.finished(summary.id, verified: summary.verified, total: summary.total))
                log(.jobFinished(summary.id, verified: summary.verified, total: summary.total, seconds: summary.elapsed), now: now)
            }
            startNextJob()
        }
        return pace
    }

    /// Worker `i` handed in `attempt` with a sum that is not the closed form of its range: the
    /// sum is refused, the chunk goes back to the queue (unless a backup of it carries on), and
    /// the worker gets no more work in this job. The log and its row name it.
    mutating func refuseWrongSum(worker i: Int, attempt: CurrentAttempt) {
        let lost = abandonAttempt(of: i, outcome: .refused)
        workers[i].benched = (attempt.job, .wrongSum(chunk: attempt.chunk))
        jobs.update { $0.wrongSums += 1 }
        log(.wrongSumRefused(workers[i].cell.id, host: workers[i].remote?.host, chunk: attempt.chunk, job: attempt.job))
        logRequeue(lost, from: i)
    }

    /// Counts and logs a result that arrived for an attempt that is no longer current.
    mutating func discardStale(worker i: Int, attempt: AttemptID) {
        let chunk = jobs.countStale(attempt)
        log(.staleResultDiscarded(chunk: chunk ?? -1, attempt: attempt, worker: workers[i].cell.id))
    }
}
