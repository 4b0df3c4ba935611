/// Attempt queues: every worker holds its current attempt and, behind it, as many queued ones as
/// its transport needs: a round trip's worth for a remote one; for a local thread, enough tiny
/// chunks that it need not take the engine lock for each (none for chunks of normal size).
extension EngineState {
    /// How many attempts worker `i` keeps queued behind its current one, with chunks of
    /// `chunkSize`: what it gets through in `queueNanos` at its measured pace. A remote one keeps
    /// at least 1 and at most `maxRemoteDepth`, and never less than `queueElements`' worth: over
    /// a long round trip its results arrive late and its pace reads slow, and a queue sized by
    /// that pace alone would shrink until the thread waits most of the time (46× the clean job's
    /// time at 100 ms, against 5.8× with this floor; BENCHMARKS.md, section 21).
    /// A local thread keeps at most `maxLocalDepth`, and none while its pace is unknown or its
    /// chunks last longer than that.
    func queueDepth(worker i: Int, chunkSize: Int64) -> Int {
        // Field by field: a copy of the whole record, once per visit, showed with tiny chunks.
        let chunk = Double(max(1, chunkSize))
        let queueNanos = workers[i].queueNanos, nanosPerElement = workers[i].nanosPerElement
        if workers[i].isRemote {
            let elementsWorth = Double(workers[i].queueElements) / chunk
            let depth = queueNanos > 0 && nanosPerElement > 0
                ? max(elementsWorth, queueNanos / (nanosPerElement * chunk))
                : elementsWorth
            return Int(min(Double(Self.maxRemoteDepth), max(1, depth)))
        }
        guard queueNanos > 0, nanosPerElement > 0 else { return 0 }
        return Int(min(Double(Self.maxLocalDepth), queueNanos / (nanosPerElement * chunk)))
    }

    /// How many whole chunks one attempt of worker `i` covers. With chunks that last a few
    /// hundred nanoseconds, the engine's work per attempt (its id, its record, the timeline's
    /// entry, the hand-in) is a third of the kernel's time, and no trimming of it reached the
    /// kernel's pace (BENCHMARKS.md, section 32): so a local thread gets a run of them lasting
    /// about its `runNanos` (50 µs) at its measured pace, with the engine's work done once for
    /// the run: a few hundred nanoseconds in 50 µs, while a pause or a kill still answers
    /// within one sub-block. 1 for a remote worker (its queue and batched results do this job),
    /// under work stealing (which splits attempts), while its pace is unknown, and when
    /// claiming ahead is off.
    func runLength(worker i: Int) -> Int64 {
        let runNanos = workers[i].runNanos
        guard runNanos > 0, workers[i].queueNanos > 0, workers[i].nanosPerElement > 0,
              let spec = jobs.current?.spec, spec.schedule != .stealing else { return 1 }
        let chunkNanos = workers[i].nanosPerElement * Double(max(1, spec.chunkSize))
        return Int64(max(1, min(Double(Self.maxRunLength), runNanos / chunkNanos)))
    }

    /// A run covers at most this many chunks (50 µs of chunks of 1 element at 1 ns each).
    static let maxRunLength: Int64 = 65_536

    /// A local thread's claim ahead stops here: enough that the engine lock is taken once per
    /// 257 tiny chunks (at the IFMA kernel's 33 G/s a chunk of 4 Ki lasts 124 ns: 32 made a
    /// visit every 4 µs), few enough that a kill loses little finished but unreported work
    /// (the window, 100 µs, bounds it first for any chunk longer than 400 ns).
    static let maxLocalDepth = 256
    /// A remote thread's queue stops here: with tiny chunks a round trip's worth would be tens
    /// of thousands of attempts, each a line in a message and a record here.
    static let maxRemoteDepth = 1024

    /// Remote worker `i`'s round trip is `seconds`: it keeps queued, besides its base queue
    /// (`remoteQueueSeconds` of work), twice the round trip's worth, so that its queue outlasts the
    /// trip of its results to the coordinator and of the next attempts back, with room for jitter.
    mutating func noteRoundTrip(worker i: Int, seconds: Double) {
        guard workers[i].isRemote, seconds.isFinite, seconds >= 0 else { return }
        workers[i].queueNanos = workers[i].baseQueueNanos + 2 * min(seconds, 10) * 1e9
    }

    /// Worker `i` did `elements` in `nanos` of work: its pace moves a quarter of the way to that.
    ///
    /// A remote worker's pace is read from when its results arrive, and a late message (a slow
    /// round trip, a retransmission) reads as slowness it does not have. Its queue is sized by
    /// that pace, and a queue sized too small makes it wait and read slower still: so for a
    /// remote worker a faster reading counts at once and a slower one only a sixteenth.
    mutating func notePace(worker i: Int, elements: Int64, nanos: UInt64) {
        guard elements > 0, nanos > 0 else { return }
        let pace = Double(nanos) / Double(elements)
        // The job's pace: every worker's samples together, so the many of fast workers weigh most.
        jobNanosPerElement = jobNanosPerElement == 0 ? pace : jobNanosPerElement + (pace - jobNanosPerElement) / 32
        let old = workers[i].nanosPerElement
        if old == 0 {
            workers[i].nanosPerElement = pace
        } else if workers[i].isRemote {
            workers[i].nanosPerElement = pace < old ? pace : old + (pace - old) / 16
        } else {
            workers[i].nanosPerElement = old + (pace - old) / 4
        }
    }

