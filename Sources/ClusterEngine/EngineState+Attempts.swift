import ClusterModel

/// Handing attempts out (what a worker does next, fresh attempt ids) and in (accepting a
/// result, refusing a wrong sum, discarding a stale one), with attempt-id fencing.
extension EngineState {
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

    mutating func decideStep(worker i: Int, now: UInt64) -> WorkerStep {
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
    mutating func nextStep(worker i: Int, now: UInt64) -> WorkerStep {
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
        var taken = takeWork(for: id, run: runLength(worker: i))
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
        workers[i].current = CurrentAttempt(job: taken.job, chunk: taken.chunk, chunkCount: taken.chunkCount, attempt: attempt,
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
        /// Whole chunks from `chunk` on: more than 1 for a run.
        var chunkCount: Int64 = 1
        let elements: ClosedRange<Int64>
        let piece: ChunkPiece?
        /// A backup's original attempt, which keeps running.
        var backupOf: CurrentAttempt.Twin? = nil
        var origin: AttemptOrigin { piece?.origin ?? .fresh }
    }

    /// Takes the next work for worker `id`: up to `run` whole chunks in one attempt (see
    /// `runLength`), or one chunk or piece.
    mutating func takeWork(for id: WorkerID, run: Int64 = 1) -> Taken? {
        let share = Int64(max(1, 2 * liveWorkers))
        return jobs.update { job -> Taken? in
            guard let (chunks, piece) = job.pool?.next(for: id, run: run, runShare: share) else { return nil }
            if piece?.origin.isRedo == true { job.chunksRedone += 1 }
            let elements = piece?.elements
                ?? (chunks.count == 1 ? job.spec.elements(ofChunk: chunks.first)
                    : job.spec.elements(ofChunk: chunks.first).lowerBound...job.spec.elements(ofChunk: chunks.end - 1).upperBound)
            return Taken(job: job.id, chunk: chunks.first, chunkCount: chunks.count, elements: elements, piece: piece)
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
    mutating func raiseAttemptCeiling() {
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
        workers[i].chunksDone += Int(attemptInfo.chunkCount)
        workers[i].elementsAccepted += UInt64(count)
        workers[i].jobChunksDone += Int(attemptInfo.chunkCount)
        workers[i].jobElementsAccepted += UInt64(count)
        let acceptance = jobs.accept(chunk: attemptInfo.chunk, chunkCount: attemptInfo.chunkCount, elements: count, sum: handedIn)
        if journal != nil, let (chunks, chunkSum) = acceptance.completed, let spec = jobs.current?.spec {
            let elements = chunks.count == 1 ? spec.elements(ofChunk: chunks.first).count64 : count
            journal!.accepted(AcceptedRange(job: attemptInfo.job, firstChunk: chunks.first, endChunk: chunks.end,
                                            elements: elements, sum: chunkSum,
                                            lastAttempt: attemptInfo.attempt, worker: workers[i].cell.id,
                                            host: workers[i].remote?.host))
            journal!.credit(row: i, worker: workers[i].cell.id, host: workers[i].remote?.host, job: attemptInfo.job,
                            chunks: chunks.count, elements: elements)
        }
        if acceptance.jobDone {
            let shares = workers.filter { $0.jobChunksDone > 0 }
                .map { WorkerJobShare(worker: $0.cell.id, chunks: $0.jobChunksDone, elements: $0.jobElementsAccepted) }
                .sorted { $0.worker < $1.worker }
            if let summary = jobs.finishCurrent(now: now, shares: shares) {
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
