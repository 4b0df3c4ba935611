/// The task timeline: the recent attempts, exactly (`TimelineLog`), and the whole job in bounded
/// memory (`JobTimeline`), including when each worker was paused.
extension EngineState {
    /// Moves worker `i` to `phase`. Every phase change goes through here so that the timeline
    /// knows when a worker's thread was stopped by a pause, and so that a piece split off for a
    /// worker that stops taking work goes to the others. Reads the clock only on a pause: this
    /// runs once per chunk, under the lock. `now` is read only when needed, unless given.
    mutating func setPhase(of i: Int, to phase: WorkerPhase, now given: UInt64? = nil) {
        var read = given
        func now() -> UInt64 {
            if read == nil { read = clock.now() }
            return read!
        }
        let wasPaused = workers[i].phase == .paused
        // Stopped or stopping, it is no longer certainly working (see `workingSinceNanos`).
        if phase != .running { workers[i].workingSinceNanos = nil }
        if phase == .running, workers[i].phase != .running, workers[i].phase != .leaving {
            workers[i].runningSinceNanos = now()
        }
        if phase == .removed, workers[i].phase != .removed {
            liveWorkers -= 1
            removedRows.append(i)
        } else if phase != .removed, workers[i].phase == .removed {
            liveWorkers += 1  // a process's thread, rejoining
        }
        workers[i].phase = phase
        if phase != .idle, phase != .running,
           jobs.update({ $0.pool?.releaseReservation(of: workers[i].cell.id) ?? false }) == true {
            wakeIdleWorkers()
        }
        if phase == .paused, !wasPaused {
            workers[i].pausedSinceNanos = now()
        } else if phase != .paused, wasPaused, let since = workers[i].pausedSinceNanos {
            workers[i].pausedSinceNanos = nil
            let resumed = now()
            if let attempt = workers[i].current, resumed > max(since, attempt.startNanos) {
                workers[i].current!.pausedNanos += resumed - max(since, attempt.startNanos)
            }
            jobTimeline?.paint(.paused, worker: workers[i].cell.id, lane: i, from: since, to: resumed)
        }
    }

    /// Adds a finished attempt to the task timeline.
    mutating func record(_ attempt: CurrentAttempt, of i: Int, outcome: TimelineSegment.Outcome,
                         now: UInt64) {
        let worker = workers[i].cell.id
        let entry = TimelineEntry(attempt: attempt, worker: worker, outcome: outcome, endNanos: now)
        timeline.append(entry)
        if traced != nil { traced!.append(TimelineEntryWithHost(entry: entry, host: workers[i].remote?.host)) }
        if jobTimeline?.job == attempt.job {
            var mark = TimelineMark(outcome: outcome, origin: attempt.origin, wasSplit: attempt.wasSplit, chunk: attempt.chunk)
            // Throttled under half speed, or measured at under half the job's pace.
            if mark.isDone, workers[i].speed < 0.5
                || (jobNanosPerElement > 0 && workers[i].nanosPerElement > 2 * jobNanosPerElement) { mark = .slow }
            jobTimeline?.paint(mark, worker: worker, lane: i, from: attempt.startNanos, to: now)
        }
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

    /// The whole job's timeline as of `now`, with the attempts in flight and the pauses still
    /// going painted in. Cheap under the lock: the lanes are shared until one is painted.
    func jobTimeline(now: UInt64) -> JobTimeline? {
        guard var whole = jobTimeline else { return nil }
        // A finished job's picture ends with it.
        let end = jobs.current?.id == whole.job ? now : (jobs.lastFinished?.endNanos ?? now)
        for (i, record) in workers.enumerated() {
            if let attempt = record.current, attempt.job == whole.job {
                let mark = TimelineMark(outcome: .inFlight, origin: attempt.origin, wasSplit: attempt.wasSplit, chunk: attempt.chunk)
                whole.paint(mark, worker: record.cell.id, lane: i, from: attempt.startNanos, to: end)
            }
            if let since = record.pausedSinceNanos, since < end {
                whole.paint(.paused, worker: record.cell.id, lane: i, from: since, to: end)
            }
        }
        return whole
    }
}
