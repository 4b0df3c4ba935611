import BigInt
import Dispatch
import DequeModule

/// One job from submission to verification.
struct JobRun {
    let id: JobID
    let spec: JobSpec
    let closedForm: BigInt
    var pool: WorkPool?
    var status: JobStatus = .queued
    var chunksDone: Int64 = 0
    var chunksRequeued: Int64 = 0
    var chunksRedone: Int64 = 0
    /// Work stealing: chunks split, and queued chunks moved between slices.
    var chunksSplit: Int64 = 0
    var chunksStolen: Int64 = 0
    /// Backup attempts started at the tail, and how many of them finished before their original.
    var backupsStarted: Int64 = 0
    var backupsWon: Int64 = 0
    /// Results refused because their sum was not the closed form of their range.
    var wrongSums: Int64 = 0
    /// The kernel variant when the job started, and the switch count then: K may switch it
    /// while the job runs.
    var kernelAtStart: KernelVariant = .active
    var kernelSwitchesAtStart = 0
    /// Elements not yet accepted of each chunk that was split; a chunk is done when it reaches 0.
    var splitRemaining: [Int64: Int64] = [:]
    var elementsCompleted: Int64 = 0
    var total: UInt128 = 0
    /// Set if adding a chunk ever overflowed: only possible with a faulty kernel.
    var overflowed = false
    var startNanos: UInt64 = 0
    var endNanos: UInt64?
    var staleResults = 0
    var acceptedChunks: [Int64]?
    /// Sums of the pieces in so far of each split chunk: a chunk goes to the journal whole.
    var splitSums: [Int64: UInt128] = [:]
    /// What a journal kept of this job before a restart: those chunks are never handed out.
    var resumedFrom: JournaledJob?
    /// Crashes of the coordinator this job lived through in this process (the lesson), and the
    /// accepted elements they lost: summed again after each.
    var coordinatorCrashes = 0
    var elementsLostToCrashes: Int64 = 0

    /// This job's part of the cluster's totals.
    var totals: ClusterTotals {
        var t = ClusterTotals()
        t.elementsDone = elementsCompleted
        t.chunksDone = chunksDone
        t.chunksRequeued = chunksRequeued
        t.chunksSplit = chunksSplit
        t.chunksStolen = chunksStolen
        t.backupsStarted = backupsStarted
        t.backupsWon = backupsWon
        t.wrongSums = wrongSums
        t.jobsFinished = status.isFinished ? 1 : 0
        t.jobsVerified = status == .verified ? 1 : 0
        return t
    }
}

/// What accepting a result did.
struct Acceptance {
    /// The chunks it completed (one, or a run's), with their whole sum; nil while a split chunk
    /// has pieces out.
    var completed: (chunks: ChunkSpan, sum: UInt128)?
    /// It completed the running job.
    var jobDone = false
}

/// A semaphore a caller parks on until a job finishes.
struct DispatchSemaphoreBox {
    let semaphore: DispatchSemaphore
}

/// Jobs and the accounting of their results: one job runs at a time and the others wait in
/// order; an accepted attempt's sum is added once, a chunk counts once all its elements are in,
/// and a finished job is verified against the closed form. Results that fencing turned away are
/// counted here too. Knows nothing of workers or threads.
struct JobLedger {
    /// The running job. Changed in place only (`update`): a copy would copy its work pool.
    private(set) var current: JobRun?
    private(set) var queued: Deque<JobRun> = []
    /// The job that finished last, for the snapshot once no job runs.
    private(set) var lastFinished: JobRun?
    private(set) var summaries: [JobID: JobSummary] = [:]
    /// The totals of the jobs finished so far.
    private var finishedTotals = ClusterTotals()
    /// What the cluster has done since it started: the finished jobs and the running one.
    var totals: ClusterTotals { current.map { finishedTotals + $0.totals } ?? finishedTotals }
    /// Callers parked until a job finishes.
    var waiters: [JobID: [DispatchSemaphoreBox]] = [:]
    private var nextJob = 1
    /// Results discarded because their attempt was no longer current, over all jobs.
    private(set) var staleResults = 0
    /// Which chunk each attempt taken away was for, so that a stale result's log line can say.
    /// Stale results are rare; so are the attempts taken away.
    private var attemptChunks: [AttemptID: Int64] = [:]
    /// Record every accepted chunk (for tests).
    let audits: Bool

