/// What a journal (`--journal`) needs from the engine, gathered under the engine lock at the
/// cost of an append, and taken in batches by the journal's writer, which stores them in one
/// transaction (group commit). The engine does no I/O for it, except in one rare case: handing
/// out an attempt id at the ceiling the journal has stored (`JournalFeed.attemptCeiling`).

/// Consecutive chunks of one job, each accepted whole: the unit the journal stores. A crash
/// loses no accepted chunk that a batch taken before it held.
public struct AcceptedRange: Sendable, Equatable {
    public let job: JobID
    public var firstChunk: Int64
    public var endChunk: Int64
    public var elements: Int64
    public var sum: UInt128
    /// The highest attempt id among the range's chunks.
    public var lastAttempt: AttemptID
    /// Who summed them: nil where the chunks of the range were summed by several workers.
    public var worker: WorkerID?
    public var host: String?

    public init(job: JobID, firstChunk: Int64, endChunk: Int64, elements: Int64, sum: UInt128, lastAttempt: AttemptID,
                worker: WorkerID?, host: String?) {
        self.job = job
        self.firstChunk = firstChunk
        self.endChunk = endChunk
        self.elements = elements
        self.sum = sum
        self.lastAttempt = lastAttempt
        self.worker = worker
        self.host = host
    }
}

/// A change of a job's state, in the order it happened.
public enum JournalJobChange: Sendable, Equatable {
    case submitted(JobID, JobSpec)
    case started(JobID)
    case finished(JobID, verified: Bool, total: UInt128)
}

/// The chunks of one job a worker completed since the last batch: who summed what, exactly,
/// however the ranges merged.
public struct WorkerShare: Sendable, Equatable {
    public let job: JobID
    public let worker: WorkerID
    public let host: String?
    public var chunks: Int64
    public var elements: Int64

    public init(job: JobID, worker: WorkerID, host: String?, chunks: Int64, elements: Int64) {
        self.job = job
        self.worker = worker
        self.host = host
        self.chunks = chunks
        self.elements = elements
    }
}

/// One batch for the journal's writer.
public struct JournalBatch: Sendable {
    public var jobChanges: [JournalJobChange] = []
    public var ranges: [AcceptedRange] = []
    public var shares: [WorkerShare] = []
    public var isEmpty: Bool { jobChanges.isEmpty && ranges.isEmpty && shares.isEmpty }

    public init(jobChanges: [JournalJobChange] = [], ranges: [AcceptedRange] = [], shares: [WorkerShare] = []) {
        self.jobChanges = jobChanges
        self.ranges = ranges
        self.shares = shares
    }
}

/// The engine's side of a journal: what has happened since the last batch was taken.
struct JournalFeed {
    var pending = JournalBatch()
    /// Attempt ids below this have been stored as issued: the journal raises it before the
    /// engine reaches it, and a restart continues from it.
    var attemptCeiling: UInt64
    /// Stores a higher ceiling at once (the engine reached the stored one before the writer
    /// raised it); returns it, or nil if the journal cannot write.
    let raiseCeiling: @Sendable (UInt64) -> UInt64?

    /// Each row's share since the last batch, indexed by row, so crediting a chunk costs no hashing.
    var shareOfRow: [WorkerShare?] = []

    /// Credits completed chunks (one, or a run's) to the worker in row `row`.
    mutating func credit(row: Int, worker: WorkerID, host: String?, job: JobID, chunks: Int64, elements: Int64) {
        while shareOfRow.count <= row { shareOfRow.append(nil) }
        if let share = shareOfRow[row], share.worker == worker, share.job == job {
            shareOfRow[row]!.chunks += chunks
            shareOfRow[row]!.elements += elements
            return
        }
        // The row changed hands (a newcomer took a freed row) or jobs: the old share goes first.
        if let old = shareOfRow[row] { pending.shares.append(old) }
        shareOfRow[row] = WorkerShare(job: job, worker: worker, host: host, chunks: chunks, elements: elements)
    }

    /// What the writer stores next, shares included; empties the feed.
    mutating func takeBatch() -> JournalBatch {
        var batch = pending
        pending = JournalBatch()
        for row in shareOfRow.indices {
            if let share = shareOfRow[row] { batch.shares.append(share) }
            shareOfRow[row] = nil
        }
        return batch
    }

    mutating func accepted(_ range: AcceptedRange) {
        // Chunks are handed out in order, so most accepted chunks extend the range before them.
        if var last = pending.ranges.last, last.job == range.job, last.endChunk == range.firstChunk {
            last.endChunk = range.endChunk
            last.elements += range.elements
            last.sum &+= range.sum
            last.lastAttempt = max(last.lastAttempt, range.lastAttempt)
            if last.worker != range.worker { last.worker = nil }
            if last.host != range.host { last.host = nil }
            pending.ranges[pending.ranges.count - 1] = last
        } else {
            pending.ranges.append(range)
        }
    }
}

/// A job as a journal kept it, for a restart to go on from: its spec, and for the job that was
/// running, the chunks already accepted and their sum.
public struct JournaledJob: Sendable, Equatable {
    public let id: JobID
    public let spec: JobSpec
    /// Accepted chunks as sorted, disjoint spans `first..<end`.
    public let accepted: [Range<Int64>]
    public let acceptedSum: UInt128
    public let acceptedElements: Int64

    public init(id: JobID, spec: JobSpec, accepted: [Range<Int64>] = [], acceptedSum: UInt128 = 0, acceptedElements: Int64 = 0) {
        self.id = id
        self.spec = spec
        self.accepted = accepted
        self.acceptedSum = acceptedSum
        self.acceptedElements = acceptedElements
    }

    public var acceptedChunks: Int64 { accepted.reduce(0) { $0 + Int64($1.count) } }
}

/// The journal's ceiling of attempt ids: every id handed out is below the one stored.
public enum AttemptCeiling {
    /// How far above the ids handed out the stored ceiling is kept: far more than the engine
    /// hands out between two of the writer's batches, even with the smallest chunks.
    public static let step: UInt64 = 1 << 22
}
