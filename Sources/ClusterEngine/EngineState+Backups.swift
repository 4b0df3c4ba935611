/// Backup attempts at the tail of a job (`BackupPolicy` decides which): a worker that finds
/// nothing to take runs a copy of an attempt that is far behind or has stalled; whichever of the
/// two hands in first is accepted and the other is fenced off (its result, should it come, is
/// stale). A worker whose attempt lost to a backup without a single element done sits the rest
/// of the job out, so one that heartbeats but never sums cannot hold a job for ever.
extension EngineState {
    /// Worker `i` may run a backup: idle, with nothing queued, taking work in this job.
    private func mayBackUp(_ i: Int, job: JobID) -> Bool {
        let record = workers[i]
        return record.phase == .idle && record.current == nil && record.queue.isEmpty && record.benchedInJob != job
    }

    /// Two workers of one remote process: a copy there could stall for the same reason.
    private func sameRemoteProcess(_ a: Int, _ b: Int) -> Bool {
        guard let x = workers[a].remote, let y = workers[b].remote else { return false }
        return x.host == y.host && x.pid == y.pid
    }

    /// The attempt worker `i` should back up now, if one deserves it.
    func backupChoice(for i: Int, now: UInt64) -> BackupPolicy.Candidate? {
        guard let policy = backupPolicy, let job = jobs.current?.id, let schedule = jobs.current?.spec.schedule,
              mayBackUp(i, job: job) else { return nil }
        var candidates: [BackupPolicy.Candidate] = []
        for v in workers.indices where v != i {
            let record = workers[v]
            guard let attempt = record.current, attempt.job == job, attempt.twin == nil,
                  record.phase == .running || record.phase == .leaving,
                  now > attempt.startNanos, !sameRemoteProcess(i, v) else { continue }
            candidates.append(BackupPolicy.Candidate(
                index: v, elements: attempt.elements.count64,
                done: record.cell.attemptProgress.load(ordering: .relaxed), elapsedNanos: now - attempt.startNanos))
        }
        guard !candidates.isEmpty else { return nil }
        // A worker that has not finished anything yet is assumed as fast as the fastest known.
        var pace = workers[i].nanosPerElement
        if pace == 0 { pace = workers.map(\.nanosPerElement).filter { $0 > 0 }.min() ?? 0 }
        return policy.choose(among: candidates, thiefNanosPerElement: pace, onlyStalled: schedule == .static)
    }

    /// Worker `i` found nothing to take: a backup of the attempt that deserves one most.
    mutating func takeBackup(for i: Int, now: UInt64) -> Taken? {
        guard let chosen = backupChoice(for: i, now: now), let original = workers[chosen.index].current else { return nil }
        let owner = workers[chosen.index].cell.id
        // A split asked of the original would change its elements under the copy's feet.
        if let thief = workers[chosen.index].splitRequestedBy {
            workers[chosen.index].splitRequestedBy = nil
            if thief != i { workers[thief].cell.wake() }
        }
        jobs.update { $0.backupsStarted += 1 }
        log(.backupStarted(chunk: original.chunk, of: owner, on: workers[i].cell.id,
                           done: chosen.done, elements: chosen.elements, seconds: Double(chosen.elapsedNanos) / 1e9),
            now: now)
        return Taken(job: original.job, chunk: original.chunk, elements: original.elements,
                     piece: ChunkPiece(chunk: original.chunk, elements: original.elements, origin: .backup(of: owner)),
                     backupOf: CurrentAttempt.Twin(worker: chosen.index, attempt: original.attempt))
    }

    /// Links worker `i`'s new backup attempt and its original, each the other's twin.
    mutating func pairBackup(worker i: Int, with original: CurrentAttempt.Twin) {
        guard let backup = workers[i].current?.attempt,
              workers[original.worker].current?.attempt == original.attempt else { return }
        workers[i].current!.twin = original
        workers[original.worker].current!.twin = CurrentAttempt.Twin(worker: i, attempt: backup)
    }

    /// Worker `i`'s attempt `attempt` is being taken away (a kill, a lost lease, a disconnect):
    /// if its twin still runs, the twin carries on alone and nothing need be re-queued. True then.
    mutating func unpairBackup(_ attempt: CurrentAttempt, lostBy i: Int) -> Bool {
        guard let twin = attempt.twin, workers[twin.worker].current?.attempt == twin.attempt else { return false }
        workers[twin.worker].current!.twin = nil
        log(.backupCarriesOn(chunk: attempt.chunk, worker: workers[twin.worker].cell.id, lostBy: workers[i].cell.id))
        return true
    }

    /// `winner`'s attempt, one of a backup pair, was accepted: its twin is fenced off. If the twin
    /// was the original and had done nothing at all, its worker sits the rest of the job out.
    mutating func fenceTwin(of won: CurrentAttempt, winner i: Int, now: UInt64) {
        guard let twin = won.twin, let loser = workers[twin.worker].current, loser.attempt == twin.attempt else { return }
        let l = twin.worker
        let stalled = won.origin.isBackup && workers[l].cell.attemptProgress.load(ordering: .relaxed) == 0
        jobs.forget(attempt: loser.attempt, of: loser.chunk)
        if won.origin.isBackup { jobs.update { $0.backupsWon += 1 } }
        record(loser, of: l, outcome: .superseded, now: now)
        log(.backupRaceWon(chunk: won.chunk, winner: workers[i].cell.id, loser: workers[l].cell.id,
                           byBackup: won.origin.isBackup), now: now)
        if let thief = workers[l].splitRequestedBy {
            workers[l].splitRequestedBy = nil
            workers[thief].cell.wake()
        }
        workers[l].clearAttempt()
        if stalled {
            workers[l].benchedInJob = won.job
            giveQueueBack(worker: l)
            if jobs.releaseSlice(ownedBy: workers[l].cell.id) { wakeIdleWorkers() }
            log(.workerBenched(workers[l].cell.id, job: won.job, chunk: loser.chunk,
                               seconds: Double(now &- loser.startNanos) / 1e9), now: now)
        } else if !workers[l].queue.isEmpty {
            startQueued(worker: l, now: now)
        }
        workers[l].cell.poke()  // its thread drops the attempt at its next sub-block
    }

    /// While a job runs: wakes idle workers for which a backup is due, so that one is started
    /// even when nothing else happens (a stalled attempt sends no news). At most as many as
    /// there are attempts that could be backed up.
    func offerBackups(now: UInt64) {
        guard let policy = backupPolicy, let job = jobs.current?.id else { return }
        // Cheap in the common case: no attempt has run long enough to be judged.
        let open = workers.reduce(0) { count, record in
            guard let attempt = record.current, attempt.job == job, attempt.twin == nil,
                  now > attempt.startNanos, now - attempt.startNanos >= policy.watchNanos else { return count }
            return count + 1
        }
        guard open > 0 else { return }
        var woken = 0
        for i in workers.indices where woken < open && mayBackUp(i, job: job) {
            guard backupChoice(for: i, now: now) != nil else { continue }
            workers[i].cell.wake()
            woken += 1
        }
    }
}
