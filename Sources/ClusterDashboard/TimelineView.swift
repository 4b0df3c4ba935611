import ClusterModel

/// The task timeline: one lane per worker across the shown job's time, each chunk attempt a
/// stretch shaded by its fate, and an axis in seconds since the job started. It shows the whole
/// job, or (`z`) its last seconds exactly. Rare marks win a cell over common ones, so a kill or
/// a split stays visible however short it was. Removed workers' lanes collapse into one.
enum TimelineView {
    /// How much of the job the lanes show.
    enum Zoom: String, Sendable, Equatable {
        case wholeJob, recent
        /// The span of `recent`, in seconds.
        static let recentSeconds = 10.0
    }

    static func glyph(_ mark: TimelineMark, unicode: Bool) -> Character {
        switch mark {
        case .empty: return " "
        case .done: return unicode ? "█" : "#"
        case .doneAlternate: return unicode ? "▇" : "="
        case .slow: return unicode ? "▃" : "_"
        case .inFlight: return unicode ? "▒" : ">"
        case .paused: return unicode ? "┄" : "-"
        case .redo: return unicode ? "▓" : "r"
        case .stolen: return unicode ? "░" : "s"
        case .backup: return unicode ? "▚" : "b"
        case .superseded: return unicode ? "×" : "f"
        case .killed: return unicode ? "✗" : "x"
        }
    }

    static func style(_ mark: TimelineMark, _ palette: Palette) -> CellStyle {
        switch mark {
        case .empty: return .plain
        case .done, .doneAlternate: return palette.color(.green)
        case .slow: return palette.color(.yellow)
        case .inFlight: return palette.color(.default, bold: true)
        case .paused: return palette.color(.yellow, bold: true)
        case .redo: return palette.color(.magenta, bold: true)
        case .stolen: return palette.color(.cyan, bold: true)
        case .backup: return palette.color(.blue, bold: true)
        case .superseded: return palette.color(.yellow)
        case .killed: return palette.color(.red, bold: true)
        }
    }

    /// The legend: every glyph, each once (done's two shades together).
    static let legend: [([TimelineMark], String)] = [
        ([.done, .doneAlternate], "done"), ([.slow], "done slowly"), ([.inFlight], "running"), ([.paused], "paused"), ([.killed], "killed"),
        ([.redo], "redone"), ([.stolen], "stolen/split"), ([.backup], "backup"), ([.superseded], "fenced off"),
    ]

    /// The legend's entries that fit in `width` columns: all of them if they fit; else those
    /// whose marks are on screen (`present`) or common, so no glyph on screen goes unexplained.
    static func legendEntries(width: Int, present: Set<TimelineMark>) -> [([TimelineMark], String)] {
        func size(_ entries: [([TimelineMark], String)]) -> Int { entries.reduce(0) { $0 + $1.0.count + $1.1.count + 2 } }
        if size(legend) < width { return legend }
        let common: Set<TimelineMark> = [.done, .doneAlternate, .inFlight, .paused]
        var entries = legend.filter { marks, _ in marks.contains { common.contains($0) || present.contains($0) } }
        while size(entries) >= width, !entries.isEmpty { entries.removeLast() }
        return entries
    }

    /// Lanes from exact segments: `width` cells per worker from `start` to `end` (the segments'
    /// clock). Workers in `merged` share the lane of `mergedInto`.
    static func lanes(_ segments: [TimelineSegment], workers: [WorkerID], start: Double, end: Double,
                      width: Int, merged: Set<WorkerID> = [], mergedInto: WorkerID? = nil) -> [WorkerID: [TimelineMark]] {
        var lanes: [WorkerID: [TimelineMark]] = [:]
        for worker in workers + (mergedInto.map { [$0] } ?? []) { lanes[worker] = Array(repeating: .empty, count: width) }
        let span = max(end - start, 1e-6)
        for segment in segments {
            let lane = merged.contains(segment.worker) ? mergedInto : segment.worker
            guard let lane, lanes[lane] != nil else { continue }
            let segmentEnd = segment.end ?? end
            guard segmentEnd >= start, segment.start <= end else { continue }
            let from = (segment.start - start) / span * Double(width)
            let to = (segmentEnd - start) / span * Double(width)
            let first = max(0, min(width - 1, Int(from.rounded(.down))))
            let last = max(first, min(width - 1, Int(to.rounded(.up)) - 1))
            let mark = TimelineMark(outcome: segment.outcome, origin: segment.origin, wasSplit: segment.wasSplit,
                                    chunk: segment.chunk)
            for x in first...last { lanes[lane]![x] = TimelineMark.merged(lanes[lane]![x], mark) }
        }
        return lanes
    }

