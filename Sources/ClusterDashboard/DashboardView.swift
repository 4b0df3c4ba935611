import ClusterEngine
import ClusterReporting

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
        let context = RenderContext(input: input, glyphs: glyphs, palette: palette,
                                    columns: Columns(width: input.width, workers: input.snapshot.workers,
                                                     peaks: input.kernelPeaks?[input.snapshot.kernel] != nil),
                                    lazyTable: LazyWorkerTable(input))
        drawHeader(&buffer, context)
        if let caption = input.state.caption { drawCaption(&buffer, context, caption) }
        let (rows, pageRows, offset, listed) = drawPanel(&buffer, context)
        var logTop = context.tableTop + 1 + rows
        if context.showsSelectionDetail {
            drawSelectionDetail(&buffer, context, y: logTop)
            logTop += 1
        }
        let logScroll = drawEventLog(&buffer, context, top: logTop, workerRows: pageRows, offset: offset, listed: listed)
        drawFooter(&buffer, context)
        if input.state.showHelp { drawHelp(&buffer, context) }
        if let confirmation = input.state.confirmingQuit { drawQuitConfirmation(&buffer, context, confirmation) }
        if glyphs.asciiOnly { buffer.replaceNonASCII() }
        let capacity = workerRowCount(height: input.height, workers: Int.max / 2, selectionDetail: context.showsSelectionDetail,
                                      top: context.tableTop)
        return DashboardFrame(buffer: buffer, workerRows: pageRows, scrollOffset: offset, logScroll: logScroll,
                              tableCapacity: capacity, clicks: input.state.showHelp || input.state.confirmingQuit != nil ? ClickMap() : context.clicks.map)
    }

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
        /// Too narrow for a range column: the selected worker's chunk gets a line of its own.
        var showsSelectionDetail: Bool { !columns.range && input.state.panel == .workers }
        /// The row of the panel's header: under the header block, and under the caption if any.
        var tableTop: Int { headerRows + captionRows }
        var captionRows: Int { input.state.caption.map { DashboardView.captionLines($0, width: width).count } ?? 0 }
        var width: Int { input.width }
        var height: Int { input.height }
        var snapshot: ClusterSnapshot { input.snapshot }
    }

    /// Rows for workers: all of them if they fit beside a 3-line log, else what is left.
    static func workerRowCount(height: Int, workers: Int, selectionDetail: Bool, top: Int = headerRows) -> Int {
        let detail = selectionDetail ? 1 : 0
        let available = height - top - 1 /* table header */ - detail - 1 /* log title */ - 1 /* footer */
        let minimumLog = 3
        return max(1, min(max(workers, 1), available - minimumLog))
    }

    // MARK: Too small

    static func drawTooSmall(_ buffer: inout CellBuffer, input: DashboardInput, palette: Palette) {
        let times = input.capabilities.unicode ? "×" : "x"
        let lines: [(String, CellStyle)] = [
            ("Terminal too small", palette.bad),
            ("current \(input.width)\(times)\(input.height), needs at least \(minimumWidth)\(times)\(minimumHeight)", .plain),
            ("Enlarge the window, or press q to quit.", .plain),
        ]
        let top = max(0, (input.height - lines.count) / 2)
        for (i, (text, style)) in lines.enumerated() {
            let shown = String(text.prefix(input.width))
            buffer.write(shown, x: max(0, (input.width - shown.count) / 2), y: top + i, style: style)
        }
    }

    // MARK: Header

    static func drawHeader(_ buffer: inout CellBuffer, _ c: RenderContext) {
        let snapshot = c.snapshot, palette = c.palette, glyphs = c.glyphs, width = c.width
        // Title bar.
        buffer.fill(x: 0, y: 0, width: width, height: 1, with: Cell(" ", palette.title))
        var title = " cluster-top"
        let status: (String, CellStyle)
        if let job = snapshot.job {
            let spec = job.spec
            title += "  \(job.id)  \(Format.range(spec.lo, spec.hi, grouped: true))  chunk \(Format.grouped(spec.chunkSize))"
                + "  \(spec.schedule.rawValue)"
            switch job.status {
            case .running, .queued:
                // Say so when nothing is moving, and why.
                if snapshot.count(of: .running) > 0 {
                    status = (" RUNNING ", c.palette.badge(.green))
                } else if snapshot.count(of: .paused) + snapshot.count(of: .pausing) > 0 {
                    status = (" PAUSED ", c.palette.badge(.yellow))
                } else if snapshot.count(of: .idle) > 0 {
                    // A job that has just started, its idle workers not yet woken: not a stall.
                    status = (" STARTING ", c.palette.badge(.green))
                } else if job.waitsForWorkers {
                    // A coordinator before its first laptop joins: nothing is wrong, and no clock runs.
                    status = (" WAITING FOR WORKERS ", c.palette.badge(.yellow))
                } else {
                    status = (" STALLED: no live worker ", c.palette.badge(.red))
                }
            case .verified: status = (" VERIFIED \(glyphs.check) ", c.palette.badge(.green))
            case .mismatch: status = (" MISMATCH \(glyphs.cross) ", c.palette.badge(.red))
            }
        } else {
            title += "  no job yet: press n to start one"
            status = (" IDLE ", palette.title)
        }
        let queued = snapshot.queuedJobs > 0 ? " +\(snapshot.queuedJobs) queued " : ""
        // A journal that stopped is said where the job's state is: a restart would not resume.
        let journal = snapshot.journalStopped ? " JOURNAL STOPPED " : ""
        let right = queued + journal + status.0
        buffer.write(Widgets.truncate(title, width - right.count - 1, glyphs: glyphs), x: 0, y: 0, style: palette.title)
        buffer.write(queued, x: width - right.count, y: 0, style: palette.title)
        buffer.write(journal, x: width - journal.count - status.0.count, y: 0, style: palette.badge(.red))
        buffer.write(status.0, x: width - status.0.count, y: 0, style: status.1)

        guard let job = snapshot.job else {
            buffer.write(" throughput ", x: 0, y: 2, style: palette.label)
            return
        }
        // Progress line: elapsed, ETA, overall bar, percentage.
        var x = buffer.write(" elapsed ", x: 0, y: 1, style: palette.label)
        x = buffer.write(Format.clock(job.elapsed), x: x, y: 1, style: palette.value)
        x = buffer.write("  ETA ", x: x, y: 1, style: palette.label)
        let eta = job.status.isFinished ? "done" : snapshot.estimatedSecondsRemaining.map(Format.clock) ?? "--:--"
        x = buffer.write(eta, x: x, y: 1, style: palette.value)
        let percent = Widgets.padLeft(Format.percent(job.progress), 6)
        let barWidth = width - x - 4 - percent.count - 1
        x = buffer.write("  [", x: x, y: 1, style: palette.label)
        x = buffer.write(Widgets.bar(job.progress, width: barWidth, glyphs: glyphs), x: x, y: 1,
                         style: job.status == .mismatch ? palette.bad : palette.good)
        x = buffer.write("]", x: x, y: 1, style: palette.label)
        buffer.write(percent, x: x, y: 1, style: palette.value)

        // Throughput with its history, and the worker state counts.
        x = buffer.write(" throughput ", x: 0, y: 2, style: palette.label)
        if job.status.isFinished, job.elapsed > 0 {
            // Once the workers idle, the recent rate is 0; the job's own average says more.
            x = buffer.write(Format.rate(Double(job.elementsTotal) / job.elapsed), x: x, y: 2, style: palette.value)
            x = buffer.write(" average ", x: x, y: 2, style: palette.label)
        } else {
            // With no worker summing, the cluster sums nothing now, whatever the last second held.
            let summing = snapshot.count(of: .running) + snapshot.count(of: .pausing) > 0
            x = buffer.write(Widgets.padRight(Format.rate(summing ? snapshot.throughput : 0), 9), x: x, y: 2, style: palette.value)
        }
        // Which kernel makes that rate: the same cores sum 2 or 20 G/s depending on it.
        x = buffer.write("[\(snapshot.kernel.rawValue)] ", x: x, y: 2, style: palette.label)
        let counts = WorkerState.allCases.compactMap { state -> String? in
            let n = snapshot.count(of: state)
            return n == 0 && state != .running ? nil : "\(n) \(state.rawValue)"
        }.joined(separator: "  ")
        let sparkWidth = max(0, width - x - counts.count - 4)
        x = buffer.write(Widgets.sparkline(snapshot.throughputHistory, width: sparkWidth, glyphs: glyphs),
                         x: x + 1, y: 2, style: palette.good)
        let shownCounts = Widgets.truncate(counts, max(0, width - x - 1), glyphs: glyphs)
        buffer.write(shownCounts, x: width - shownCounts.count - 1, y: 2, style: .plain)

        // The exact running total, in full digits, and how it compares with the closed form.
        // What is being summed, said where the sum is: Σx², the squares of the range.
        x = buffer.write(glyphs.asciiOnly ? " sum x^2 total " : " Σx² total ", x: 0, y: 3, style: palette.label)
        x = buffer.write(Format.grouped(job.runningTotal), x: x, y: 3, style: palette.value)
        switch job.status {
        case .verified:
            buffer.write("  = closed form \(glyphs.check)", x: x, y: 3, style: palette.good)
        case .mismatch:
            let closed = job.closedForm.flatMap { UInt128($0) }.map { Format.grouped($0) } ?? "?"
            let differs = c.input.capabilities.unicode ? "≠" : "!="
            buffer.write("  \(differs) closed form \(closed) \(glyphs.cross)", x: x, y: 3, style: palette.bad)
        case .running, .queued:
            // The longest note that fits whole: a note cut mid-word reads as a glitch.
            let room = width - x - 1
            if let note = ["  (checked against the closed form at the end)", "  (checked at the end)"].first(where: { $0.count <= room }) {
                buffer.write(note, x: x, y: 3, style: .plain)
            }
        }

        // Chunk accounting.
        let parts: [(String, String)] = [
            (Format.grouped(job.chunksDone) + "/" + Format.grouped(job.chunksTotal), " done"),
            (Format.grouped(job.chunksInFlight), " in flight"),
            (Format.grouped(job.chunksQueued), " queued"),
            (Format.grouped(job.chunksRequeued), " re-queued"),
            (String(snapshot.staleResults), " stale"),
        ] + (job.spec.schedule == .stealing ? [(Format.grouped(job.chunksSplit), " split")] : [])
        x = buffer.write(" chunks ", x: 0, y: 4, style: palette.label)
        for (i, (number, label)) in parts.enumerated() {
            if i > 0 { x = buffer.write("  ", x: x, y: 4) }
            x = buffer.write(number, x: x, y: 4, style: palette.value)
            x = buffer.write(label, x: x, y: 4, style: .plain)
        }
    }

    // MARK: Caption and panels

    /// A presenter's caption: one bold line that stands out from everything else.
    static func drawCaption(_ buffer: inout CellBuffer, _ c: RenderContext, _ caption: String) {
        let style = c.palette.badge(.yellow)
        for (i, line) in captionLines(caption, width: c.width).enumerated() {
            let y = headerRows + i
            buffer.fill(x: 0, y: y, width: c.width, height: 1, with: Cell(" ", style))
            buffer.write(" " + Widgets.truncate(line, c.width - 2, glyphs: c.glyphs), x: 0, y: y, style: style)
        }
    }

    /// A caption on one line, or on two broken at a space when it is longer than the width: a
    /// join command must be read whole, fingerprint and all.
    static func captionLines(_ caption: String, width: Int) -> [String] {
        let room = width - 2
        guard caption.count > room, room > 0 else { return [caption] }
        let head = caption.prefix(room + 1)
        guard let space = head.lastIndex(of: " "), space > caption.startIndex else { return [caption] }
        return [String(caption[..<space]), String(caption[caption.index(after: space)...])]
    }

    /// The middle of the screen: the worker table, the timeline or the speedup panel. Returns
    /// the rows it used under its header row, the workers per page, the first worker shown, and
    /// how many workers it lists (the timeline leaves out the removed).
    static func drawPanel(_ buffer: inout CellBuffer, _ c: RenderContext)
        -> (rows: Int, pageRows: Int, offset: Int, listed: Listed) {
        switch c.input.state.panel {
        case .workers:
            let (rows, offset) = drawWorkers(&buffer, c)
            return (rows, rows, offset, Listed(count: c.table.rows.count, noun: c.table.isGrouped ? "row" : "worker"))
        case .grid:
            // As many rows as the grid needs, up to what leaves the log its three lines; two more
            // for the selected worker and its host.
            let most = workerRowCount(height: c.height, workers: c.height, selectionDetail: false, top: c.tableTop)
            let groups = GridView.groups(c.snapshot, filter: c.input.state.filter)
            let layout = GridView.layout(groups, width: c.width, rows: most - 2)
            let rows = min(most, max(3, layout.lines.count + 2))
            GridView.draw(&buffer, c, top: c.tableTop, rows: rows, groups: groups, layout: layout)
            return (rows, max(1, rows - 2), 0, Listed())
        case .timeline:
            // A lane per worker not removed, one for the removed if any, and the time axis. When
            // the workers' lanes do not fit and they run on several machines, a lane per host.
            let gone = TimelineView.goneWorkers(c.snapshot, c.input.timeline)
            let goneRow = gone.isEmpty ? 0 : 1
            let most = workerRowCount(height: c.height, workers: Int.max / 2, selectionDetail: false, top: c.tableTop) - 1 - goneRow
            let lanes = TimelineView.lanes(c.table, c.snapshot, room: most)
            let rows = workerRowCount(height: c.height, workers: lanes.count + goneRow + 1, selectionDetail: false,
                                      top: c.tableTop)
            let shown = max(1, rows - 1 - goneRow)
            let selected = c.input.state.selectedWorker.flatMap { id in lanes.firstIndex { $0.workers.contains(id) } }
            let offset = scrollOffset(c.input.state.scrollOffset, rows: shown, count: lanes.count, selected: selected)
            TimelineView.draw(&buffer, c, top: c.tableTop, visible: Array(lanes.dropFirst(offset).prefix(shown)), gone: gone)
            return (rows, shown, offset, Listed(count: lanes.count, noun: lanes.first?.isHost == true ? "host" : "worker"))
        case .speedup:
            // A row per worker count, one for the core rule, room for the "measuring" note, and
            // one for the cores' peak.
            let peakLine = SpeedupView.peakLine(c)
            let rows = workerRowCount(height: c.height, workers: max(c.input.speedup.points.count + 1, 2) + (peakLine == nil ? 0 : 1),
                                      selectionDetail: false, top: c.tableTop)
            SpeedupView.draw(&buffer, c, top: c.tableTop, rows: rows, peakLine: peakLine)
            return (rows, rows, 0, Listed())
        case .jobs:
            let rows = workerRowCount(height: c.height, workers: max(c.input.finishedJobs.count, 2),
                                      selectionDetail: false, top: c.tableTop)
            JobsView.draw(&buffer, c, top: c.tableTop, rows: rows)
            return (rows, rows, 0, Listed())
        }
    }

    /// The worker table, built on first use within one frame.
    final class LazyWorkerTable {
        private let input: DashboardInput
        private(set) lazy var value = WorkerTable(input.snapshot, input.state)
        init(_ input: DashboardInput) { self.input = input }
    }

    /// What a panel lists, for the "N more … below" note: how many, and what they are.
    struct Listed {
        var count = 0
        var noun = "worker"
    }

    /// The first of `count` rows to show in `rows`, near `wanted`, keeping `selected` in view.
    static func scrollOffset(_ wanted: Int, rows: Int, count: Int, selected: Int?) -> Int {
        var offset = min(max(0, wanted), max(0, count - rows))
        if let selected {
            if selected < offset { offset = selected }
            if selected >= offset + rows { offset = selected - rows + 1 }
        }
        return offset
    }

    // MARK: Selected worker

    /// "▶ worker 3: chunk #4593, 47.0% of 19,262,412,801...19,266,607,104, attempt 4601".
    static func drawSelectionDetail(_ buffer: inout CellBuffer, _ c: RenderContext, y: Int) {
        // A host's row holds the selection in the table only: there keys act on all its threads.
        if c.input.state.panel == .workers, let row = c.table.selectedRow(c.input.state, c.snapshot),
           case .host(let g) = c.table.rows[row] {
            buffer.write(Widgets.truncate(" \(c.glyphs.selectionMarker) " + hostSummary(c.table.groups[g], c.snapshot), c.width - 1,
                                          glyphs: c.glyphs), x: 0, y: y, style: c.palette.label)
            return
        }
        guard let index = Reducer.selectedIndex(c.input.state, in: c.snapshot, table: c.table) else {
            if !c.snapshot.workers.isEmpty {
                buffer.write(Widgets.truncate(" nothing selected: this view shows no worker", c.width - 1, glyphs: c.glyphs),
                             x: 0, y: y, style: c.palette.label)
            }
            return
        }
        let w = c.snapshot.workers[index]
        var text = " \(c.glyphs.selectionMarker) \(w.id)"
        if let remote = w.remote {
            text += " on \(remote.host) (pid \(remote.pid), thread \(remote.thread)"
                + (remote.kernel.isEmpty ? ")" : ", \(remote.kernel) kernel)")
        }
        text += ": "
        if let a = w.assignment, w.state != .dead, w.state != .removed {
            // Most important first: at 80 columns a huge range pushes the attempt off the end.
            let kind: String
            switch a.origin {
            case .redo: kind = " (redo)"
            case .backup(let of): kind = " (backup of \(of)'s)"
            case .fresh, .split: kind = ""
            }
            text += "chunk #\(a.chunk)\(kind), \(Format.percent(a.fractionDone)) of "
                + Format.range(a.elements.lowerBound, a.elements.upperBound, grouped: true) + ", \(a.attempt)"
        } else {
            text += w.leaseLost ? "lease lost; back when heard from, or press r"
                : w.state == .dead ? "dead; press r to restart it" : w.state == .removed ? "removed"
                : w.benched.map { $0.rowText + "; no more work for it in this job" } ?? "no chunk"
        }
        buffer.write(Widgets.truncate(text, c.width - 1, glyphs: c.glyphs), x: 0, y: y, style: c.palette.label)
    }

    // MARK: Event log

    /// Draws the event log and the status line; returns how far back the log is scrolled.
    @discardableResult
    static func drawEventLog(_ buffer: inout CellBuffer, _ c: RenderContext, top: Int, workerRows: Int, offset: Int,
                             listed: Listed) -> Int {
        let glyphs = c.glyphs, palette = c.palette
        let bottom = c.height - 2  // last log row; the footer is below
        buffer.fill(x: 0, y: top, width: c.width, height: 1, with: Cell(glyphs.horizontal, palette.frame))
        let lines = EventLogLines.lines(from: c.input.events, glyphs: glyphs)
        let capacity = max(0, bottom - top)
        // Scrolled back this many lines from the newest, as far as the kept history goes.
        let back = min(c.input.state.logScroll, max(0, lines.count - capacity))
        let older = lines.count - capacity - back > 0
        let scrollNote = back > 0 ? "(\(back) newer below: ] newer, [ older) " : older ? "([ older) " : ""
        var title = "\(glyphs.horizontal)\(glyphs.horizontal) events " + scrollNote
        buffer.write(title, x: 0, y: top, style: back > 0 ? palette.warning : palette.frame)
        // A filter hides workers in every view: say so where every view shows it.
        if let filter = c.input.state.filter {
            let note = " filter \"\(filter.text)\": \(c.table.matching) of \(c.table.total) workers (Esc clears) "
            let x = title.count + 1
            buffer.write(Widgets.truncate(note, max(0, c.width - x - 1), glyphs: glyphs), x: x, y: top, style: palette.warning)
            title += String(repeating: " ", count: note.count + 1)
        }
        // Say how many workers are scrolled out of view, and where.
        let above = offset, below = max(0, listed.count - offset - workerRows)
        if above + below > 0 {
            let up = c.input.capabilities.unicode ? "↑" : "^", down = c.input.capabilities.unicode ? "↓" : "v"
            let hidden = above + below
            // The grid shows them all: say so where the table runs out.
            let grid = c.input.state.panel == .workers ? "; v: all in the grid" : ""
            let note = " \(hidden) more \(listed.noun)\(hidden == 1 ? "" : "s"): \(up) \(above) above, \(down) \(below) below (PgUp/PgDn\(grid)) "
            let x = max(title.count + 1, c.width - note.count - 2)
            buffer.write(Widgets.truncate(note, c.width - x - 1, glyphs: glyphs), x: x, y: top, style: palette.warning)
        }
        for y in (top + 1)...max(top + 1, bottom) { c.clicks.add(.eventLog, y: y, x: 0..<c.width) }
        let shown = lines.dropLast(back).suffix(capacity)
        for (i, line) in shown.enumerated() {
            let y = top + 1 + i
            let x = buffer.write(" " + Widgets.padLeft(line.time, 7) + "  ", x: 0, y: y, style: palette.label)
            buffer.write(Widgets.truncate(line.text, c.width - x - 1, glyphs: glyphs), x: x, y: y, style: palette.event(line.kind))
        }
        // A status message or prompt error takes the last log row.
        if let error = c.input.state.prompt?.error {
            buffer.fill(x: 0, y: bottom, width: c.width, height: 1)
            buffer.write(" \(glyphs.cross) " + Widgets.truncate(error, c.width - 4, glyphs: glyphs), x: 0, y: bottom, style: palette.bad)
        } else if let status = c.input.state.status, c.snapshot.time - status.since < StatusMessage.lifetime {
            buffer.fill(x: 0, y: bottom, width: c.width, height: 1)
            buffer.write(" " + Widgets.truncate(status.text, c.width - 2, glyphs: glyphs), x: 0, y: bottom,
                         style: status.isError ? palette.warning : palette.good)
        }
        return back
    }

    static func drawFooter(_ buffer: inout CellBuffer, _ c: RenderContext) {
        let y = c.height - 1
        buffer.fill(x: 0, y: y, width: c.width, height: 1)
        if let prompt = c.input.state.prompt {
            let isFilter = prompt.purpose == .filter
            var x = buffer.write(isFilter ? " Filter, host or state:" : " New job LO...HI: ", x: 0, y: y, style: c.palette.footerKey)
            x = buffer.write(prompt.text, x: x + 1, y: y, style: c.palette.value)
            x = buffer.write("_", x: x, y: y, style: CellStyle(bold: true, reverse: true))
            let hint = isFilter ? "  Enter shows only the matching workers (empty: all), Esc cancels"
                : "  Enter starts, Esc cancels (\(c.input.state.nextSchedule.rawValue), chunk \(Format.grouped(c.input.state.nextChunkSize)))"
            buffer.write(Widgets.truncate(hint, c.width - x, glyphs: c.glyphs), x: x, y: y, style: .plain)
            return
        }
        // Quit is pinned to the right so it shows at any width; the rest fill from the left.
        let entries = KeyMap.footerEntries
        let quit = entries.last { $0.label == "Quit" }
        let quitWidth = quit.map { $0.key.count + $0.label.count + 1 } ?? 0
        var x = 0
        for entry in entries where entry.label != "Quit" {
            let needed = entry.key.count + entry.label.count + 1
            if x + needed > c.width - quitWidth - 1 { break }
            let start = x
            x = buffer.write(entry.key, x: x, y: y, style: c.palette.footerKey)
            x = buffer.write(entry.label + " ", x: x, y: y, style: c.palette.footerLabel)
            c.clicks.add(.action(entry.action), y: y, x: start..<x)
        }
        if let quit {
            let qx = buffer.write(quit.key, x: c.width - quitWidth, y: y, style: c.palette.footerKey)
            buffer.write(quit.label, x: qx, y: y, style: c.palette.footerLabel)
            c.clicks.add(.action(quit.action), y: y, x: (c.width - quitWidth)..<c.width)
        }
    }

    // MARK: Help

    /// A box in the middle of the screen: "Quit? 20 worker processes (40 threads) will be
    /// released and stop." and what each key does.
    static func drawQuitConfirmation(_ buffer: inout CellBuffer, _ c: RenderContext, _ confirmation: QuitConfirmation) {
        let g = c.glyphs, frame = c.palette.frame
        let lines = [confirmation.question, "y: quit      any other key: stay"]
        let boxWidth = min(c.width, (lines.map(\.count).max() ?? 0) + 4)
        let boxHeight = min(c.height, lines.count + 2)
        let left = (c.width - boxWidth) / 2, top = max(0, (c.height - boxHeight) / 2)
        buffer.fill(x: left, y: top, width: boxWidth, height: boxHeight)
        let horizontal = String(repeating: g.horizontal, count: max(0, boxWidth - 2))
        buffer.write(String(g.corners.0) + horizontal + String(g.corners.1), x: left, y: top, style: frame)
        buffer.write(String(g.corners.2) + horizontal + String(g.corners.3), x: left, y: top + boxHeight - 1, style: frame)
        for (i, line) in lines.prefix(max(0, boxHeight - 2)).enumerated() {
            let y = top + 1 + i
            buffer.write(String(g.vertical), x: left, y: y, style: frame)
            buffer.write(String(g.vertical), x: left + boxWidth - 1, y: y, style: frame)
            buffer.write(Widgets.truncate(line, max(0, boxWidth - 4), glyphs: g), x: left + 2, y: y,
                         style: i == 0 ? c.palette.warning : c.palette.label)
        }
    }

    static func drawHelp(_ buffer: inout CellBuffer, _ c: RenderContext) {
        let rows = KeyMap.helpRows
        let keyWidth = rows.map(\.keys.count).max() ?? 0
        let contentWidth = min(c.width - 6, max(40, keyWidth + 3 + (rows.map(\.description.count).max() ?? 0)))
        let boxWidth = contentWidth + 4
        let boxHeight = min(c.height, rows.count + 2)
        let left = (c.width - boxWidth) / 2, top = max(0, (c.height - boxHeight) / 2)
        let g = c.glyphs, frame = c.palette.frame
        // The whole screen: fragments of the dashboard around the box would read as part of it.
        buffer.fill(x: 0, y: 0, width: c.width, height: c.height)
        let horizontal = String(repeating: g.horizontal, count: boxWidth - 2)
        buffer.write(String(g.corners.0) + horizontal + String(g.corners.1), x: left, y: top, style: frame)
        buffer.write(String(g.corners.2) + horizontal + String(g.corners.3), x: left, y: top + boxHeight - 1, style: frame)
        for y in (top + 1)..<(top + boxHeight - 1) {
            buffer.write(String(g.vertical), x: left, y: y, style: frame)
            buffer.write(String(g.vertical), x: left + boxWidth - 1, y: y, style: frame)
        }
        buffer.write(" cluster-top keys ", x: left + 2, y: top, style: c.palette.value)
        let visible = boxHeight - 2
        for (i, row) in rows.prefix(visible).enumerated() {
            let y = top + 1 + i
            let x = buffer.write(Widgets.padRight(row.keys, keyWidth), x: left + 2, y: y, style: c.palette.footerKey)
            buffer.write("   " + Widgets.truncate(row.description, contentWidth - keyWidth - 3, glyphs: g), x: x, y: y)
        }
        // In the bottom border, as the title is in the top one.
        let more = rows.count > visible ? " (\(rows.count - visible) more: enlarge the window)" : ""
        buffer.write(Widgets.truncate(" Press any key to close" + more + " ", contentWidth, glyphs: g), x: left + 2,
                     y: top + boxHeight - 1, style: c.palette.label)
    }
}

