/// Backup attempts at the tail of a job (`BackupPolicy` decides which): a worker that finds
/// nothing to take runs a copy of an attempt that is far behind or has stalled; whichever of the
/// two hands in first is accepted and the other is fenced off (its result, should it come, is
/// stale). A worker whose attempt lost to a backup without a single element done sits the rest
/// of the job out, so one that heartbeats but never sums cannot hold a job for ever.
extension EngineState {
    /// Worker `i` may run a backup: idle, or running but between attempts (it just handed its
    /// last one in), with nothing queued, taking work in this job.
    private func mayBackUp(_ i: Int, job: JobID) -> Bool {
        let record = workers[i]
        return (record.phase == .idle || record.phase == .running) && record.current == nil && record.queue.isEmpty
            && record.benchReason(in: job) == nil
    }

    /// Two workers of one remote process: a copy there could stall for the same reason. Known
    /// by the process's instance, a secret of its sessions, never by a host and pid that anyone
    /// can read off the dashboard and copy into a Hello of its own.
    private func sameRemoteProcess(_ a: Int, _ b: Int) -> Bool {
        guard let x = workers[a].remote, let y = workers[b].remote else { return false }
        return x.instance != 0 && x.instance == y.instance
    }

    /// The attempts of `job` that could be backed up at `now`: running long enough to be judged,
    /// and not half of a pair already.
    private func backupCandidates(job: JobID, now: UInt64, watchNanos: UInt64) -> [BackupPolicy.Candidate] {
        var candidates: [BackupPolicy.Candidate] = []
        for v in workers.indices {
            let record = workers[v]
            // A run is a local thread's, lasting about `runNanos`: never worth a copy.
            guard let attempt = record.current, attempt.job == job, attempt.twin == nil, attempt.chunkCount == 1,
                  record.phase == .running || record.phase == .leaving,
                  now > attempt.startNanos, now - attempt.startNanos >= watchNanos else { continue }
            candidates.append(BackupPolicy.Candidate(
                index: v, elements: attempt.elements.count64,
                done: record.cell.attemptProgress.load(ordering: .relaxed), elapsedNanos: now - attempt.startNanos))
        }
        return candidates
    }

    /// The fastest pace any worker has shown; 0 if none has finished anything.
    private var fastestKnownPace: Double { workers.map(\.nanosPerElement).filter { $0 > 0 }.min() ?? 0 }

    /// Worker `i`'s pace for a copy; one that has not finished anything yet is assumed as fast
    /// as the fastest known (`fastest`).
    private func backupPace(of i: Int, fastest: Double) -> Double {
        let own = workers[i].nanosPerElement
        return own > 0 ? own : fastest
    }

    /// The attempt worker `i` should back up now, if one deserves it.
    func backupChoice(for i: Int, now: UInt64) -> BackupPolicy.Candidate? {
        guard let policy = backupPolicy, let job = jobs.current?.id, let schedule = jobs.current?.spec.schedule,
              mayBackUp(i, job: job) else { return nil }
        let candidates = backupCandidates(job: job, now: now, watchNanos: policy.watchNanos)
            .filter { !sameRemoteProcess(i, $0.index) }
        guard !candidates.isEmpty else { return nil }
        return policy.choose(among: candidates, thiefNanosPerElement: backupPace(of: i, fastest: fastestKnownPace),
                             onlyStalled: schedule == .static)
    }

    /// Worker `i` found nothing to take: a backup of the attempt that deserves one most.
    mutating func takeBackup(for i: Int, now: UInt64) -> Taken? {
        guard let chosen = backupChoice(for: i, now: now), let original = workers[chosen.index].current else { return nil }
        let owner = workers[chosen.index].cell.id
        // A split asked of the original would change its elements under the copy's feet.
        withdrawSplitRequest(of: chosen.index, busy: i)
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
    /// was the original and had done nothing at all, or crawled (`BackupPolicy.crawlingBy` times
    /// slower than the backup that beat it), its worker sits the rest of the job out.
    mutating func fenceTwin(of won: CurrentAttempt, winner i: Int, now: UInt64) {
        guard let twin = won.twin, let loser = workers[twin.worker].current, loser.attempt == twin.attempt else { return }
        let l = twin.worker
        let done = workers[l].cell.attemptProgress.load(ordering: .relaxed)
        let backupPace = Double(now &- won.startNanos) / Double(max(1, won.elements.count64))
        let bench: BenchReason? = !won.origin.isBackup ? nil
            : done <= 0 ? .stalled(chunk: loser.chunk)
            : BackupPolicy.isCrawling(done: done, elapsedNanos: now &- loser.startNanos, against: backupPace)
                ? .crawled(chunk: loser.chunk) : nil
        jobs.forget(attempt: loser.attempt, of: loser.chunk)
        if won.origin.isBackup { jobs.update { $0.backupsWon += 1 } }
        record(loser, of: l, outcome: .superseded, now: now)
        log(.backupRaceWon(chunk: won.chunk, winner: workers[i].cell.id, loser: workers[l].cell.id,
                           byBackup: won.origin.isBackup), now: now)
        withdrawSplitRequest(of: l)
        workers[l].clearAttempt()
        if let bench {
            workers[l].benched = (won.job, bench)
            giveQueueBack(worker: l)
            if jobs.releaseSlice(ownedBy: workers[l].cell.id) { wakeIdleWorkers() }
            log(.workerBenched(workers[l].cell.id, job: won.job, reason: bench,
                               seconds: Double(now &- loser.startNanos) / 1e9), now: now)
        } else if !workers[l].queue.isEmpty {
            startQueued(worker: l, now: now)
        }
        workers[l].cell.poke()  // its thread abandons the attempt at its next sub-block
    }

    /// While a job runs: wakes idle workers for which a backup is due, so that one is started
    /// even when nothing else happens (a stalled attempt sends no news). At most as many as
    /// there are attempts that deserve one; each woken worker chooses for itself. One pass over
    /// the workers, plus one per worker woken, so a tick stays cheap with thousands of them.
    func offerBackups(now: UInt64) {
        guard let policy = backupPolicy, let job = jobs.current?.id, let schedule = jobs.current?.spec.schedule
        else { return }
        let candidates = backupCandidates(job: job, now: now, watchNanos: policy.watchNanos)
        guard !candidates.isEmpty else { return }
        let thieves = workers.indices.filter { mayBackUp($0, job: job) }
        let known = fastestKnownPace
        let fastest = thieves.map { backupPace(of: $0, fastest: known) }.filter { $0 > 0 }.min() ?? 0
        let due = candidates.filter {
            policy.deservesBackup($0, thiefNanosPerElement: fastest, onlyStalled: schedule == .static)
        }.count
        // Asking a few more than are due covers thieves that may not copy (same process, slower).
        var woken = 0
        for i in thieves.prefix(4 * due + 16) where woken < due {
            guard backupChoice(for: i, now: now) != nil else { continue }
            workers[i].cell.wake()
            woken += 1
        }
    }
}
