/// What a worker is doing, as shown to users.
public enum WorkerState: String, Sendable, Codable, CaseIterable {
    /// Alive with nothing to do (no job, or no chunk left for it).
    case idle
    case running
    /// Asked to pause; its thread stops at its next sub-block (a remote one when its check-in
    /// arrives).
    case pausing
    /// Stopped mid-chunk: it keeps its chunk, and its progress no longer moves.
    case paused
    /// Crashed (killed); its chunk went back to the queue. It can be restarted.
    case dead
    /// Gone for good.
    case removed
}

/// A worker's current chunk attempt.
public struct ChunkAssignment: Sendable, Equatable, Codable {
    public let job: JobID
    /// The first chunk it covers.
    public let chunk: Int64
    /// More than one for a run of whole chunks; nil for one chunk (see `TimelineSegment`).
    private let runChunks: Int64?
    /// Whole chunks it covers from `chunk` on (1 unless it is a run).
    public var chunkCount: Int64 { runChunks ?? 1 }
    public let attempt: AttemptID
    public let elements: ClosedRange<Int64>
    /// Elements of this attempt already summed.
    public let elementsDone: Int64
    /// How its work came to this worker: fresh, a redo of lost work, or split off another's.
    public let origin: AttemptOrigin
    /// Whether another worker took the unprocessed part of this attempt.
    public let wasSplit: Bool

    public var elementCount: Int64 { elements.upperBound - elements.lowerBound + 1 }

    /// The chunk it is summing now: `chunk`, or for a run the one its progress has reached
    /// (every chunk of a job but its last holds `chunkSize` elements).
    public func chunkInProgress(chunkSize: Int64?) -> Int64 {
        guard chunkCount > 1, let chunkSize, chunkSize > 0 else { return chunk }
        return chunk + min(chunkCount - 1, max(0, elementsDone) / chunkSize)
    }

    /// "chunk #12", or for a run "chunks #12–19".
    public var chunksText: String {
        chunkCount > 1 ? "chunks #\(chunk)–\(chunk + chunkCount - 1)" : "chunk #\(chunk)"
    }
    public var fractionDone: Double { Double(elementsDone) / Double(elementCount) }

    public init(job: JobID,
                chunk: Int64,
                chunkCount: Int64 = 1,
                attempt: AttemptID,
                elements: ClosedRange<Int64>,
                elementsDone: Int64,
                origin: AttemptOrigin,
                wasSplit: Bool) {
        self.job = job
        self.chunk = chunk
        runChunks = chunkCount == 1 ? nil : chunkCount
        self.attempt = attempt
        self.elements = elements
        self.elementsDone = elementsDone
        self.origin = origin
        self.wasSplit = wasSplit
    }
}

/// One worker at one instant.
public struct WorkerSnapshot: Sendable, Equatable, Identifiable, Codable {
    public let id: WorkerID
    public let state: WorkerState
    /// Removal was asked for; the worker leaves once its chunk is done.
    public let isLeaving: Bool
    /// Speed factor in (0, 1]; 1 is full speed.
    public let speed: Double
    public let assignment: ChunkAssignment?
    /// Every element it summed, including work later lost to a kill.
    public let elementsProcessed: UInt64
    /// Elements of its chunks that were accepted into a total.
    public let elementsAccepted: UInt64
    public let chunksDone: Int
    /// Elements per second over the last second or so.
    public let throughput: Double
    /// Where a remote worker runs; nil for a thread of this process.
    public var remote: RemoteWorkerInfo? = nil
    /// A remote worker that is dead because nothing was heard from it in time.
    public var leaseLost = false
    /// Running at under half the running workers' median rate (see `StragglerWatch`).
    public var isLagging = false
    /// Why it gets no more work in the running job, if it is benched.
    public var benched: BenchReason? = nil

    /// Summing now (a pausing worker sums until its thread stops): only then does its rate mean
    /// anything about the present.
    public var isSumming: Bool { state == .running || state == .pausing }

    public init(id: WorkerID,
                state: WorkerState,
                isLeaving: Bool,
                speed: Double,
                assignment: ChunkAssignment?,
                elementsProcessed: UInt64,
                elementsAccepted: UInt64,
                chunksDone: Int,
                throughput: Double,
                remote: RemoteWorkerInfo? = nil,
                leaseLost: Bool = false,
                isLagging: Bool = false,
                benched: BenchReason? = nil) {
        self.id = id
        self.state = state
        self.isLeaving = isLeaving
        self.speed = speed
        self.assignment = assignment
        self.elementsProcessed = elementsProcessed
        self.elementsAccepted = elementsAccepted
        self.chunksDone = chunksDone
        self.throughput = throughput
        self.remote = remote
        self.leaseLost = leaseLost
        self.isLagging = isLagging
        self.benched = benched
    }
}

