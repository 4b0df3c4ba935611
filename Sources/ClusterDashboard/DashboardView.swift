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
            return DashboardFrame(buffer: buffer, workerRows: 1, scrollOffset: input.state.scrollOffset,
                                  logScroll: input.state.logScroll)
        }
        let context = RenderContext(input: input, glyphs: glyphs, palette: palette,
                                    columns: Columns(width: input.width, workers: input.snapshot.workers,
                                                     peaks: input.kernelPeaks?[input.snapshot.kernel] != nil),
                                    table: WorkerTable(input.snapshot, input.state))
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
        let capacity = workerRowCount(height: input.height, workers: Int.max / 2, selectionDetail: context.showsSelectionDetail,
                                      top: context.tableTop)
        return DashboardFrame(buffer: buffer, workerRows: pageRows, scrollOffset: offset, logScroll: logScroll,
                              tableCapacity: capacity, clicks: input.state.showHelp ? ClickMap() : context.clicks.map)
    }

    struct RenderContext {
        let input: DashboardInput
        let glyphs: Glyphs
        let palette: Palette
        let columns: Columns
        /// The table's rows, in the chosen order and filter.
        let table: WorkerTable
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
        let right = queued + status.0
        buffer.write(Widgets.truncate(title, width - right.count - 1, glyphs: glyphs), x: 0, y: 0, style: palette.title)
        buffer.write(queued, x: width - right.count, y: 0, style: palette.title)
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
        x = buffer.write(" total ", x: 0, y: 3, style: palette.label)
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

    // MARK: Workers

    /// Table columns, decided per width: the bar takes what the others leave.
    struct Columns {
        var speed = true, chunks = true, share = true, range = false
        /// Each worker's rate as a share of one core's calibrated peak, when it was measured.
        var peak = false
        var bar = 10
        var rangeWidth = 0
        /// Where each worker runs, shown once any worker is remote: "local" or host:pid/thread.
        var whereWidth = 0

        init(width: Int, workers: [WorkerSnapshot] = [], peaks: Bool = false) {
            // marker+id+state (16), percent (6), chunk id (10), rate (8), right margin (1)
            var fixed = 16 + 6 + 10 + 8 + 1
            if workers.contains(where: { $0.remote != nil }) {
                let longest = workers.reduce(5) { max($0, $1.remote?.label.count ?? 0) }
                // Never more than a quarter of the width: the bar matters more.
                whereWidth = min(longest, max(8, width / 4)) + 1
                fixed += whereWidth
            }
            var optional = 6 + 7 + 7  // speed, chunks, share
            if peaks { peak = true; optional += 6 }
            if width - fixed - optional >= 40 + 34 {
                range = true
                rangeWidth = 34
            }
            if !range, width - fixed - optional < 14 { share = false; optional -= 7 }
            if !range, width - fixed - optional < 14, peak { peak = false; optional -= 6 }
            if !range, width - fixed - optional < 14 { chunks = false; optional -= 7 }
            bar = max(6, width - fixed - optional - (range ? rangeWidth : 0))
        }
    }

    static func drawWorkers(_ buffer: inout CellBuffer, _ c: RenderContext) -> (rows: Int, offset: Int) {
        let workers = c.snapshot.workers, table = c.table
        let rows = workerRowCount(height: c.height, workers: table.rows.count, selectionDetail: c.showsSelectionDetail,
                                  top: c.tableTop)
        let columns = c.columns
        let headerY = c.tableTop
        // Header row; the sorted column is marked (the default, by id, is not).
        let sort = c.input.state.sort
        let arrow = c.input.capabilities.unicode ? "▼" : "v"
        func label(_ text: String) -> String { sort != .id && sort.column == text ? text + arrow : text }
        var header = "    ID " + Widgets.padRight(label("STATE"), 9)
        if columns.whereWidth > 0 { header += Widgets.padRight(label("WHERE"), columns.whereWidth) }
        if columns.speed { header += "SPEED " }  // five wide plus a space, as in the rows
        header += Widgets.padRight("CHUNK PROGRESS", columns.bar + 6) + Widgets.padRight("CHUNK", 10)
        if columns.range { header += Widgets.padRight("RANGE", columns.rangeWidth) }
        header += Widgets.padLeft(label("RATE"), 8)
        if columns.peak { header += Widgets.padLeft("PEAK", 6) }
        if columns.chunks { header += Widgets.padLeft(label("CHUNKS"), 7) }
        if columns.share { header += Widgets.padLeft("SHARE", 7) }
        buffer.fill(x: 0, y: headerY, width: c.width, height: 1, with: Cell(" ", c.palette.tableHeader))
        buffer.write(header, x: 0, y: headerY, style: c.palette.tableHeader)

        let selected = table.selectedRow(c.input.state, c.snapshot)
        let offset = scrollOffset(c.input.state.scrollOffset, rows: rows, count: table.rows.count, selected: selected)
        if workers.isEmpty {
            buffer.write("  no workers: press a to add one", x: 0, y: headerY + 1, style: c.palette.warning)
        } else if table.rows.isEmpty, let filter = c.input.state.filter {
            buffer.write("  no worker matches \"\(filter.text)\": / changes the filter, Esc clears it", x: 0, y: headerY + 1,
                         style: c.palette.warning)
        }
        let totalAccepted = max(1, workers.reduce(UInt64(0)) { $0 + $1.elementsAccepted })
        for row in 0..<rows {
            let index = offset + row
            guard index < table.rows.count else { break }
            let y = headerY + 1 + row
            let bar: Range<Int>?
            switch table.rows[index] {
            case .worker(let w):
                bar = drawWorkerRow(&buffer, c, workers[w], y: y, totalAccepted: totalAccepted)
                c.clicks.add(.worker(workers[w].id), y: y, x: 0..<c.width)
            case .host(let g):
                bar = drawHostRow(&buffer, c, table.groups[g], expanded: table.isExpanded(g), y: y, totalAccepted: totalAccepted)
                c.clicks.add(.host(table.groups[g].key, first: workers[table.groups[g].members[0]].id), y: y, x: 0..<c.width)
            case .departed(let n):
                let text = "  \(n) removed worker\(n == 1 ? "" : "s"): gone; what \(n == 1 ? "it" : "they") did still counts"
                buffer.write(Widgets.truncate(text, c.width - 1, glyphs: c.glyphs), x: 0, y: y, style: c.palette.label)
                bar = nil
            }
            if index == selected {
                buffer.write(String(c.glyphs.selectionMarker), x: 1, y: y, style: CellStyle(bold: true))
                // Highlight the row but not its bar: reversed, a 20% bar would read as 80%.
                let keep = bar ?? c.width..<c.width
                buffer.restyle(x: 0, y: y, width: keep.lowerBound) { $0.reverse = true; $0.bold = true }
                buffer.restyle(x: keep.upperBound, y: y, width: c.width - keep.upperBound) { $0.reverse = true; $0.bold = true }
                if bar != nil, c.palette.boldColoursReadable {
                    buffer.restyle(x: keep.lowerBound, y: y, width: keep.count) { $0.bold = true }
                }
            }
        }
        return (rows, offset)
    }

    /// A host's row: its threads' states, mean chunk progress, total rate, chunks and share,
    /// ▾ when its threads are listed under it, ▸ when folded. Returns its bar's columns.
    @discardableResult
    static func drawHostRow(_ buffer: inout CellBuffer, _ c: RenderContext, _ group: GridView.Group, expanded: Bool,
                            y: Int, totalAccepted: UInt64) -> Range<Int>? {
        let palette = c.palette, glyphs = c.glyphs, columns = c.columns, unicode = c.input.capabilities.unicode
        let threads = group.members.map { c.snapshot.workers[$0] }
        let fold = unicode ? (expanded ? "▾" : "▸") : (expanded ? "-" : "+")
        var x = buffer.write("   " + fold + "   ", x: 0, y: y, style: palette.value)
        // One word when the threads agree, else "mixed"; the counts follow in the range column
        // or on the selection line.
        let words = Set(threads.map { $0.isLeaving ? "leaving" : $0.state.rawValue })
        let word = words.count == 1 ? words.first! : "mixed"
        let style = words.count == 1 ? palette.state(threads[0].state, leaving: threads[0].isLeaving) : palette.label
        x = buffer.write(Widgets.padRight(word, 8) + " ", x: x, y: y, style: style)
        if columns.whereWidth > 0 {
            x = buffer.write(Widgets.padRight(Widgets.truncate(group.name, columns.whereWidth - 1, glyphs: glyphs), columns.whereWidth),
                             x: x, y: y, style: CellStyle(bold: true))
        }
        if columns.speed {
            // The host's speed when its threads share one; throttled threads show on their rows.
            let speeds = Set(threads.map(\.speed))
            let text = speeds.count == 1 ? Format.fixed(speeds.first! * 100, decimals: 0) + "%" : "mixed"
            x = buffer.write(Widgets.padLeft(text, 5) + " ", x: x, y: y, style: speeds.contains { $0 < 1 } ? palette.warning : .plain)
        }
        let working = threads.compactMap { w in w.state == .dead || w.state == .removed ? nil : w.assignment?.fractionDone }
        var bar: Range<Int>?
        if !working.isEmpty {
            let mean = working.reduce(0, +) / Double(working.count)
            let start = x
            x = buffer.write(Widgets.bar(mean, width: columns.bar, glyphs: glyphs), x: x, y: y, style: palette.good)
            bar = start..<x
            x = buffer.write(Widgets.padLeft(Format.fixed(mean * 100, decimals: 0) + "%", 5) + " ", x: x, y: y)
        } else {
            x = buffer.write(String(repeating: " ", count: columns.bar + 6), x: x, y: y)
        }
        let count = threads.count == 1 ? "1 thread" : "\(threads.count) threads"
        x = buffer.write(Widgets.padRight(count.count < 10 ? count : "\(threads.count) thr", 10), x: x, y: y, style: palette.label)
        if columns.range {
            x = buffer.write(Widgets.padRight(Widgets.truncate(stateCounts(threads), columns.rangeWidth - 1, glyphs: glyphs),
                                              columns.rangeWidth), x: x, y: y, style: palette.label)
        }
        let summing = threads.contains { $0.isSumming }
        let rate = summing ? Format.rate(group.rate(in: c.snapshot.workers)) : "-"
        if summing, isLagging(threads) {
            x = buffer.write(Widgets.padLeft((unicode ? "▼" : "!") + rate, 8), x: x, y: y, style: palette.warning)
        } else {
            x = buffer.write(Widgets.padLeft(rate, 8), x: x, y: y, style: palette.value)
        }
        if columns.peak { x = buffer.write(Widgets.padLeft("-", 6), x: x, y: y) }
        if columns.chunks {
            x = buffer.write(Widgets.padLeft(Format.grouped(threads.reduce(0) { $0 + $1.chunksDone }), 7), x: x, y: y)
        }
        if columns.share {
            let share = Double(threads.reduce(UInt64(0)) { $0 + $1.elementsAccepted }) / Double(totalAccepted)
            buffer.write(Widgets.padLeft(Format.percent(share), 7), x: x, y: y)
        }
        return bar
    }

    /// "student-3: 2 threads (1 running, 1 paused), 1.2G/s, 1 gone": a host on one line.
    static func hostSummary(_ group: GridView.Group, _ snapshot: ClusterSnapshot) -> String {
        let threads = group.members.map { snapshot.workers[$0] }
        var text = "\(group.name): \(threads.count) thread\(threads.count == 1 ? "" : "s") (\(stateCounts(threads)))"
        if threads.contains(where: \.isSumming) { text += ", \(Format.rate(group.rate(in: snapshot.workers)))" }
        if isLagging(threads) { text += " (lags: its threads under half the median rate)" }
        text += ", \(Format.grouped(threads.reduce(0) { $0 + $1.chunksDone })) chunks done"
        if group.gone > 0 { text += ", \(group.gone) gone" }
        return text
    }

    /// "2 running, 1 paused": a host's threads by state.
    static func stateCounts(_ threads: [WorkerSnapshot]) -> String {
        WorkerState.allCases.compactMap { state -> String? in
            let n = threads.filter { $0.state == state }.count
            return n == 0 ? nil : "\(n) \(state.rawValue)"
        }.joined(separator: ", ")
    }

    /// A host lags when most of its summing threads do (the engine's rule).
    static func isLagging(_ threads: [WorkerSnapshot]) -> Bool {
        let summing = threads.filter(\.isSumming)
        return StragglerWatch.hostLags(threads: summing.count, lagging: summing.filter(\.isLagging).count)
    }

    /// Draws one worker's row; returns the columns its progress bar took, if it has one.
    @discardableResult
    static func drawWorkerRow(_ buffer: inout CellBuffer, _ c: RenderContext, _ w: WorkerSnapshot, y: Int,
                              totalAccepted: UInt64) -> Range<Int>? {
        let palette = c.palette, glyphs = c.glyphs, columns = c.columns
        var x = buffer.write("  " + Widgets.padLeft(String(w.id.rawValue), 4) + " ", x: 0, y: y, style: palette.value)
        let stateWord = w.isLeaving ? "leaving" : w.state.rawValue
        x = buffer.write(Widgets.padRight(stateWord, 8), x: x, y: y, style: palette.state(w.state, leaving: w.isLeaving))
        x = buffer.write(" ", x: x, y: y)
        if columns.whereWidth > 0 {
            let place = w.remote.map { placeLabel($0, width: columns.whereWidth - 1, glyphs: glyphs) } ?? "local"
            x = buffer.write(Widgets.padRight(place, columns.whereWidth), x: x, y: y,
                             style: w.remote == nil ? palette.label : .plain)
        }
        if columns.speed {
            let speed = Widgets.padLeft(Format.fixed(w.speed * 100, decimals: 0) + "%", 5)
            x = buffer.write(speed + " ", x: x, y: y, style: w.speed < 1 ? palette.warning : .plain)
        }
        let live = w.state != .removed && w.state != .dead
        var bar: Range<Int>?
        if let a = w.assignment, live {
            let barStart = x
            x = buffer.write(Widgets.bar(a.fractionDone, width: columns.bar, glyphs: glyphs), x: x, y: y, style: palette.bar(for: w))
            bar = barStart..<x
            x = buffer.write(Widgets.padLeft(Format.fixed(a.fractionDone * 100, decimals: 0) + "%", 5) + " ", x: x, y: y)
            let redo = a.origin.isRedo ? (c.input.capabilities.unicode ? "↻" : "r") : ""
            x = buffer.write(Widgets.padRight("#\(a.chunk)\(redo)", 10), x: x, y: y, style: a.origin.isRedo ? palette.event(.chunkRequeued(chunk: 0, from: w.id)) : .plain)
            if columns.range {
                let range = Format.range(a.elements.lowerBound, a.elements.upperBound, grouped: true)
                x = buffer.write(Widgets.padRight(Widgets.truncate(range, columns.rangeWidth - 1, glyphs: glyphs), columns.rangeWidth), x: x, y: y)
            }
        } else {
            let idleText: String
            switch w.state {
            case .dead: idleText = w.leaseLost ? "lease lost: no heartbeat" : "crashed: r restarts it"
            case .removed: idleText = w.remote == nil ? "" : "gone"
            default: idleText = "waiting for work"
            }
            let span = columns.bar + 6 + 10 + (columns.range ? columns.rangeWidth : 0)
            x = buffer.write(Widgets.padRight(Widgets.truncate(idleText, span, glyphs: glyphs), span), x: x, y: y,
                             style: w.state == .dead ? palette.state(.dead) : .plain)
        }
        // A rate only for a worker that is summing: an idle or paused one does nothing now,
        // whatever it did in the last second.
        let summing = w.isSumming
        if summing, w.isLagging {
            // A straggler: marked, so it stands out among hundreds of rows.
            let mark = c.input.capabilities.unicode ? "▼" : "!"
            x = buffer.write(Widgets.padLeft(mark + Format.rate(w.throughput), 8), x: x, y: y, style: palette.warning)
        } else {
            x = buffer.write(Widgets.padLeft(summing ? Format.rate(w.throughput) : "-", 8), x: x, y: y)
        }
        if columns.peak {
            // A remote worker's core is another machine's: its peak was not measured here.
            let peak = c.input.kernelPeaks?[c.snapshot.kernel]
            let share = summing && w.remote == nil ? peak.map { w.throughput / $0 } : nil
            x = buffer.write(Widgets.padLeft(share.map(Format.percentWhole) ?? "-", 6), x: x, y: y)
        }
        if columns.chunks { x = buffer.write(Widgets.padLeft(Format.grouped(w.chunksDone), 7), x: x, y: y) }
        if columns.share {
            let share = Double(w.elementsAccepted) / Double(totalAccepted)
            buffer.write(Widgets.padLeft(Format.percent(share), 7), x: x, y: y)
        }
        return bar
    }

    /// "host:pid/thread" in `width` cells. A long host name is shortened rather than the pid and
    /// thread, which are what tell a machine's rows apart.
    static func placeLabel(_ remote: RemoteWorkerInfo, width: Int, glyphs: Glyphs) -> String {
        let label = remote.label
        guard label.count > width else { return label }
        let suffix = ":\(remote.pid)/\(remote.thread)"
        let hostWidth = width - suffix.count
        guard hostWidth > glyphs.ellipsis.count else { return Widgets.truncate(label, width, glyphs: glyphs) }
        return Widgets.truncate(remote.host, hostWidth, glyphs: glyphs) + suffix
    }

    // MARK: Selected worker

    /// "▶ worker 3: chunk #4593, 47.0% of 19,262,412,801...19,266,607,104, attempt 4601".
    static func drawSelectionDetail(_ buffer: inout CellBuffer, _ c: RenderContext, y: Int) {
        if let row = c.table.selectedRow(c.input.state, c.snapshot), case .host(let g) = c.table.rows[row] {
            buffer.write(Widgets.truncate(" \(c.glyphs.selectionMarker) " + hostSummary(c.table.groups[g], c.snapshot), c.width - 1,
                                          glyphs: c.glyphs), x: 0, y: y, style: c.palette.label)
            return
        }
        guard let index = Reducer.selectedIndex(c.input.state, in: c.snapshot) else { return }
        let w = c.snapshot.workers[index]
        var text = " \(c.glyphs.selectionMarker) \(w.id)"
        if let remote = w.remote {
            text += " on \(remote.host) (pid \(remote.pid), thread \(remote.thread)"
                + (remote.kernel.isEmpty ? ")" : ", \(remote.kernel) kernel)")
        }
        text += ": "
        if let a = w.assignment, w.state != .dead, w.state != .removed {
            // Most important first: at 80 columns a huge range pushes the attempt off the end.
            text += "chunk #\(a.chunk)\(a.origin.isRedo ? " (redo)" : ""), \(Format.percent(a.fractionDone)) of "
                + Format.range(a.elements.lowerBound, a.elements.upperBound, grouped: true) + ", \(a.attempt)"
        } else {
            text += w.leaseLost ? "lease lost; back when heard from, or press r"
                : w.state == .dead ? "dead; press r to restart it" : w.state == .removed ? "removed" : "no chunk"
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

