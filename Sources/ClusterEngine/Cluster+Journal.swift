/// The engine's side of `--journal`: what the journal's writer calls. See `JournalFeed`.
extension Cluster {
    /// From now on, every accepted chunk and job change is kept for the journal's writer to take
    /// (`takeJournalBatch`). Attempt ids continue from `attemptFloor` (the ceiling a journal
    /// stored before a restart: every id handed out before is below it) and stay below
    /// `attemptCeiling`, which `raiseCeiling` stores higher when the writer has not in time.
    public func attachJournal(attemptFloor: UInt64, attemptCeiling: UInt64,
                              raiseCeiling: @escaping @Sendable (UInt64) -> UInt64?) {
        withState { s in
            s.nextAttempt = max(s.nextAttempt, attemptFloor)
            s.journal = JournalFeed(attemptCeiling: max(attemptCeiling, s.nextAttempt + 1), raiseCeiling: raiseCeiling)
        }
    }

    /// What happened since the last batch, and the attempt ids handed out so far (every id is
    /// below `nextAttempt`) against the stored ceiling. Nil once the journal is detached.
    public func takeJournalBatch() -> (batch: JournalBatch, nextAttempt: UInt64, attemptCeiling: UInt64)? {
        withState { s in
            guard s.journal != nil else { return nil }
            let batch = s.journal!.takeBatch()
            return (batch, s.nextAttempt, s.journal!.attemptCeiling)
        }
    }

    /// The writer stored `ceiling`: ids may go up to it.
    public func journalStoredCeiling(_ ceiling: UInt64) {
        withState { s in
            if s.journal != nil { s.journal!.attemptCeiling = max(s.journal!.attemptCeiling, ceiling) }
        }
    }

    /// The journal went with a crash of the coordinator (the lesson): nothing more is kept for
    /// it, and what it had not taken is dropped.
    public func dropJournal() { withState { $0.journal = nil } }

    /// The journal stopped (a write failed): nothing more is kept for it.
    public func detachJournal() {
        withState { s in
            if s.journal != nil { s.journalStopped = true }
            s.journal = nil
        }
    }

    /// Queues the jobs a journal kept, the running one first, under their ids, with their
    /// accepted chunks counted and never handed out again.
    public func resume(_ jobs: [JournaledJob]) { withState { $0.resume(jobs) } }

    /// Logs the line a restart says ("resuming job 3 at 63.2%: …"), for the event log.
    public func logJournalResumed(_ job: JournaledJob, file: String) {
        withState { $0.log(.journalResumed(job.id, chunksAccepted: job.acceptedChunks, chunkCount: job.spec.chunkCount, file: file)) }
    }

    /// Logs that the journal stopped, and why, for the event log and the header.
    public func logJournalStopped(_ reason: String) {
        withState { $0.log(.journalStopped(reason: reason)) }
    }

    /// For the lesson on the coordinator as a single point of failure: the coordinator crashes
    /// and is rebuilt in this process, as a restart would rebuild it. Its threads stop, every
    /// attempt in flight and every accepted chunk of the running job is dropped, and the job
    /// comes back as `rebuilt` makes it (from a journal reopened after the crash, or from
    /// nothing), under its id; as many threads as ran before start again. Nil, and nothing
    /// done, when no job runs or remote workers are joined (a real coordinator would lose them).
    public func crashCoordinator(rebuildingJob rebuilt: @escaping (JobSpec, JobID) -> JournaledJob) -> Int64? {
        let speeds: [Double]? = withState { s in
            guard s.jobs.current != nil, !s.workers.contains(where: { $0.remote != nil && $0.phase != .removed }) else { return nil }
            let speeds = s.workers.filter { $0.phase != .removed && $0.phase != .leaving }.map(\.speed)
            s.isShuttingDown = true
            for record in s.workers { record.cell.poke() }
            return speeds
        }
        guard let speeds else { return nil }
        waitForThreads()
        let lost = withState { s in
            s.isShuttingDown = false
            return s.rebuildAfterCrash(rebuilt)
        }
        for speed in speeds { addWorker(speed: speed) }
        return lost
    }
}

/// A journal a script turns on and off, and that a crash of the coordinator leaves behind: the
/// lesson on the coordinator as a single point of failure (`journal on`, `crash coordinator`).
/// ClusterJournal's `TemporaryJournal` is the real one, an SQLite file of its own.
public protocol LessonJournal: AnyObject {
    var isOn: Bool { get }
    /// Keeps `cluster`'s jobs from now on, in a new journal.
    func start(keeping cluster: Cluster) throws
    /// The coordinator crashes with its journal (what the writer had not stored is lost), the
    /// file is opened again as a restart opens it, and `cluster` is rebuilt from it and kept by
    /// it from then on. The accepted elements lost; nil when `cluster` could not crash.
    func crash(_ cluster: Cluster) throws -> Int64?
    /// Stops keeping `cluster`'s jobs; the file is gone.
    func stop(_ cluster: Cluster)
}
