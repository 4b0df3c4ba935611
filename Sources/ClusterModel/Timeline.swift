/// One chunk attempt on one worker's lane of the task timeline.
public struct TimelineSegment: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Equatable, Codable {
        /// Still running (or paused) now.
        case inFlight
        /// Accepted into the total.
        case done
        /// Its worker was killed; the work was lost and redone elsewhere.
        case killed
        /// Its remote worker's lease lapsed (it fell silent): the work was lost and redone elsewhere.
        case leaseLost
        /// Its remote worker's connection ended: the work was lost and redone elsewhere.
        case disconnected
        /// A paused worker gave its whole attempt to a thief before doing any of it.
        case handedOver
        /// The other attempt of a backup pair finished first; this one was fenced off.
        case superseded
        /// Its sum was not the closed form of its range: refused, and redone elsewhere.
        case refused
    }

    public let worker: WorkerID
    public let job: JobID
    /// The first chunk it covers.
    public let chunk: Int64
    /// More than one for a run of whole chunks (a local thread's, when chunks are tiny); nil
    /// for one chunk, so a recording carries it only for runs.
    private let runChunks: Int64?
    /// Whole chunks it covers from `chunk` on (1 unless it is a run).
    public var chunkCount: Int64 { runChunks ?? 1 }
    public let attempt: AttemptID
    public let elements: ClosedRange<Int64>
    /// Seconds since the cluster started.
    public let start: Double
    /// Nil while in flight.
    public let end: Double?
    public let outcome: Outcome
    public let origin: AttemptOrigin
    /// Another worker took the unprocessed part of this attempt's chunk.
    public let wasSplit: Bool

    // Short: a recording holds one per attempt.
    private enum CodingKeys: String, CodingKey {
        case worker = "w", job = "j", chunk = "c", runChunks = "n", attempt = "a", elements = "e", start = "s", end = "x",
             outcome = "o", origin = "g", wasSplit = "p"
    }

    public init(worker: WorkerID, job: JobID, chunk: Int64, chunkCount: Int64 = 1, attempt: AttemptID,
                elements: ClosedRange<Int64>, start: Double, end: Double?, outcome: Outcome,
                origin: AttemptOrigin, wasSplit: Bool) {
        self.worker = worker
        self.job = job
        self.chunk = chunk
        runChunks = chunkCount == 1 ? nil : chunkCount
        self.attempt = attempt
        self.elements = elements
        self.start = start
        self.end = end
        self.outcome = outcome
        self.origin = origin
        self.wasSplit = wasSplit
    }
}

/// The task timeline for the view: the job's whole history, and its recent attempts exactly.
public struct TimelineSnapshot: Sendable, Equatable {
    /// Seconds since the cluster started.
    public let now: Double
    /// The recent attempts: finished ones, oldest first, then the ones in flight. The oldest fall
    /// off once `ClusterConfiguration.timelineCapacity` is reached.
    public let segments: [TimelineSegment]
    /// The shown job's whole timeline, from its start.
    public let whole: JobTimeline?
    /// When that job started, in seconds since the cluster started.
    public let jobStart: Double?
    /// `segments` holds every attempt that ran at or after this time (seconds since the cluster
    /// started): older ones may have fallen off.
    public let segmentsCompleteFrom: Double

    public init(now: Double, segments: [TimelineSegment], whole: JobTimeline? = nil, jobStart: Double? = nil,
                segmentsCompleteFrom: Double = 0) {
        self.now = now
        self.segments = segments
        self.whole = whole
        self.jobStart = jobStart
        self.segmentsCompleteFrom = segmentsCompleteFrom
    }
}
