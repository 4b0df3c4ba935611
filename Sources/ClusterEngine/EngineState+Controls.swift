/// The controls (kill, pause, resume, restart, remove, throttle) and the check-in through which a
/// running worker learns of them. `WorkerPhase` holds the rules; what is here applies them to the
/// worker's attempt and the job's pool. Each control pokes the worker, which checks in at its
/// next sub-block.
extension EngineState {
    /// A simulated crash: the attempt's partial work is lost and its chunk is re-queued.
    mutating func kill(worker i: Int) -> Bool {
        guard let next = workers[i].phase.afterKill else { return false }
        let lostChunk = abandonAttempt(of: i, outcome: .killed)
        setPhase(of: i, to: next)
        workers[i].cell.poke()
        log(.workerKilled(workers[i].cell.id, chunk: lostChunk))
        logRequeue(lostChunk, from: i)
        return true
    }

    /// Takes worker `i`'s attempt away as a crash does: its partial work is lost, its chunk goes
    /// back to the queue and its own slice is freed. Returns the chunk it held, if any.
    /// `outcome`: what the timeline says became of the attempt.
    mutating func abandonAttempt(of i: Int, outcome: TimelineSegment.Outcome) -> Int64? {
        let id = workers[i].cell.id
        var lostChunk: Int64?
        if let attempt = workers[i].current, jobs.current?.id == attempt.job {
            // Unless its backup (or original) carries on, the chunk goes back to the queue.
            if !unpairBackup(attempt, lostBy: i) {
                jobs.update { job in
                    // A run's first chunk is redone as a lost chunk is; the rest go back untouched,
                    // as a queue does (the thread may not have reached them).
                    var redone = attempt.elements
                    if attempt.chunkCount > 1 {
                        redone = job.spec.elements(ofChunk: attempt.chunk)
                        job.pool?.giveBack(chunks: ChunkSpan(first: attempt.chunk + 1, end: attempt.chunk + attempt.chunkCount), piece: nil)
                    }
                    job.pool?.requeue(ChunkPiece(chunk: attempt.chunk, elements: redone, origin: .redo(lostBy: id)))
                    job.chunksRequeued += 1
                }
                lostChunk = attempt.chunk
            }
            jobs.forget(attempt: attempt.attempt, of: attempt.chunk)
            record(attempt, of: i, outcome: outcome, now: clock.now())
        }
        workers[i].splitRequestedBy = nil
        giveQueueBack(worker: i)
        _ = jobs.releaseSlice(ownedBy: id)
        workers[i].clearAttempt()
        return lostChunk
    }

    /// Logs a chunk's return to the queue and lets idle workers take it.
    mutating func logRequeue(_ chunk: Int64?, from i: Int) {
        if let chunk { log(.chunkRequeued(chunk: chunk, from: workers[i].cell.id)) }
        wakeIdleWorkers()
    }

    /// A worker with an attempt is `pausing` until its thread stops (see `checkIn`); one
    /// without is stopped already. Its queue goes back when it checks in, not now.
    mutating func pause(worker i: Int, now: UInt64? = nil) -> Bool {
        change(worker: i, to: workers[i].phase.afterPause(holdingAttempt: workers[i].current != nil),
               logging: ClusterEventKind.workerPaused, now: now)
    }

    mutating func resume(worker i: Int, now: UInt64? = nil) -> Bool {
        change(worker: i, to: workers[i].phase.afterResume(holdingAttempt: workers[i].current != nil),
               logging: ClusterEventKind.workerResumed, now: now)
    }

    mutating func restart(worker i: Int) -> Bool {
        change(worker: i, to: workers[i].phase.afterRestart, logging: ClusterEventKind.workerRestarted)
    }

    /// Moves worker `i` to `next`, if the control applies (`next` is not nil): it is poked to
    /// look at its new phase, and the log says what happened.
    private mutating func change(worker i: Int, to next: WorkerPhase?, logging event: (WorkerID) -> ClusterEventKind,
                                 now: UInt64? = nil) -> Bool {
        guard let next else { return false }
        setPhase(of: i, to: next, now: now)
        workers[i].cell.poke()
        log(event(workers[i].cell.id))
        return true
    }