/// The state of a job.
public enum JobStatus: String, Sendable, Codable {
    case queued, running, verified, mismatch
    public var isFinished: Bool { self == .verified || self == .mismatch }
}

/// One job at one instant.
public struct JobSnapshot: Sendable, Equatable, Codable {
    public let id: JobID
    public let spec: JobSpec
    public let status: JobStatus
    public let chunksTotal: Int64
    public let chunksDone: Int64
    public let chunksInFlight: Int64
    /// Chunks sent back to the queue by kills (each re-queue counts).
    public let chunksRequeued: Int64
    /// Re-queued chunks that another attempt has since taken.
    public let chunksRedone: Int64
    /// Work stealing: chunks split between workers, and queued chunks moved between slices.
    public let chunksSplit: Int64
    public let chunksStolen: Int64
    /// Elements of accepted chunks.
    public let elementsCompleted: Int64
    /// Elements summed so far by current attempts (lost again if their worker is killed).
    public let elementsInFlight: Int64
    /// Σ of the accepted chunk sums so far; exact.
    public let runningTotal: UInt128
    /// Seconds since the job started (frozen once it finishes); 0 while it waits for workers.
    public let elapsed: Double
    /// Closed-form value, once the job has finished and been checked.
    public let closedForm: String?
    /// Results refused because their sum was not the closed form of their range.
    public var wrongSums: Int64 = 0
    /// Started with no worker to take its work, none has stepped in yet: its clock has not
    /// started (a coordinator waiting for its first laptop).
    public var waitsForWorkers = false

    public var chunksQueued: Int64 { chunksTotal - chunksDone - chunksInFlight }
    public var elementsTotal: Int64 { spec.elementCount }
    /// Fraction of the job's elements done, counting work in flight.
    public var progress: Double {
        status.isFinished ? 1 : Double(elementsCompleted + elementsInFlight) / Double(elementsTotal)
    }

    public init(id: JobID,
                spec: JobSpec,
                status: JobStatus,
                chunksTotal: Int64,
                chunksDone: Int64,
                chunksInFlight: Int64,
                chunksRequeued: Int64,
                chunksRedone: Int64,
                chunksSplit: Int64,
                chunksStolen: Int64,
                elementsCompleted: Int64,
                elementsInFlight: Int64,
                runningTotal: UInt128,
                elapsed: Double,
                closedForm: String?,
                wrongSums: Int64 = 0,
                waitsForWorkers: Bool = false) {
        self.id = id
        self.spec = spec
        self.status = status
        self.chunksTotal = chunksTotal
        self.chunksDone = chunksDone
        self.chunksInFlight = chunksInFlight
        self.chunksRequeued = chunksRequeued
        self.chunksRedone = chunksRedone
        self.chunksSplit = chunksSplit
        self.chunksStolen = chunksStolen
        self.elementsCompleted = elementsCompleted
        self.elementsInFlight = elementsInFlight
        self.runningTotal = runningTotal
        self.elapsed = elapsed
        self.closedForm = closedForm
        self.wrongSums = wrongSums
        self.waitsForWorkers = waitsForWorkers
    }
}

/// A consistent, cheap copy of the whole cluster for a UI or a report.
public struct ClusterSnapshot: Sendable, Equatable {
    /// Seconds since the cluster was created.
    public let time: Double
    /// The running job, or else the last finished one.
    public let job: JobSnapshot?
    public let queuedJobs: Int
    public let finishedJobs: Int
    public let workers: [WorkerSnapshot]
    /// Elements per second summed over all workers, over the last second or so.
    public let throughput: Double
    /// Cluster throughput sampled every `ClusterConfiguration.historyInterval`, oldest first.
    public let throughputHistory: [Double]
    /// Results from killed or superseded attempts that were discarded (all jobs).
    public let staleResults: Int
    /// Sequence number of the newest event; pass it to `events(after:)`.
    public let lastEventSequence: UInt64
    /// The kernel variant this process's workers run.
    /// Set by the engine to the one it runs (`KernelVariant.active`).
    public var kernel: KernelVariant = .best
    /// A `--journal` could not be written any more: a restart would not resume from here.
    public var journalStopped = false
    /// What the cluster has done since it started, over all jobs.
    public var totals = ClusterTotals()

    /// Seconds left for the current job at the recent throughput, if it can be estimated.
    public var estimatedSecondsRemaining: Double? {
        guard let job, job.status == .running, throughput > 0 else { return nil }
        let left = Double(job.elementsTotal - job.elementsCompleted - job.elementsInFlight)
        return max(0, left / throughput)
    }

