import DequeModule

/// A worker's attempt in progress: of one chunk (or a piece of one), or of a run of whole
/// consecutive chunks (`chunkCount` > 1), which a local thread gets when its chunks are so short
/// that the engine's work per attempt would show beside the kernel's (`EngineState.runLength`).
struct CurrentAttempt {
    let job: JobID
    /// The first chunk it covers.
    let chunk: Int64
    /// Whole chunks it covers from `chunk` on; 1 unless it is a run. A run is never split nor
    /// backed up (at the tail of a job runs are single chunks again).
    var chunkCount: Int64 = 1
    let attempt: AttemptID
    /// Shrinks when a thief splits the unprocessed part off.
    var elements: ClosedRange<Int64>
    let origin: AttemptOrigin
    let startNanos: UInt64
    var wasSplit = false
    /// Time the worker spent paused since the attempt started: not work, so not in its pace.
    var pausedNanos: UInt64 = 0
    /// The other attempt of the same elements while a backup runs (see `BackupPolicy`): the
    /// original's backup, or the backup's original. The first of the two to hand in wins.
    var twin: Twin?

    struct Twin {
        let worker: Int
        let attempt: AttemptID
    }
}

/// Elements a local worker summed and the time it worked on them: one reading of its pace.
struct PaceSample {
    var elements: Int64
    var nanos: UInt64
}

/// A result a local thread held back because it had claimed more attempts: handed in with the
/// others at its next visit to the engine.
struct HeldResult {
    let attempt: AttemptID
    let sum: UInt128
    /// 0 while the thread has not stamped it yet (`LocalChunkControl.finishedUnstamped`).
    var finishedNanos: UInt64
    /// Its attempt's elements: an unstamped result's share of the time between two stamps.
    let elements: Int64
}

/// An attempt handed to a worker ahead of time, waiting in its queue.
struct QueuedAttempt {
    let job: JobID
    let chunk: Int64
    /// Whole chunks from `chunk` on: more than 1 for a run.
    let chunkCount: Int64
    let attempt: AttemptID
    let elements: ClosedRange<Int64>
    let piece: ChunkPiece?
}

/// Everything the engine knows about one worker, guarded by the engine lock.
struct WorkerRecord {
    let cell: WorkerCell
    /// Set through `EngineState.setPhase`, which keeps the timeline's paused stretches.
    var phase: WorkerPhase = .idle
    /// Since when its thread has been stopped by a pause.
    var pausedSinceNanos: UInt64?
    /// Since when it has been running without a break (idle, paused or dead before): a rate
    /// window that reaches back before this is not its pace, so it is not judged a straggler.
    var runningSinceNanos: UInt64 = 0
    var speed: Double = 1
    var current: CurrentAttempt?
    /// Work stealing: the index of an idle worker waiting for this one to split its chunk.
    var splitRequestedBy: Int?
    var elementsAccepted: UInt64 = 0
    var chunksDone = 0
    /// The same, in the running job only: its summary's share of each worker.
    var jobElementsAccepted: UInt64 = 0
    var jobChunksDone = 0
    /// Where a remote worker runs; nil for a local thread.
    let remote: RemoteWorkerInfo?
    /// `remote != nil`, stored: read per chunk, the comparison copied the whole `RemoteWorkerInfo`.
    let isRemote: Bool
    /// Which network session holds a remote worker (see `RemoteWorkerHandle`); 0 for a local thread.
    let session: UInt64
    /// Elements' worth of attempts a remote worker keeps queued behind `current` until its pace
    /// is known (see `ClusterConfiguration.remoteQueueElements`). 0 for a local thread.
    let queueElements: Int64
    /// Work, in nanoseconds at `nanosPerElement`, a worker keeps queued behind `current`: a
    /// claim ahead for a local one, `baseQueueNanos` and twice the measured round trip for a
    /// remote one (see `ClusterConfiguration.remoteQueueSeconds` and `.localClaimAheadSeconds`).
    var queueNanos: Double
    /// `queueNanos` before any round trip was measured.
    let baseQueueNanos: Double
    /// How long a run of tiny chunks lasts, for a local thread (`ClusterConfiguration.localRunSeconds`);
    /// 0: no runs.
    let runNanos: Double
    /// Its recent pace, from its finished attempts (a moving average); 0 until one finished.
    var nanosPerElement: Double = 0
    /// A remote worker: since when its thread has certainly been summing without a break (its
    /// last results came in while an attempt was queued behind them, and no control has stopped
    /// it since). The next message's results over the time since then are its pace. Nil when
    /// it may have waited: for work, for a round trip, or paused.
    var workingSinceNanos: UInt64?
    /// Set when it gets no more work in a job: a backup finished an attempt of its that it had
    /// done nothing of, or was doing hundreds of times slower (a worker that heartbeats but never
    /// sums, or lies about its progress, must not stall a job), or it handed in a wrong sum.
    var benched: (job: JobID, reason: BenchReason)?
    /// For a lesson: this local thread hands in forged sums (one more than the truth), as a
    /// hostile peer would, and is checked as a remote worker is (see `Cluster.forgeResults`).
    var forgesResults = false { didSet { checksResults = remote != nil || forgesResults } }
    /// Whether each of its results is checked against the closed form of its range as it
    /// arrives: a remote worker's word is a peer's, which may lie. A local thread runs this
    /// process's own kernel: a wrong sum there is a bug, which the check at the job's end shows.
    /// Stored, not computed: read once per chunk, a computed one copied the whole record.
    private(set) var checksResults: Bool

    /// The reason it gets no work in `job`, if it is benched there.
    func benchReason(in job: JobID?) -> BenchReason? {
        guard let benched, benched.job == job else { return nil }
        return benched.reason
    }
    /// Attempts queued behind `current`. Not started, so not in flight: given back untouched
    /// when the worker pauses, leaves or dies, or when an idle worker has nothing else to do.
    var queue: Deque<QueuedAttempt> = []
    /// A local worker's thread has been told to exit and will not touch its row again.
    var threadGone = false

    /// Its row may be given to a newcomer: removed, and neither its thread (a local one) nor its
    /// session (a remote one: every call of the session names it by id and session number, which
    /// then find nothing) can reach it any more.
    var isFreeable: Bool { phase == .removed && (remote != nil || threadGone) }

    init(cell: WorkerCell, speed: Double, remote: RemoteWorkerInfo? = nil, queueElements: Int64 = 0,
         queueNanos: Double = 0, runNanos: Double = 0, session: UInt64 = 0) {
        self.cell = cell
        self.session = session
        self.speed = speed
        self.remote = remote
        isRemote = remote != nil
        checksResults = remote != nil
        self.queueElements = queueElements
        self.queueNanos = queueNanos
        baseQueueNanos = queueNanos
        self.runNanos = remote == nil ? runNanos : 0
    }

    /// Its attempt is over (done, handed over or taken away): none now, no progress in it.
    mutating func clearAttempt() {
        current = nil
        cell.attemptProgress.store(0, ordering: .relaxed)
    }
}