    /// A worker with a chunk finishes it first (a paused one is resumed to do so); any other
    /// worker leaves at once.
    mutating func remove(worker i: Int) -> Bool {
        let id = workers[i].cell.id
        guard let next = workers[i].phase.afterRemove(holdingAttempt: workers[i].current != nil) else { return false }
        setPhase(of: i, to: next)
        if next == .leaving {
            log(.workerLeaving(id))
        } else {
            if jobs.releaseSlice(ownedBy: id) { wakeIdleWorkers() }
            log(.workerRemoved(id))
        }
        workers[i].cell.poke()
        return true
    }

    mutating func forgeResults(worker i: Int) -> Bool {
        guard !workers[i].isRemote, workers[i].phase != .removed, !workers[i].forgesResults else { return false }
        workers[i].forgesResults = true
        log(.workerForging(workers[i].cell.id))
        return true
    }

    mutating func setSpeed(worker i: Int, to speed: Double) -> Bool {
        guard workers[i].phase != .removed else { return false }
        workers[i].speed = speed
        workers[i].workingSinceNanos = nil  // its pace changes from here
        workers[i].cell.poke()
        log(.workerThrottled(workers[i].cell.id, speed: speed))
        return true
    }

    /// Worker `i` stopped between sub-blocks of `attempt` at element `position`, with `sum` of the
    /// elements before it, because a controller changed something: what it does now. The only
    /// place a split happens, because only the worker knows exactly how far it got.
    mutating func checkIn(worker i: Int, attempt: AttemptID, position: Int64, sum: UInt128, now: UInt64? = nil) -> CheckInAnswer {
        guard !isShuttingDown, workers[i].current?.attempt == attempt else { return .abandon }
        workers[i].workingSinceNanos = nil  // it stopped to check in
        if let thief = workers[i].splitRequestedBy {
            workers[i].splitRequestedBy = nil
            if !split(worker: i, at: position, sum: sum, for: thief) { return .abandon }
        }
        setPhase(of: i, to: workers[i].phase.whenThreadStops, now: now)
        let record = workers[i]
        // A remote thread may have finished, and even started, attempts queued behind the one
        // the controller saw (it can hold results back a few milliseconds). Only now, stopped
        // inside `attempt` with those results in, are the ones behind it known to be untouched.
        if record.phase == .paused || record.phase == .leaving {
            giveQueueBack(worker: i)
            trimRun(of: i, at: position)
        }
        if record.phase == .paused { return .hold }
        return .proceed(last: workers[i].current!.elements.upperBound, speed: record.speed)
    }

    /// Worker `i` stopped (paused, or leaving) at element `position` of a run: it keeps the
    /// chunk it is on and gives the chunks after it back untouched, so that a paused worker
    /// holds one chunk, as it does without runs, and the others finish the job meanwhile.
    mutating func trimRun(of i: Int, at position: Int64) {
        guard var attempt = workers[i].current, attempt.chunkCount > 1, let spec = jobs.current?.spec,
              jobs.current?.id == attempt.job, spec.chunkSize > 0 else { return }
        let end = attempt.chunk + attempt.chunkCount
        let onChunk = min(end - 1, max(attempt.chunk, (position - spec.lo) / spec.chunkSize))
        guard onChunk + 1 < end else { return }
        let owner = workers[i].cell.id
        jobs.update { $0.pool?.giveBack(chunks: ChunkSpan(first: onChunk + 1, end: end), piece: nil, to: owner) }
        attempt.chunkCount = onChunk + 1 - attempt.chunk
        attempt.elements = attempt.elements.lowerBound...spec.elements(ofChunk: onChunk).upperBound
        workers[i].current = attempt
        wakeIdleWorkers()
    }
}