    /// A tick step of 1, 2 or 5 × 10^k seconds that puts a label about every `spacing` cells.
    static func tickStep(span: Double, width: Int, spacing: Int = 12) -> Double {
        let raw = span / Double(max(1, width / spacing))
        var step = 0.001
        while step < raw {
            for factor in [2.0, 2.5, 2.0] where step < raw { step *= factor }
        }
        return step
    }

    /// One lane: a worker's, or a whole host's threads merged.
    struct Lane: Equatable {
        let label: String
        let workers: [WorkerID]
        let isHost: Bool
    }

    /// The lanes in the table's order and filter: a lane per live worker, or, when those do not
    /// fit in `room` rows and the workers run on several machines, a lane per host.
    static func lanes(_ table: WorkerTable, _ snapshot: ClusterSnapshot, room: Int) -> [Lane] {
        let workers = snapshot.workers
        guard table.isGrouped, table.ordered.count > room else {
            return table.ordered.map { Lane(label: String(workers[$0].id.rawValue), workers: [workers[$0].id], isHost: false) }
        }
        return table.groups.map { Lane(label: $0.name, workers: $0.members.map { workers[$0].id }, isHost: true) }
    }

    /// The removed workers that did something in the shown job, and `JobTimeline.departedLane`
    /// for those whose rows were freed since: they share one lane, which is left out when there
    /// are none.
    static func goneWorkers(_ snapshot: ClusterSnapshot, _ timeline: TimelineSnapshot?) -> Set<WorkerID> {
        guard let whole = timeline?.whole, whole.job == snapshot.job?.id else { return [] }
        var gone = Set(snapshot.workers.filter { $0.state == .removed && whole.lane(of: $0.id) != nil }.map(\.id))
        if whole.departedCount > 0 { gone.insert(JobTimeline.departedLane) }
        return gone
    }

    /// Draws the panel from `top`: the legend, a lane for each of `visible` (the lane workers on
    /// screen), one shared lane for `gone` if any, and the axis.
    static func draw(_ buffer: inout CellBuffer, _ c: DashboardView.RenderContext, top: Int,
                     visible: [Lane], gone: Set<WorkerID>) {
        let palette = c.palette, unicode = c.input.capabilities.unicode
        let zoom = c.input.state.timelineZoom
        // A host's lane is labelled with its name, as long as the longest shown (to a limit).
        let hosts = visible.contains { $0.isHost }
        let labelWidth = hosts ? min(16, visible.map(\.label.count).max() ?? 0) + 4 : 7
        let laneWidth = max(1, c.width - labelWidth - 1)
        buffer.fill(x: 0, y: top, width: c.width, height: 1, with: Cell(" ", palette.tableHeader))
        let title = Widgets.padRight(hosts ? "    HOST" : "    ID", labelWidth - 1)
            + (zoom == .wholeJob ? " WHOLE JOB " : " LAST \(Int(Zoom.recentSeconds)) S ")
        let titleEnd = buffer.write(title, x: 0, y: top, style: palette.tableHeader)
        func drawLegend(present: Set<TimelineMark>) {
            var x = titleEnd
            for (marks, name) in legendEntries(width: c.width - titleEnd, present: present) {
                x = buffer.write(" " + String(marks.map { glyph($0, unicode: unicode) }), x: x, y: top, style: style(marks[0], palette))
                x = buffer.write(" " + name, x: x, y: top, style: palette.tableHeader)
            }
        }
        guard let timeline = c.input.timeline, let job = c.snapshot.job,
              let jobStart = timeline.jobStart, timeline.whole?.job == job.id else {
            drawLegend(present: [])
            buffer.write("  no job yet: the timeline shows the current job's chunks", x: 0, y: top + 1, style: palette.warning)
            return
        }
        // Times are seconds since the job started; a finished job's picture ends with it.
        let end = job.status.isFinished ? job.elapsed : max(0, timeline.now - jobStart)
        let from = zoom == .wholeJob ? 0
            : max(0, end - Zoom.recentSeconds, timeline.segmentsCompleteFrom - jobStart)
        let cells = laneCells(timeline, job: job.id, jobStart: jobStart, from: from, to: end, width: laneWidth,
                              workers: visible.flatMap(\.workers), gone: gone, zoom: zoom)
        drawLegend(present: Set(cells.lanes.values.joined()).union(cells.gone))
        let selected = c.input.state.selectedWorker
        var y = top + 1
        func drawLane(_ label: String, _ marks: [TimelineMark], selected: Bool) {
            buffer.write(label, x: 0, y: y, style: selected ? CellStyle(bold: true, reverse: true) : palette.value)
            for (i, mark) in marks.enumerated() {
                buffer.write(String(glyph(mark, unicode: unicode)), x: labelWidth + i, y: y, style: style(mark, palette))
            }
            y += 1
        }
        let empty = Array(repeating: TimelineMark.empty, count: laneWidth)
        for lane in visible {
            let isSelected = selected.map(lane.workers.contains) ?? false
            let marker = isSelected ? " \(c.glyphs.selectionMarker)" : "  "
            let label = lane.isHost
                ? marker + " " + Widgets.padRight(Widgets.truncate(lane.label, labelWidth - 4, glyphs: c.glyphs), labelWidth - 3)
                : marker + Widgets.padLeft(lane.label, 4) + " "
            // A host's threads in one lane: a kill or a redo on any of them still shows.
            let marks = lane.workers.reduce(empty) { zip($0, cells.lanes[$1] ?? empty).map(TimelineMark.merged) }
            c.clicks.add(.worker(lane.workers[0]), y: y, x: 0..<c.width)
            drawLane(label, marks, selected: isSelected)
        }
        if !gone.isEmpty {
            // Every removed worker's lane in one: what they did still counts. How many, where the
            // lane is empty (they have left, so its end usually is).
            drawLane(Widgets.padLeft("gone", labelWidth - 1) + " ", cells.gone, selected: false)
            let count = gone.count + (gone.contains(JobTimeline.departedLane) ? (c.input.timeline?.whole?.departedCount ?? 1) - 1 : 0)
            let note = " \(count) removed worker\(count == 1 ? "" : "s") "
            if cells.gone.count > note.count, cells.gone.suffix(note.count).allSatisfy({ $0 == .empty }) {
                buffer.write(note, x: labelWidth + cells.gone.count - note.count, y: y - 1, style: palette.label)
            }
        }
        drawAxis(&buffer, c, y: y, from: from, to: end, labelWidth: labelWidth, laneWidth: laneWidth)
    }

