import ClusterModel

/// The middle of the frame: the panel shown, and the selected worker's line under it.
extension DashboardView {
    /// The middle of the screen: the worker table, the grid, the timeline, the speedup or the
    /// jobs panel, in `c.panelRoom`. Returns the rows it used under its header row, the workers
    /// per page, the first worker shown, and how many workers it lists (the timeline leaves out
    /// the removed).
    static func drawPanel(_ buffer: inout CellBuffer, _ c: RenderContext)
        -> (rows: Int, pageRows: Int, offset: Int, listed: Listed) {
        switch c.input.state.panel {
        case .workers:
            let (rows, offset) = drawWorkers(&buffer, c)
            return (rows, rows, offset, Listed(count: c.table.rows.count, noun: c.table.isGrouped ? "row" : "worker"))
        case .grid:
            // As many rows as the grid needs, up to what leaves the log its three lines; two more
            // for the selected worker and its host.
            let most = c.panelRows(needed: c.height)
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
            let most = c.panelRows(needed: Int.max / 2) - 1 - goneRow
            let lanes = TimelineView.lanes(c.table, c.snapshot, room: most)
            let rows = c.panelRows(needed: lanes.count + goneRow + 1)
            let shown = max(1, rows - 1 - goneRow)
            let selected = c.input.state.selectedWorker.flatMap { id in lanes.firstIndex { $0.workers.contains(id) } }
            let offset = scrollOffset(c.input.state.scrollOffset, rows: shown, count: lanes.count, selected: selected)
            TimelineView.draw(&buffer, c, top: c.tableTop, visible: Array(lanes.dropFirst(offset).prefix(shown)), gone: gone)
            return (rows, shown, offset, Listed(count: lanes.count, noun: lanes.first?.isHost == true ? "host" : "worker"))
        case .speedup:
            // A row per worker count, one for the core rule, room for the "measuring" note, and
            // one for the cores' peak.
            let peakLine = SpeedupView.peakLine(c)
            let rows = c.panelRows(needed: max(c.input.speedup.points.count + 1, 2) + (peakLine == nil ? 0 : 1))
            SpeedupView.draw(&buffer, c, top: c.tableTop, rows: rows, peakLine: peakLine)
            return (rows, rows, 0, Listed())
        case .jobs:
            let rows = c.panelRows(needed: max(c.input.finishedJobs.count, 2))
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
    static func drawSelectionDetail(_ buffer: inout CellBuffer, _ c: RenderContext, in area: Rect) {
        let y = area.y
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
            text += "\(a.chunksText)\(kind), \(Format.percent(a.fractionDone)) of "
                + Format.range(a.elements.lowerBound, a.elements.upperBound, grouped: true) + ", \(a.attempt)"
        } else {
            text += w.leaseLost ? "lease lost; back when heard from, or press r"
                : w.state == .dead ? "dead; press r to restart it" : w.state == .removed ? "removed"
                : w.benched.map { $0.rowText + "; no more work for it in this job" } ?? "no chunk"
        }
        buffer.write(Widgets.truncate(text, c.width - 1, glyphs: c.glyphs), x: 0, y: y, style: c.palette.label)
    }
}
