import ClusterModel

/// The first line of a recording: what it is, its format's version, and the machine it ran on.
/// docs/recording.md describes the format.
public struct RecordingHeader: Codable, Sendable, Equatable {
    public static let formatName = "cluster-top recording"
    /// Raised whenever a record changes meaning; a reader refuses a version newer than its own.
    public static let currentVersion = 1

    public var format: String
    public var version: Int
    /// Cores of the machine that recorded it (the speedup panel marks them).
    public var cores: Int
    /// The command line, for whoever finds the file.
    public var command: String

    public init(cores: Int, command: String) {
        format = Self.formatName
        version = Self.currentVersion
        self.cores = cores
        self.command = command
    }
}

/// One frame of a recording: what changed since the frame before it (the first frame: from
/// nothing). Short keys: a frame is written up to ten times a second.
struct FrameRecord: Codable, Sendable, Equatable {
    /// The snapshot's time (seconds since the cluster started).
    var time: Double
    /// The running (or last) job, when it changed; `noJob` when it became nil.
    var job: JobSnapshot?
    var noJob: Bool?
    var queuedJobs: Int?
    var finishedJobs: Int?
    var workers: WorkersDelta?
    var throughput: Double?
    var history: ArrayDelta<Double>?
    var staleResults: Int?
    var lastEventSequence: UInt64?
    var kernel: KernelVariant?
    var journalStopped: Bool?
    var totals: ClusterTotals?
    /// Events since the frame before; jobs finished since.
    var events: [ClusterEvent]?
    var jobsFinished: [JobSummary]?
    var timeline: TimelineDelta?
    /// The attempts the timeline's ring adds (`timeline.segments`' own list is then empty): the
    /// bulk of a recording, written by hand (`AttemptText`) rather than by JSONEncoder.
    var attempts: [TimelineSegment]?
    var speedup: SpeedupTracker?
    var kernelPeaks: KernelPeaks?
    /// The caption, when it changed ("" when it went away).
    var caption: String?

    private enum CodingKeys: String, CodingKey {
        case time = "t", job = "j", noJob = "nj", queuedJobs = "q", finishedJobs = "f", workers = "w",
             throughput = "tp", history = "h", staleResults = "st", lastEventSequence = "ls", kernel = "k",
             journalStopped = "js", totals = "tot", events = "e", jobsFinished = "fj", timeline = "tl",
             attempts = "ta", speedup = "sp", kernelPeaks = "kp", caption = "c"
    }
}

/// The workers' rows since the frame before: each row whose values changed, by its index, with
/// only the counters that move while a worker runs when nothing else changed; or every row, when
/// rows came or went.
struct WorkersDelta: Codable, Sendable, Equatable {
    var all: [WorkerSnapshot]?
    var changed: [WorkerChange]?

    private enum CodingKeys: String, CodingKey { case all = "all", changed = "c" }
}

struct WorkerChange: Codable, Sendable, Equatable {
    var index: Int
    /// The whole row, when more than its running counters changed.
    var row: WorkerSnapshot?
    var processed: UInt64?
    var accepted: UInt64?
    var chunksDone: Int?
    var throughput: Double?
    /// The current attempt's elements done.
    var done: Int64?
    /// A new attempt, when that is all that changed besides the counters (`noAttempt`: none now).
    var attempt: ChunkAssignment?
    var noAttempt: Bool?

    private enum CodingKeys: String, CodingKey {
        case index = "i", row = "r", processed = "p", accepted = "a", chunksDone = "n", throughput = "t", done = "d",
             attempt = "g", noAttempt = "ng"
    }
}

/// The timeline since the frame before: the recent attempts as a ring, and the shown job's
/// lanes as patches.
struct TimelineDelta: Codable, Sendable, Equatable {
    var now: Double
    var segments: ArrayDelta<TimelineSegment>
    var jobStart: Double?
    var segmentsCompleteFrom: Double
    /// The shown job's lanes: whole when the job or the cell size changed, else patched.
    var whole: JobTimeline.Parts?
    var lanes: [LanePatch]?
    var owners: [WorkerID]?
    var departed: ArrayPatch<TimelineMark>?
    var departedCount: Int?
    /// No timeline at all, or no whole-job timeline.
    var none: Bool?
    var noWhole: Bool?

    private enum CodingKeys: String, CodingKey {
        case now = "t", segments = "s", jobStart = "js", segmentsCompleteFrom = "sf", whole = "w", lanes = "l",
             owners = "o", departed = "d", departedCount = "dc", none = "x", noWhole = "xw"
    }
}

struct LanePatch: Codable, Sendable, Equatable {
    var lane: Int
    var patch: ArrayPatch<TimelineMark>

    private enum CodingKeys: String, CodingKey { case lane = "l", patch = "p" }
}