    init(audits: Bool) { self.audits = audits }

    /// Queues a job behind any others; returns its id. `startNext` runs it once no job runs.
    mutating func submit(_ spec: JobSpec) -> JobID {
        let id = JobID(nextJob)
        nextJob += 1
        queued.append(JobRun(id: id, spec: spec, closedForm: spec.closedFormTotal, acceptedChunks: audits ? [] : nil))
        return id
    }

    /// Queues a job a journal kept, under its id, with its accepted chunks counted already.
    mutating func submit(resuming journaled: JournaledJob) {
        nextJob = max(nextJob, journaled.id.rawValue + 1)
        var job = JobRun(id: journaled.id, spec: journaled.spec, closedForm: journaled.spec.closedFormTotal,
                         acceptedChunks: audits ? [] : nil)
        job.resumedFrom = journaled
        job.chunksDone = journaled.acceptedChunks
        job.total = journaled.acceptedSum
        job.elementsCompleted = journaled.acceptedElements
        queued.append(job)
    }

    /// If no job runs, starts the first queued one, its chunks shared among `owners` by its
    /// schedule, and returns it.
    /// `kernel` and `kernelSwitches` are the kernel variant and its switch count now.
    mutating func startNext(owners: [WorkerID], now: UInt64, kernel: KernelVariant = .active,
                            kernelSwitches: Int = KernelVariant.switchCount) -> JobRun? {
        guard current == nil, var job = queued.popFirst() else { return nil }
        job.pool = WorkPool(chunkCount: job.spec.chunkCount, policy: job.spec.schedule, workers: owners,
                            excluding: job.resumedFrom?.accepted ?? [])
        job.status = .running
        // A job rebuilt after a crash in this process keeps its first start: its time is the
        // whole time to finish, crash included.
        if job.coordinatorCrashes == 0 { job.startNanos = now }
        job.kernelAtStart = kernel
        job.kernelSwitchesAtStart = kernelSwitches
        current = job
        return job
    }

    /// The coordinator crashed (the lesson): the running job is gone with everything it had
    /// accepted, and comes back as `rebuilt` (what a journal kept, or nothing) ahead of the
    /// queue, under its id, its clock still counting from its first start.
    mutating func replaceRunning(with rebuilt: JournaledJob) -> (lost: Int64, kept: Int64)? {
        guard let crashed = current else { return nil }
        current = nil
        submit(resuming: rebuilt)
        var job = queued.removeLast()
        job.coordinatorCrashes = crashed.coordinatorCrashes + 1
        let lost = crashed.elementsCompleted - rebuilt.acceptedElements
        job.elementsLostToCrashes = crashed.elementsLostToCrashes + lost
        job.startNanos = crashed.startNanos
        job.kernelAtStart = crashed.kernelAtStart
        job.kernelSwitchesAtStart = crashed.kernelSwitchesAtStart
        queued.prepend(job)
        return (lost, rebuilt.acceptedElements)
    }

    /// Changes the running job in place; nil when none runs.
    mutating func update<T>(_ change: (inout JobRun) -> T) -> T? {
        guard current != nil else { return nil }
        return change(&current!)
    }

    /// Frees `worker`'s own slice of the running job's chunks for the others; true if it had any.
    mutating func releaseSlice(ownedBy worker: WorkerID) -> Bool {
        update { $0.pool?.release(ownedBy: worker) ?? false } ?? false
    }

