import ClusterModel

/// Everything the view needs for one frame.
public struct DashboardInput: Sendable {
    public var snapshot: ClusterSnapshot
    /// Recent events, oldest first.
    public var events: [ClusterEvent]
    public var state: ViewState
    public var width: Int
    public var height: Int
    public var capabilities: Capabilities
    /// Recent chunk attempts; only needed while the timeline panel is shown.
    public var timeline: TimelineSnapshot?
    public var speedup: SpeedupTracker
    /// Cores on this machine, marked on the speedup panel.
    public var cores: Int
    /// Every finished job, oldest first, for the jobs panel.
    public var finishedJobs: [JobSummary]
    /// One core's calibrated rate per kernel variant: the yardstick of the PEAK column.
    public var kernelPeaks: KernelPeaks?
    /// Set when a recording is played back: the header shows its seek bar.
    public var replay: ReplayStatus?

    public init(snapshot: ClusterSnapshot, events: [ClusterEvent], state: ViewState, width: Int, height: Int,
                capabilities: Capabilities, timeline: TimelineSnapshot? = nil, speedup: SpeedupTracker = SpeedupTracker(),
                cores: Int = 1, finishedJobs: [JobSummary] = [], kernelPeaks: KernelPeaks? = nil) {
        self.snapshot = snapshot
        self.events = events
        self.state = state
        self.width = width
        self.height = height
        self.capabilities = capabilities
        self.timeline = timeline
        self.speedup = speedup
        self.cores = cores
        self.finishedJobs = finishedJobs
        self.kernelPeaks = kernelPeaks
    }

    /// The input for `frame` (live or replayed), drawn in `state`'s view.
    public init(frame: ClusterFrame, state: ViewState, width: Int, height: Int, capabilities: Capabilities,
                cores: Int, replay: ReplayStatus? = nil) {
        self.init(snapshot: frame.snapshot, events: frame.events, state: state, width: width, height: height,
                  capabilities: capabilities, timeline: frame.timeline, speedup: frame.speedup, cores: cores,
                  finishedJobs: frame.finishedJobs, kernelPeaks: frame.kernelPeaks)
        self.replay = replay
    }
}

/// Where a replay stands, for its seek bar.
public struct ReplayStatus: Equatable, Sendable {
    /// Seconds into the recording, and its length.
    public var position: Double
    public var duration: Double
    /// 0.25 to 16.
    public var speed: Double
    public var isPaused: Bool
    /// Where each event worth jumping to falls, in seconds into the recording.
    public var marks: [Double]

    public init(position: Double, duration: Double, speed: Double, isPaused: Bool, marks: [Double] = []) {
        self.position = position
        self.duration = duration
        self.speed = speed
        self.isPaused = isPaused
        self.marks = marks
    }
}

/// One rendered frame and the layout facts the loop feeds back into the reducer.
public struct DashboardFrame: Equatable, Sendable {
    public var buffer: CellBuffer
    /// Worker rows visible (the page size for PgUp/PgDn).
    public var workerRows: Int
    /// The scroll offset actually used, with the selection kept in view.
    public var scrollOffset: Int
    /// How far back the event log is scrolled, capped to the history kept.
    public var logScroll = 0
    /// Rows the worker table has room for: hosts start expanded while their threads fit.
    public var tableCapacity = Int.max
    /// What a click on each part of the screen reaches.
    public var clicks = ClickMap()
}

/// The dashboard as a pure function of its input.
public enum DashboardView {
    public static let minimumWidth = 60
    public static let minimumHeight = 16
    /// Rows above the worker table and its header.
    static let headerRows = 5

