/// Attempt queues: every worker holds its current attempt and, behind it, as many queued ones as
/// its transport needs (none for a local thread, a round trip's worth for a remote one).
extension EngineState {
    /// How many attempts worker `i` keeps queued behind its current one, with chunks of
    /// `chunkSize`: none for a local thread; for a remote one, its queue's elements in chunks, at
    /// least 1 and at most 64.
    func queueDepth(worker i: Int, chunkSize: Int64) -> Int {
        let elements = workers[i].queueElements
        return elements == 0 ? 0 : Int(min(64, max(1, elements / max(1, chunkSize))))
    }

    /// Tops up worker `i`'s queue behind its current attempt; returns what was added.
    mutating func refillQueue(worker i: Int) -> [QueuedAttempt] {
        // Read the job's fields, never copy the job: a copy alive while `takeWork` changes its
        // pool would copy the pool's storage.
        guard workers[i].queueElements > 0, workers[i].phase == .running,
              let attempt = workers[i].current, jobs.current?.id == attempt.job,
              let chunkSize = jobs.current?.spec.chunkSize
        else { return [] }
        let depth = queueDepth(worker: i, chunkSize: chunkSize)
        let id = workers[i].cell.id
        var added: [QueuedAttempt] = []
        while workers[i].queue.count < depth, let taken = takeWork(for: id) {
            let queued = QueuedAttempt(job: taken.job, chunk: taken.chunk, attempt: newAttempt(for: taken, to: id),
                                       elements: taken.elements, piece: taken.piece)
            workers[i].queue.append(queued)
            added.append(queued)
        }
        return added
    }

    /// Worker `i` finished its attempt; the first queued one becomes current.
    mutating func startQueued(worker i: Int, now: UInt64) {
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

    /// An idle worker found nothing: take the last queued attempt of the worker with the longest
    /// queue back into the pool. True if there was one.
    mutating func reclaimQueued() -> Bool {
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
    /// its job is still the running one.
    @discardableResult
    private mutating func returnToPool(_ queued: QueuedAttempt) -> Bool {
        jobs.forget(attempt: queued.attempt, of: queued.chunk)
        guard jobs.current?.id == queued.job else { return false }
        jobs.update { job in
            job.pool?.giveBack(chunk: queued.chunk, piece: queued.piece)
            // Counted when it was taken; it is counted again when it is taken next.
            if queued.piece?.origin.isRedo == true { job.chunksRedone -= 1 }
        }
        return true
    }
}
