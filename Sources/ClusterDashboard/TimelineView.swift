import ClusterEngine
import ClusterReporting

/// The task timeline: one lane per worker across the current job's time, each chunk attempt a
/// segment shaded by its fate, and a labelled time axis. Rare events win a cell over common ones,
/// so a kill or a split stays visible however short it was.
enum TimelineView {
    /// What a lane cell shows, in increasing order of precedence.
    enum Mark: Int, Comparable {
        case empty = 0, done, doneAlternate, inFlight, redo, stolen, killed
        static func < (a: Mark, b: Mark) -> Bool { a.rawValue < b.rawValue }
    }

    static func mark(for segment: TimelineSegment) -> Mark {
        switch segment.outcome {
        case .killed: return .killed
        case .handedOver: return .stolen
        case .inFlight, .done:
            if segment.origin.isSplit || segment.wasSplit { return .stolen }
            if segment.origin.isRedo { return .redo }
            if segment.outcome == .inFlight { return .inFlight }
            // Neighbouring chunks alternate, so chunk boundaries show within a lane.
            return segment.chunk % 2 == 0 ? .done : .doneAlternate
        }
    }

    static func glyph(_ mark: Mark, unicode: Bool) -> Character {
        switch mark {
        case .empty: return " "
        case .done: return unicode ? "█" : "#"
        case .doneAlternate: return unicode ? "▇" : "="
        case .inFlight: return unicode ? "▒" : ">"
        case .redo: return unicode ? "▓" : "r"
        case .stolen: return unicode ? "░" : "s"
        case .killed: return unicode ? "✗" : "x"
        }
    }

    static func style(_ mark: Mark, _ palette: Palette) -> CellStyle {
        switch mark {
        case .empty: return .plain
        case .done, .doneAlternate: return palette.color(.green)
        case .inFlight: return palette.color(.default, bold: true)
        case .redo: return palette.color(.magenta, bold: true)
        case .stolen: return palette.color(.cyan, bold: true)
        case .killed: return palette.color(.red, bold: true)
        }
    }

    /// The lanes' marks: `width` cells per worker, from `start` to `end` seconds.
    static func lanes(_ segments: [TimelineSegment], workers: [WorkerID], start: Double, end: Double,
                      width: Int) -> [WorkerID: [Mark]] {
        var lanes: [WorkerID: [Mark]] = [:]
        for worker in workers { lanes[worker] = Array(repeating: .empty, count: width) }
        let span = max(end - start, 1e-6)
        for segment in segments {
            guard lanes[segment.worker] != nil else { continue }
            let from = (segment.start - start) / span * Double(width)
            let to = ((segment.end ?? end) - start) / span * Double(width)
            let first = max(0, min(width - 1, Int(from.rounded(.down))))
            let last = max(first, min(width - 1, Int(to.rounded(.up)) - 1))
            let mark = mark(for: segment)
            for x in first...last where lanes[segment.worker]![x] < mark { lanes[segment.worker]![x] = mark }
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

    static func draw(_ buffer: inout CellBuffer, _ c: DashboardView.RenderContext, top: Int, rows: Int,
                     offset: Int) {
        let palette = c.palette, unicode = c.input.capabilities.unicode
        let labelWidth = 7
        let laneWidth = max(1, c.width - labelWidth - 1)
        // Legend in the header row.
        buffer.fill(x: 0, y: top, width: c.width, height: 1, with: Cell(" ", palette.tableHeader))
        var x = buffer.write("    ID  TIMELINE ", x: 0, y: top, style: palette.tableHeader)
        for (mark, name) in [(Mark.done, "done"), (.inFlight, "running"), (.killed, "killed"), (.redo, "redone"),
                             (.stolen, "stolen/split")] where x + name.count + 3 < c.width {
            x = buffer.write(" " + String(glyph(mark, unicode: unicode)), x: x, y: top, style: style(mark, palette))
            x = buffer.write(" " + name, x: x, y: top, style: palette.tableHeader)
        }
        guard let timeline = c.input.timeline, let job = c.snapshot.job else {
            buffer.write("  no job yet: the timeline shows the current job's chunks", x: 0, y: top + 1, style: palette.warning)
            return
        }
        let segments = timeline.segments.filter { $0.job == job.id }
        let start = segments.map(\.start).min() ?? timeline.now
        let end = job.status.isFinished ? max(start, segments.compactMap(\.end).max() ?? timeline.now) : timeline.now
        let workers = c.snapshot.workers
        let laneRows = max(1, rows - 1)  // the last row is the axis
        let visible = Array(workers.dropFirst(offset).prefix(laneRows))
        let lanes = lanes(segments, workers: visible.map(\.id), start: start, end: end, width: laneWidth)
        let selected = Reducer.selectedIndex(c.input.state, in: c.snapshot)
        for (row, worker) in visible.enumerated() {
            let y = top + 1 + row
            let isSelected = offset + row == selected
            buffer.write((isSelected ? " \(c.glyphs.selectionMarker)" : "  ") + Widgets.padLeft(String(worker.id.rawValue), 4) + " ",
                         x: 0, y: y, style: isSelected ? CellStyle(bold: true, reverse: true) : palette.value)
            var laneX = labelWidth
            for mark in lanes[worker.id] ?? [] {
                buffer.write(String(glyph(mark, unicode: unicode)), x: laneX, y: y, style: style(mark, palette))
                laneX += 1
            }
        }
        // Time axis: a tick and a label every so often, in seconds since the job started.
        let axisY = top + 1 + min(laneRows, max(1, visible.count))
        let span = max(end - start, 1e-6)
        let step = tickStep(span: span, width: laneWidth)
        buffer.write(Widgets.padLeft("time", labelWidth - 1), x: 0, y: axisY, style: palette.label)
        var tick = 0.0
        while tick <= span + 1e-9 {
            let tx = labelWidth + Int((tick / span * Double(laneWidth)).rounded(.down))
            if tx >= c.width - 1 { break }
            let decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3
            let label = String(c.glyphs.vertical) + Format.fixed(tick, decimals: decimals) + "s"
            buffer.write(label, x: tx, y: axisY, style: palette.label, maxWidth: c.width - 1 - tx)
            tick += step
        }
    }
}