    public static func render(_ input: DashboardInput) -> DashboardFrame {
        var buffer = CellBuffer(width: input.width, height: input.height)
        let glyphs = Glyphs.for(input.capabilities)
        let palette = Palette(capabilities: input.capabilities)
        guard input.width >= minimumWidth, input.height >= minimumHeight else {
            drawTooSmall(&buffer, input: input, palette: palette)
            if glyphs.asciiOnly { buffer.replaceNonASCII() }
            return DashboardFrame(buffer: buffer, workerRows: 1, scrollOffset: input.state.scrollOffset,
                                  logScroll: input.state.logScroll)
        }
        // The frame, top to bottom: the header block, the caption, the panel with (at 80
        // columns) the selected worker's line and the event log, and the footer.
        let captionRows = input.state.caption.map { captionLines($0, width: input.width).count } ?? 0
        let screen = Rect(width: input.width, height: input.height)
        let replayRows = input.replay == nil ? 0 : 1
        let frame = screen.split(.vertical, [.length(headerRows), .length(replayRows), .length(captionRows), .fill, .length(1)])
        let (header, replayBar, caption, body, footer) = (frame[0], frame[1], frame[2], frame[3], frame[4])
        let columns = Columns(width: input.width, workers: input.snapshot.workers,
                              peaks: input.kernelPeaks?[input.snapshot.kernel] != nil)
        let detailRows = !columns.range && input.state.panel == .workers ? 1 : 0
        // The most a panel may take: what leaves the log its title and `minimumLogLines`.
        let panelRoom = body.split(.vertical, [.fill, .length(detailRows), .length(1 + minimumLogLines)])[0]
        let context = RenderContext(input: input, glyphs: glyphs, palette: palette, columns: columns,
                                    lazyTable: LazyWorkerTable(input), panelRoom: panelRoom)
        drawHeader(&buffer, context, in: header)
        if let replay = input.replay { drawReplayBar(&buffer, context, replay, in: replayBar) }
        if let text = input.state.caption { drawCaption(&buffer, context, text, in: caption) }
        let (rows, pageRows, offset, listed) = drawPanel(&buffer, context)
        let under = body.split(.vertical, [.length(1 + rows), .length(detailRows), .fill])
        if detailRows > 0 { drawSelectionDetail(&buffer, context, in: under[1]) }
        let logScroll = drawEventLog(&buffer, context, in: under[2], workerRows: pageRows, offset: offset, listed: listed)
        drawFooter(&buffer, context, in: footer)
        if input.state.showHelp { drawHelp(&buffer, context, on: screen) }
        if let confirmation = input.state.confirmingQuit { drawQuitConfirmation(&buffer, context, confirmation, on: screen) }
        if glyphs.asciiOnly { buffer.replaceNonASCII() }
        return DashboardFrame(buffer: buffer, workerRows: pageRows, scrollOffset: offset, logScroll: logScroll,
                              tableCapacity: context.panelRows(needed: Int.max / 2),
                              clicks: input.state.showHelp || input.state.confirmingQuit != nil ? ClickMap() : context.clicks.map)
    }

    /// Lines the event log keeps however many rows a panel would like.
    static let minimumLogLines = 3

    struct RenderContext {
        let input: DashboardInput
        let glyphs: Glyphs
        let palette: Palette
        let columns: Columns
        let lazyTable: LazyWorkerTable
        /// The table's rows, in the chosen order and filter: built only by the views that use it
        /// (the grid, with a thousand workers, would pay for it every frame for nothing).
        var table: WorkerTable { lazyTable.value }
        let clicks = ClickRecorder()
        /// The most the panel may take: its header row, then its rows.
        let panelRoom: Rect
        /// Too narrow for a range column: the selected worker's chunk gets a line of its own.
        var showsSelectionDetail: Bool { !columns.range && input.state.panel == .workers }
        /// The row of the panel's header.
        var tableTop: Int { panelRoom.y }
        var width: Int { input.width }
        var height: Int { input.height }
        var snapshot: ClusterSnapshot { input.snapshot }

        /// Rows under the panel's header for a panel that would like `needed`: all of them if
        /// they fit, else what the room holds (at least one).
        func panelRows(needed: Int) -> Int { max(1, min(max(needed, 1), panelRoom.height - 1)) }
    }
}
