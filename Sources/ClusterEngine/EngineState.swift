import DequeModule

/// The engine's mutable state, guarded by the engine lock. Every method runs with that lock held,
/// is short, and does no I/O.
///
/// It composes the parts that each have one concern and their own tests: `JobLedger` (jobs and
/// the accounting of results), `WorkPool` (who may take which chunk), `WorkerPhase` (the life of
/// a worker) and `SplitPolicy` (work stealing's choices). What is here ties them together: the
/// worker records and the event log. Jobs, handing attempts out and in (with attempt-id
/// fencing), attempt queues, work stealing, backups, the timeline and the controls live in the
/// files named after them (`EngineState+Jobs`, `+Attempts`, `+Queues`, …).
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
    /// Every attempt that ended since a trace's writer last took them; nil while not tracing.
    var traced: [TimelineEntryWithHost]?
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
}