    /// Adds the sum of an accepted attempt of `chunk` (and the `chunkCount` - 1 after it, for a
    /// run) covering `count` elements. A split chunk is done once all its pieces are in; others,
    /// and runs, arrive whole.
    mutating func accept(chunk: Int64, chunkCount: Int64 = 1, elements count: Int64, sum: UInt128) -> Acceptance {
        update { job in
            let (sumSoFar, overflow) = job.total.addingReportingOverflow(sum)
            job.total = sumSoFar
            job.overflowed = job.overflowed || overflow
            job.elementsCompleted += count
            let chunks = ChunkSpan(first: chunk, end: chunk + chunkCount)
            // A run is never split: only a single chunk can arrive in pieces.
            if chunkCount == 1, !job.splitRemaining.isEmpty, let left = job.splitRemaining[chunk] {
                let chunkSum = job.splitSums[chunk, default: 0] &+ sum
                guard left > count else {
                    job.splitRemaining[chunk] = nil
                    job.splitSums[chunk] = nil
                    return Acceptance(completed: (chunks, chunkSum), jobDone: job.acceptChunks(chunks))
                }
                job.splitRemaining[chunk] = left - count
                job.splitSums[chunk] = chunkSum
                return Acceptance()
            }
            return Acceptance(completed: (chunks, sum), jobDone: job.acceptChunks(chunks))
        } ?? Acceptance()
    }

    /// Ends the running job: verifies its total against the closed form, keeps its summary and
    /// wakes whoever waits for it. Returns the summary.
    /// `kernelSwitches`: the kernel's switch count now; if it moved, the job ran more than one.
    /// `shares`: each worker's accepted work in the job.
    mutating func finishCurrent(now: UInt64, kernelSwitches: Int = KernelVariant.switchCount,
                                shares: [WorkerJobShare] = []) -> JobSummary? {
        guard var job = current else { return nil }
        job.endNanos = now
        let verified = !job.overflowed && BigInt(job.total) == job.closedForm
        job.status = verified ? .verified : .mismatch
        var summary = JobSummary(
            id: job.id, spec: job.spec, total: job.total, closedForm: String(job.closedForm),
            // Never below its start: a result stamped a moment before (it cannot be) would
            // otherwise read as a negative time, and wrap.
            verified: verified, elapsed: Double(now > job.startNanos ? now - job.startNanos : 0) / 1e9,
            chunksRequeued: job.chunksRequeued, chunksSplit: job.chunksSplit,
            chunksStolen: job.chunksStolen, staleResults: job.staleResults,
            acceptedChunks: job.acceptedChunks, backupsStarted: job.backupsStarted, backupsWon: job.backupsWon,
            wrongSums: job.wrongSums,
            kernel: job.kernelSwitchesAtStart == kernelSwitches ? job.kernelAtStart : nil,
            elementsBeforeRestart: job.coordinatorCrashes > 0 ? 0 : job.resumedFrom?.acceptedElements ?? 0,
            coordinatorCrashes: job.coordinatorCrashes, elementsLostToCrashes: job.elementsLostToCrashes)
        summary.workerShares = shares
        summaries[job.id] = summary
        finishedTotals = finishedTotals + job.totals
        lastFinished = job
        current = nil
        for waiter in waiters.removeValue(forKey: job.id) ?? [] { waiter.semaphore.signal() }
        return summary
    }

    /// Notes that `attempt`, for `chunk`, was taken away: a result from it is stale.
    mutating func forget(attempt: AttemptID, of chunk: Int64) {
        attemptChunks[attempt] = chunk
    }

    /// Counts a result that fencing turned away; returns the chunk its attempt was for, if known.
    mutating func countStale(_ attempt: AttemptID) -> Int64? {
        staleResults += 1
        current?.staleResults += 1
        return attemptChunks[attempt]
    }
}

extension JobRun {
    /// Counts chunks whose every element is in. True when they were the job's last.
    mutating func acceptChunks(_ chunks: ChunkSpan) -> Bool {
        chunksDone += chunks.count
        if acceptedChunks != nil { acceptedChunks!.append(contentsOf: chunks.first..<chunks.end) }
        return chunksDone == spec.chunkCount
    }
}