    public func count(of state: WorkerState) -> Int { workers.reduce(0) { $0 + ($1.state == state ? 1 : 0) } }

    public init(time: Double,
                job: JobSnapshot?,
                queuedJobs: Int,
                finishedJobs: Int,
                workers: [WorkerSnapshot],
                throughput: Double,
                throughputHistory: [Double],
                staleResults: Int,
                lastEventSequence: UInt64,
                kernel: KernelVariant = .best,
                journalStopped: Bool = false) {
        self.time = time
        self.job = job
        self.queuedJobs = queuedJobs
        self.finishedJobs = finishedJobs
        self.workers = workers
        self.throughput = throughput
        self.throughputHistory = throughputHistory
        self.staleResults = staleResults
        self.lastEventSequence = lastEventSequence
        self.kernel = kernel
        self.journalStopped = journalStopped
    }
}

/// What one worker's accepted attempts covered of one job.
public struct WorkerJobShare: Sendable, Equatable, Codable {
    public let worker: WorkerID
    public let chunks: Int
    public let elements: UInt64

    public init(worker: WorkerID, chunks: Int, elements: UInt64) {
        self.worker = worker
        self.chunks = chunks
        self.elements = elements
    }
}

/// The result of a finished job, kept for scripts and reports.
public struct JobSummary: Sendable, Equatable, Codable {
    public let id: JobID
    public let spec: JobSpec
    public let total: UInt128
    public let closedForm: String
    public let verified: Bool
    public let elapsed: Double
    public let chunksRequeued: Int64
    public let chunksSplit: Int64
    public let chunksStolen: Int64
    public let staleResults: Int
    /// The chunk indices accepted, in acceptance order, when the cluster audits (tests do).
    public let acceptedChunks: [Int64]?
    /// Backup attempts started at the tail (see `AttemptOrigin.backup`), and how many of them
    /// finished before the attempt they copied; the other of each pair was fenced off.
    public var backupsStarted: Int64 = 0
    public var backupsWon: Int64 = 0
    /// Results refused because their sum was not the closed form of their range (a lying or
    /// broken remote worker), each redone elsewhere.
    public var wrongSums: Int64 = 0
    /// Each worker's accepted work in this job, in worker order: only workers that had some.
    public var workerShares: [WorkerJobShare] = []
    /// The kernel variant this process's workers ran, or nil if it was switched while the job ran.
    /// Set by the engine (`KernelVariant.active`, nil if it changed).
    public var kernel: KernelVariant? = .best
    /// The kernel's name, or "mixed" if it was switched while the job ran.
    public var kernelLabel: String { kernel?.rawValue ?? "mixed" }
    /// Elements a journal had accepted before a restart: summed by an earlier run, not in `elapsed`.
    public var elementsBeforeRestart: Int64 = 0
    /// Crashes of the coordinator the job lived through in this process (the lesson), and the
    /// accepted elements they lost, which were summed again.
    public var coordinatorCrashes = 0
    public var elementsLostToCrashes: Int64 = 0
    /// Elements summed in `elapsed`: the job's, less those accepted before a restart.
    public var elementsThisRun: Int64 { spec.elementCount - elementsBeforeRestart }
    public var throughput: Double { elapsed > 0 ? Double(elementsThisRun) / elapsed : 0 }

    public init(id: JobID,
                spec: JobSpec,
                total: UInt128,
                closedForm: String,
                verified: Bool,
                elapsed: Double,
                chunksRequeued: Int64,
                chunksSplit: Int64,
                chunksStolen: Int64,
                staleResults: Int,
                acceptedChunks: [Int64]?,
                backupsStarted: Int64 = 0,
                backupsWon: Int64 = 0,
                wrongSums: Int64 = 0,
                kernel: KernelVariant? = .best,
                elementsBeforeRestart: Int64 = 0,
                coordinatorCrashes: Int = 0,
                elementsLostToCrashes: Int64 = 0) {
        self.id = id
        self.spec = spec
        self.total = total
        self.closedForm = closedForm
        self.verified = verified
        self.elapsed = elapsed
        self.chunksRequeued = chunksRequeued
        self.chunksSplit = chunksSplit
        self.chunksStolen = chunksStolen
        self.staleResults = staleResults
        self.acceptedChunks = acceptedChunks
        self.backupsStarted = backupsStarted
        self.backupsWon = backupsWon
        self.wrongSums = wrongSums
        self.kernel = kernel
        self.elementsBeforeRestart = elementsBeforeRestart
        self.coordinatorCrashes = coordinatorCrashes
        self.elementsLostToCrashes = elementsLostToCrashes
    }
}
