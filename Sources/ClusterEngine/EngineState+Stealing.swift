/// Work stealing, for the `stealing` schedule: an idle worker first moves queued chunks from the
/// largest slice into its own; once no slice has any, it asks the worker whose chunk has the most
/// time left to split it (`SplitPolicy` decides whom and where).
extension EngineState {
    /// Worker `i` found nothing in its own slice: steal the back half of the largest slice and
    /// take from it, or, with none left, ask for a split and wait for it.
    mutating func stealWork(for i: Int) -> Taken? {
        let id = workers[i].cell.id
        let stolen = jobs.update { job -> (victim: WorkerID, count: Int64)? in
            guard let stolen = job.pool?.stealSlice(for: id) else { return nil }
            job.chunksStolen += stolen.count
            return stolen
        } ?? nil
        guard let (victim, count) = stolen else {
            askForSplit(thief: i)
            return nil
        }
        log(.sliceStolen(count: count, from: victim, to: id))
        return takeWork(for: id)
    }

    /// Asks the worker whose chunk has the most time left (a paused one first) to split it at its
    /// next sub-block. The thief waits idle; the split wakes it.
    private mutating func askForSplit(thief: Int) {
        guard let job = jobs.current?.id else { return }
        let candidates = workers.enumerated().compactMap { v, record -> SplitPolicy.Candidate? in
            // Half of a backup pair is never split: its twin covers the same elements.
            // Nor is a run, which work stealing never hands out (see `runLength`).
            guard let attempt = record.current, attempt.job == job, record.splitRequestedBy == nil, attempt.twin == nil,
                  attempt.chunkCount == 1,
                  record.phase == .running || record.phase == .leaving || record.phase.isStopping
            else { return nil }
            let left = attempt.elements.count64 - record.cell.attemptProgress.load(ordering: .relaxed)
            return SplitPolicy.Candidate(index: v, left: left, speed: record.speed, isStopping: record.phase.isStopping)
        }
        guard let victim = SplitPolicy.victim(among: candidates, smallestSplit: smallestSplit,
                                              worthSplitting: worthSplitting) else { return }
        workers[victim].splitRequestedBy = thief
        workers[victim].cell.poke()
    }

    /// Worker `v` will not be split after all (its attempt got a backup, or was fenced off): the
    /// thief that asked, if any, is woken to look elsewhere, unless it is `busy` (the worker
    /// taking that backup, already at work).
    mutating func withdrawSplitRequest(of v: Int, busy: Int? = nil) {
        guard let thief = workers[v].splitRequestedBy else { return }
        workers[v].splitRequestedBy = nil
        if thief != busy { workers[thief].cell.wake() }
    }

    /// Worker `i`, standing at element `position` of its attempt with `sum` of the elements before
    /// it, gives up the unprocessed part: a share in proportion to the thief's speed, so both
    /// finish together, or all of it when paused. The part it gives up becomes a piece only the
    /// thief takes (anyone's, should the thief stop first). A paused worker also hands in what it
    /// did, so the job need not wait for it. Returns false if the worker holds no attempt any more.
    mutating func split(worker i: Int, at position: Int64, sum: UInt128, for thief: Int) -> Bool {
        guard var attempt = workers[i].current else { return true }
        let left = attempt.elements.upperBound - position + 1
        guard left >= smallestSplit, jobs.current?.id == attempt.job, attempt.twin == nil, attempt.chunkCount == 1 else {
            wakeIdleWorkers()  // nothing worth taking any more; the thief looks elsewhere
            return true
        }
        let keep = SplitPolicy.kept(of: left, victimSpeed: workers[i].speed, thiefSpeed: workers[thief].speed,
                                    victimStopping: workers[i].phase.isStopping)
        let id = workers[i].cell.id
        let givenUp = (position + keep)...attempt.elements.upperBound
        let thiefWaits = workers[thief].phase == .idle && workers[thief].current == nil
        jobs.update { job in
            if job.splitRemaining[attempt.chunk] == nil {
                job.splitRemaining[attempt.chunk] = job.spec.elements(ofChunk: attempt.chunk).count64
            }
            job.chunksSplit += 1
            let piece = ChunkPiece(chunk: attempt.chunk, elements: givenUp, origin: .split(from: id))
            // The thief may have been paused, killed or removed since it asked.
            if thiefWaits { job.pool?.reserve(piece, for: workers[thief].cell.id) } else { job.pool?.requeue(piece) }
        }
        log(.chunkSplit(chunk: attempt.chunk, from: id, elements: givenUp))
        wakeIdleWorkers()
        // A stopping worker that gives up the rest of its attempt gives back its queue as well:
        // otherwise handing the attempt in would start the next queued one, on a paused thread.
        if position + keep == attempt.elements.lowerBound || keep == 0, workers[i].phase.isStopping {
            giveQueueBack(worker: i)
        }
        if position + keep == attempt.elements.lowerBound {
            record(attempt, of: i, outcome: .handedOver, now: clock.now())
            workers[i].clearAttempt()
            return false
        }
        attempt.elements = attempt.elements.lowerBound...(position + keep - 1)
        attempt.wasSplit = true
        workers[i].current = attempt
        guard keep == 0 else { return true }
        if let pace = complete(worker: i, attempt: attempt.attempt, sum: sum, now: clock.now()) {
            notePace(worker: i, elements: pace.elements, nanos: pace.nanos)
        }
        return false
    }
}
