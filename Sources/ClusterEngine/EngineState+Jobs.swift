import ClusterModel

/// Jobs: submitting, resuming from a journal, rebuilding after a crash, and starting the next.
extension EngineState {
    mutating func submit(_ spec: JobSpec) -> JobID {
        let id = jobs.submit(spec)
        journal?.pending.jobChanges.append(.submitted(id, spec))
        if !startNextJob() { log(.jobQueued(id, lo: spec.lo, hi: spec.hi)) }
        return id
    }

    /// Queues jobs a journal kept, the running one first, under their ids; the first starts
    /// at once if no job runs. Nothing goes back to the journal: it has them.
    mutating func resume(_ journaled: [JournaledJob]) {
        for job in journaled { jobs.submit(resuming: job) }
        startNextJob()
    }

    /// The coordinator crashed (the lesson), its threads stopped already: every row is dropped
    /// with its attempts, and the running job replaced by `rebuilt`. Returns the elements lost.
    mutating func rebuildAfterCrash(_ rebuilt: (JobSpec, JobID) -> JournaledJob) -> Int64? {
        for i in workers.indices where workers[i].phase != .removed {
            workers[i].clearAttempt()
            workers[i].queue.removeAll()
            setPhase(of: i, to: .removed)
        }
        guard let running = jobs.current,
              let (lost, kept) = jobs.replaceRunning(with: rebuilt(running.spec, running.id)) else { return nil }
        log(.coordinatorCrashed(running.id, elementsLost: lost, elementsKept: kept))
        startNextJob()
        return lost
    }

    /// Starts the next queued job if none runs, shared among the workers that take new work.
    /// True if one started.
    @discardableResult
    mutating func startNextJob() -> Bool {
        let owners = workers.filter(\.phase.takesNewWork).map(\.cell.id)
        guard let job = jobs.startNext(owners: owners, now: clock.now()) else { return false }
        for i in workers.indices {
            workers[i].jobChunksDone = 0
            workers[i].jobElementsAccepted = 0
        }
        journal?.pending.jobChanges.append(.started(job.id))
        // A job rebuilt after a crash of the coordinator (the lesson) started long ago, and its
        // clock runs on while its threads start again.
        let rebuilt = job.coordinatorCrashes > 0
        if !rebuilt { log(.jobStarted(job.id, lo: job.spec.lo, hi: job.spec.hi), now: job.startNanos) }
        jobAwaitsFirstWorker = owners.isEmpty && !rebuilt
        jobNanosPerElement = 0
        startJobClock(job.id, at: job.startNanos)
        wakeIdleWorkers()
        return true
    }

    /// The running job's time counts from `now`: its timeline starts there, and workers paused
    /// before show as paused from then.
    mutating func startJobClock(_ job: JobID, at now: UInt64) {
        jobs.update { $0.startNanos = now }
        jobTimeline = JobTimeline(job: job, startNanos: now)
        for i in workers.indices where workers[i].pausedSinceNanos != nil { workers[i].pausedSinceNanos = now }
    }
}
