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
}