    /// Hands in the results a local thread held back, in the order it finished them. One whose
    /// attempt was taken away meanwhile (a kill, a shutdown) is stale, as a remote thread's
    /// result on its way would be: discarded and counted.
    /// Their pace is noted once, over the batch: per result it cost two divisions under the
    /// lock every 124 ns at the IFMA kernel's speed on 4 Ki chunks.
    mutating func handIn(worker i: Int, held: [HeldResult]) {
        var batch = PaceSample(elements: 0, nanos: 0)
        for result in held {
            guard let sample = complete(worker: i, attempt: result.attempt, sum: result.sum, now: result.finishedNanos) else { continue }
            batch.elements += sample.elements
            batch.nanos += sample.nanos
        }
        notePace(worker: i, elements: batch.elements, nanos: batch.nanos)
    }

    /// Hands in a remote thread's results that arrived together at `now`, in the order it
    /// finished them. Its pace is taken from them all, their elements over the time since it was
    /// last known to be working (per result it would read as one long attempt and then several
    /// that took no time), and only when it cannot have waited meanwhile: a pace that counted a
    /// pause or a wait for work would shrink its queue, and a short queue makes it wait more.
    mutating func handIn(worker i: Int, arrived results: [(attempt: AttemptID, sum: UInt128)], now: UInt64) {
        let since = workers[i].workingSinceNanos
        var elements: Int64 = 0
        for result in results {
            if let current = workers[i].current, current.attempt == result.attempt { elements += current.elements.count64 }
            complete(worker: i, attempt: result.attempt, sum: result.sum, now: now)
        }
        if let since, now > since, elements > 0 { notePace(worker: i, elements: elements, nanos: now - since) }
        // Still busy with an attempt that was queued: it went on to it without waiting.
        workers[i].workingSinceNanos = workers[i].current != nil ? now : nil
    }

    /// Tops up worker `i`'s queue behind its current attempt, appending what it adds to `tasks`.
    mutating func refillQueue(worker i: Int, into tasks: inout [AttemptTask]) {
        // Read the job's fields, never copy the job: a copy alive while `takeWork` changes its
        // pool would copy the pool's storage.
        guard workers[i].phase == .running,
              let attempt = workers[i].current, jobs.current?.id == attempt.job,
              let chunkSize = jobs.current?.spec.chunkSize
        else { return }
        let run = runLength(worker: i)
        let depth = queueDepth(worker: i, chunkSize: chunkSize * run)
        guard workers[i].queue.count < depth else { return }
        let id = workers[i].cell.id
        let speed = workers[i].speed
        tasks.reserveCapacity(tasks.count + depth - workers[i].queue.count)
        while workers[i].queue.count < depth, let taken = takeWork(for: id, run: run) {
            let queued = QueuedAttempt(job: taken.job, chunk: taken.chunk, chunkCount: taken.chunkCount,
                                       attempt: newAttempt(for: taken, to: id), elements: taken.elements, piece: taken.piece)
            workers[i].queue.append(queued)
            tasks.append(AttemptTask(attempt: queued.attempt, chunk: queued.chunk, elements: queued.elements, speed: speed))
        }
    }

    /// Worker `i` finished its attempt; the first queued one becomes current.
    mutating func startQueued(worker i: Int, now: UInt64) {
        let next = workers[i].queue.removeFirst()
        workers[i].current = CurrentAttempt(job: next.job, chunk: next.chunk, chunkCount: next.chunkCount, attempt: next.attempt,
                                            elements: next.elements, origin: next.piece?.origin ?? .fresh, startNanos: now)
    }

    /// Returns worker `i`'s queued attempts to the pool, untouched; their ids become stale.
    mutating func giveQueueBack(worker i: Int) {
        guard !workers[i].queue.isEmpty else { return }
        for queued in workers[i].queue.reversed() { returnToPool(queued, owner: workers[i].cell.id) }
        workers[i].queue.removeAll()
        workers[i].cell.poke()  // its session tells the thread to abandon them
        wakeIdleWorkers()
    }

    /// An idle worker found nothing: take the last queued attempt of the remote worker with the
    /// longest queue back into the shared pool. True if there was one. Never under the static
    /// schedule, where each worker keeps to its own slice, queued or not. Never from a local
    /// thread: its queue is at most `localClaimAheadSeconds` (100 µs) of its own work, and it
    /// may have begun the attempt taken (it visits the engine only between batches), which was
    /// then summed twice and showed as a stale result at the end of a job of tiny chunks.
    mutating func reclaimQueued() -> Bool {
        guard jobs.current?.spec.schedule != .static else { return false }
        // One pass, no copies: an idle worker comes here at every visit, the table may be long.
        var longest = 0, owner: Int?
        for i in workers.indices where workers[i].isRemote && workers[i].queue.count > longest {
            longest = workers[i].queue.count
            owner = i
        }
        guard let v = owner else { return false }
        let queued = workers[v].queue.removeLast()
        guard returnToPool(queued, owner: nil) else { return false }
        workers[v].cell.poke()
        return true
    }

    /// Puts a queued attempt's work back at the front of its job's pool, untouched: of `owner`'s
    /// own slice if it has one (static and stealing), else of the shared queue. Its attempt id
    /// stays known, so a result for it that was already on its way counts as stale. True if its
    /// job is still the running one.
    @discardableResult
    private mutating func returnToPool(_ queued: QueuedAttempt, owner: WorkerID?) -> Bool {
        jobs.forget(attempt: queued.attempt, of: queued.chunk)
        guard jobs.current?.id == queued.job else { return false }
        jobs.update { job in
            job.pool?.giveBack(chunks: ChunkSpan(first: queued.chunk, end: queued.chunk + queued.chunkCount),
                               piece: queued.piece, to: owner)
            // Counted when it was taken; it is counted again when it is taken next.
            if queued.piece?.origin.isRedo == true { job.chunksRedone -= 1 }
        }
        return true
    }
}