    /// Each visible worker's cells, and the removed workers' merged, from `from` to `to` seconds
    /// after the job's start.
    static func laneCells(_ timeline: TimelineSnapshot, job: JobID, jobStart: Double, from: Double, to: Double,
                          width: Int, workers: [WorkerID], gone: Set<WorkerID>, zoom: Zoom)
        -> (lanes: [WorkerID: [TimelineMark]], gone: [TimelineMark]) {
        guard let whole = timeline.whole else { return ([:], []) }
        func merge(_ a: [TimelineMark], _ b: [TimelineMark]) -> [TimelineMark] { zip(a, b).map(TimelineMark.merged) }
        let empty = Array(repeating: TimelineMark.empty, count: width)
        switch zoom {
        case .wholeJob:
            var lanes: [WorkerID: [TimelineMark]] = [:]
            for worker in workers { lanes[worker] = whole.cells(of: worker, from: from, to: to, width: width) }
            let goneCells = gone.sorted().reduce(empty) { merge($0, whole.cells(of: $1, from: from, to: to, width: width)) }
            return (lanes, goneCells)
        case .recent:
            // The attempts exactly, and the pauses from the whole job's record.
            let placeholder = WorkerID(0)
            var lanes = lanes(timeline.segments.filter { $0.job == job }, workers: workers,
                              start: jobStart + from, end: jobStart + to, width: width, merged: gone, mergedInto: placeholder)
            let goneCells = lanes.removeValue(forKey: placeholder) ?? empty
            for worker in workers {
                let pauses = whole.cells(of: worker, from: from, to: to, width: width).map { $0 == .paused ? $0 : .empty }
                lanes[worker] = merge(lanes[worker] ?? empty, pauses)
            }
            return (lanes, goneCells)
        }
    }

    /// The time axis: a tick and a label every so often, in seconds since the job started.
    static func drawAxis(_ buffer: inout CellBuffer, _ c: DashboardView.RenderContext, y: Int, from: Double, to: Double,
                         labelWidth: Int, laneWidth: Int) {
        let span = max(to - from, 1e-6)
        let step = tickStep(span: span, width: laneWidth)
        let decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3
        buffer.write(Widgets.padLeft("time", labelWidth - 1), x: 0, y: y, style: c.palette.label)
        var tick = (from / step).rounded(.up) * step
        while tick <= to + 1e-9 {
            let tx = labelWidth + Int(((tick - from) / span * Double(laneWidth)).rounded(.down))
            if tx >= c.width - 1 { break }
            let label = String(c.glyphs.vertical) + Format.fixed(tick, decimals: decimals) + "s"
            buffer.write(label, x: tx, y: y, style: c.palette.label, maxWidth: c.width - 1 - tx)
            tick += step
        }
    }
}
