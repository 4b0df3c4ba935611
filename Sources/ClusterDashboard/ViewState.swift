import ClusterModel

/// What fills the middle of the dashboard, between the header and the event log.
public enum DashboardPanel: String, Sendable, CaseIterable {
    /// One row per worker: state, chunk progress bar, rate.
    case workers
    /// Every worker as one cell, grouped by host: the whole cluster on one screen.
    case grid
    /// One lane per worker across time, a segment per chunk attempt.
    case timeline
    /// Throughput against the number of running workers, with the ideal line.
    case speedup
    /// Every finished job compared: time, rate, how it went.
    case jobs

    public var next: DashboardPanel {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// The prompt on the footer line while it is open: a new job's range, or a filter.
public struct JobPrompt: Equatable, Sendable {
    public enum Purpose: Sendable {
        /// `n`: LO...HI of a new job.
        case newJob
        /// `/`: which hosts or states the table, grid and timeline show.
        case filter
    }

    public var text: String
    /// Why the last Enter was refused, shown until the text changes.
    public var error: String?
    public var purpose: Purpose

    public init(text: String = "", error: String? = nil, purpose: Purpose = .newJob) {
        self.text = text
        self.error = error
        self.purpose = purpose
    }
}

/// A short message under the worker table, shown for a few seconds.
public struct StatusMessage: Equatable, Sendable {
    public let text: String
    public let isError: Bool
    /// Snapshot time at which it was set; it fades after `StatusMessage.lifetime` seconds.
    public let since: Double
    public static let lifetime = 4.0

    public init(text: String, isError: Bool, since: Double) {
        self.text = text
        self.isError = isError
        self.since = since
    }
}

/// Everything about the dashboard that is not the cluster's state: selection, scrolling,
/// overlays, the prompt. Changed only by `Reducer`: by keys and clicks (`reduce`, `click`) and
/// by messages (`receive`).
public struct ViewState: Equatable, Sendable {
    public var selectedWorker: WorkerID?
    /// Set when the table's selection is on a host's row: keys then act on all its threads.
    public var selectedHost: HostKey?
    /// Hosts the person expanded (true) or collapsed (false) in the table; the others are
    /// expanded while every row fits.
    public var hostExpanded: [HostKey: Bool] = [:]
    public var sort = WorkerSort.id
    public var filter: WorkerFilter?
    /// Rows the table had room for in the last frame: whether hosts start expanded.
    public var tableCapacity = Int.max
    /// First worker row shown; the view keeps the selection visible whatever this says.
    public var scrollOffset = 0
    public var showHelp = false
    public var panel = DashboardPanel.workers
    /// Lines the event log is scrolled back from the newest (the view caps it).
    public var logScroll = 0
    /// The timeline shows the whole job, or its last seconds.
    var timelineZoom = TimelineView.Zoom.wholeJob
    /// Set by m: the loop starts measuring the speedup curve, and clears it.
    public var speedupMeasureRequested = false
    /// The speedup measurement under way: the worker count now, and the last one.
    public var speedupMeasuring: SpeedupProgress?
    /// A presenter's caption from a script or the demo, or how to join a coordinator, shown
    /// under the header.
    public var caption: String?
    public var prompt: JobPrompt?
    public var status: StatusMessage?
    public var quitRequested = false
    /// A recording played back: nothing the keys ask reaches a cluster.
    public var isReplay = false
    /// `--record` as the header shows it: a presenter sees that the class is being kept, and at
    /// once when it stopped (a full disk), not at the end.
    public var recording: RecordingBadge = .off
    /// Set by q while workers of other machines are joined: the overlay asks before releasing
    /// them; y quits, any other key stays.
    public var confirmingQuit: QuitConfirmation?
    /// Set by Ctrl-L: the backend repaints every cell.
    public var fullRedrawRequested = false
    /// Settings for jobs started with `n`.
    public var nextSchedule: SchedulePolicy
    public var nextChunkSize: Int64

    public init(nextSchedule: SchedulePolicy = .dynamic, nextChunkSize: Int64 = JobSpec.defaultChunkSize,
                caption: String? = nil) {
        self.nextSchedule = nextSchedule
        self.nextChunkSize = nextChunkSize
        self.caption = caption
    }
}

/// What quitting would end: the worker processes (laptops) joined, and their threads.
public struct QuitConfirmation: Equatable, Sendable {
    public let processes: Int
    public let threads: Int

    /// Nil when no worker of another machine is joined: then q quits at once.
    init?(_ snapshot: ClusterSnapshot) {
        let joined = snapshot.workers.filter { $0.remote != nil && $0.state != .removed }
        guard !joined.isEmpty else { return nil }
        struct Process: Hashable { let host: String; let pid: Int32 }
        processes = Set(joined.compactMap { $0.remote.map { Process(host: $0.host, pid: $0.pid) } }).count
        threads = joined.count
    }

    /// "Quit? 20 worker processes (40 threads) will be released."
    public var question: String {
        let machines = processes == 1 ? "1 worker process" : "\(processes) worker processes"
        let threadsText = threads == 1 ? "1 thread" : "\(threads) threads"
        return "Quit? \(machines) (\(threadsText)) will be released and stop."
    }
}

/// How far a speedup measurement has come.
public struct SpeedupProgress: Equatable, Sendable {
    public let workers: Int
    public let upTo: Int
    public init(workers: Int, upTo: Int) {
        self.workers = workers
        self.upTo = upTo
    }
}

/// What the dashboard asks of the engine: the reducer returns these as values, and the loop
/// that owns the cluster carries them out (`EngineCommand.apply(to:)` in ClusterTerminal).
public enum EngineCommand: Equatable, Sendable {
    case addWorker
    case remove(WorkerID)
    case pause(WorkerID)
    case resume(WorkerID)
    case kill(WorkerID)
    case restart(WorkerID)
    case setSpeed(WorkerID, Double)
    case submit(JobSpec)
    /// The kernel variant this process's workers run, from their next sub-block.
    case setKernel(KernelVariant)
}

/// Whether the run is being recorded (`--record`), for the header.
public enum RecordingBadge: Equatable, Sendable {
    case off
    case on
    /// Writing failed (a full disk, a pipe whose reader left): the file replays up to there.
    case stopped
}
