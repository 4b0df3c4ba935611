import ClusterModel

/// The whole cluster at a glance: every worker as one small cell, its state by colour and by
/// glyph and its chunk's progress by the glyph's height, grouped by host under the host's name.
/// Where the table shows a dozen rows of three hundred workers, this shows all of them.
enum GridView {
    /// The workers of one host, in id order; removed ones are only counted.
    struct Group {
        let key: HostKey
        var name: String { key.name }
        /// Indices into the snapshot's workers.
        var members: [Int] = []
        var gone = 0

        /// The throughput of its workers summing now.
        func rate(in workers: [WorkerSnapshot]) -> Double {
            members.reduce(0) { workers[$1].isSumming ? $0 + workers[$1].throughput : $0 }
        }
    }

    /// Local threads first, under "local", then the remote hosts by name (student-2 before
    /// student-10), so that a person finds a machine where they look for it.
    /// With a filter, only the workers it lets through.
    static func groups(_ snapshot: ClusterSnapshot, filter: WorkerFilter? = nil) -> [Group] {
        var groups: [Group] = []
        var index: [HostKey: Int] = [:]
        for (i, w) in snapshot.workers.enumerated() {
            let key = HostKey(w)
            let g: Int
            if let known = index[key] {
                g = known
            } else {
                g = groups.count
                index[key] = g
                groups.append(Group(key: key))
            }
            if let filter, !filter.matches(w) { continue }
            if w.state == .removed { groups[g].gone += 1 } else { groups[g].members.append(i) }
        }
        // A host whose workers have all left keeps no line; its departures show in the counts.
        let shown = groups.filter { !$0.members.isEmpty }
        let isLocal = { (group: Group) in snapshot.workers[group.members[0]].remote == nil }
        let local = shown.filter(isLocal)
        // Each name's sort key once, not once per comparison: hundreds of hosts, every frame.
        let remote = shown.filter { !isLocal($0) }.map { (key: NameKey($0.name), group: $0) }
            .sorted { $0.key < $1.key }.map(\.group)
        return local + remote
    }

    /// A name split into runs of digits, compared as numbers, and of other characters.
    struct NameKey: Comparable {
        let parts: [(number: Bool, text: Substring)]
        let name: String

        init(_ name: String) {
            self.name = name
            var parts: [(Bool, Substring)] = []
            var start = name.startIndex
            while start < name.endIndex {
                let digits = name[start].isASCII && name[start].isNumber
                let end = name[start...].firstIndex { ($0.isASCII && $0.isNumber) != digits } ?? name.endIndex
                // Leading zeros do not make a number larger.
                let run = name[start..<end]
                parts.append((digits, digits ? (run.drop { $0 == "0" }) : run))
                start = end
            }
            self.parts = parts
        }

        static func < (a: NameKey, b: NameKey) -> Bool {
            for (x, y) in zip(a.parts, b.parts) where x.text != y.text {
                if x.number && y.number {
                    if x.text.count != y.text.count { return x.text.count < y.text.count }
                    return x.text < y.text
                }
                return x.text.lowercased() < y.text.lowercased()
            }
            return a.parts.count < b.parts.count
        }

        static func == (a: NameKey, b: NameKey) -> Bool { a.name == b.name }
    }

    /// Name order with runs of digits compared as numbers: "pc-9" before "pc-10".
    static func naturallyBefore(_ a: String, _ b: String) -> Bool { NameKey(a) < NameKey(b) }

    /// One worker's cell: what it is doing, in a glyph that reads without colour.
    static func glyph(_ w: WorkerSnapshot, glyphs: Glyphs, unicode: Bool) -> Character {
        if w.isLeaving { return unicode ? "↓" : "v" }
        switch w.state {
        case .running, .pausing:
            // The chunk's progress as the glyph's height, ▁ just taken to █ nearly done; in
            // ASCII as tenths, 0 to 9 (ASCII's sparkline marks include the idle dot).
            let done = w.assignment?.fractionDone ?? 0
            guard unicode else { return Character(String(min(9, max(0, Int(done * 10))))) }
            let levels = glyphs.spark.count
            return glyphs.spark[min(levels - 1, max(0, Int(done * Double(levels))))]
        case .paused: return unicode ? "‖" : "|"
        case .dead: return unicode ? "✗" : "x"
        case .idle: return unicode ? "·" : "."
        case .removed: return " "
        }
    }

    /// Where each worker's cell goes: line (from the grid's first) and column.
    struct Layout {
        var lines: [[(x: Int, worker: Int)]] = []
        /// Each group's label: its line, column, text and the room it has.
        var labels: [(line: Int, x: Int, text: String, width: Int)] = []
        /// Where each group's throughput goes, when hosts sit side by side with room for it.
        var rates: [(line: Int, x: Int, group: Int)] = []

        func line(of worker: Int) -> Int? {
            for (i, line) in lines.enumerated() where line.contains(where: { $0.worker == worker }) { return i }
            return nil
        }
    }

    /// Lays the groups out in `width` columns, preferring roomy cells (a glyph and a space) and
    /// several hosts side by side when each fits on one line; falls back to one cell per column.
    static func layout(_ groups: [Group], width: Int, rows: Int) -> Layout {
        let longest = groups.map(\.name.count).max() ?? 0
        let labelWidth = min(longest, max(8, width / 5)) + 1
        // A host's throughput matters more than the end of a long name: before the rates go,
        // names are cut to 12 characters, then to 9 ("yukihiro-…" still tells laptops apart).
        let shorter = [labelWidth, min(labelWidth, 13), min(labelWidth, 10)]
        var candidates = shorter.map { (labelWidth: $0, cellWidth: 2, rates: true, gap: 2) }
        // Then, roomiest first; the last packs hosts' columns one space apart.
        candidates += [(labelWidth, 2, false, 2), (labelWidth, 1, false, 2), (labelWidth, 1, false, 1)]
        var best = Layout()
        for (labelWidth, cellWidth, rates, gap) in candidates {
            let layout = layout(groups, width: width, labelWidth: labelWidth, cellWidth: cellWidth, rates: rates, gap: gap)
            best = layout
            if layout.lines.count <= rows { return layout }
        }
        return best
    }

    /// Room for a host's throughput after its cells ("12.1G/s").
    static let rateWidth = 8

    private static func layout(_ groups: [Group], width: Int, labelWidth: Int, cellWidth: Int, rates: Bool, gap: Int) -> Layout {
        var layout = Layout()
        let cellsRoom = max(1, (width - 1 - labelWidth) / cellWidth)
        // Side by side: every group on one line, in columns as wide as the widest.
        let rateRoom = rates ? rateWidth : 0
        let widest = (groups.map { $0.members.count }.max() ?? 0) * cellWidth
        let columnWidth = labelWidth + widest + rateRoom + gap
        // The last column needs no gap after it.
        let columns = groups.allSatisfy({ $0.members.count <= cellsRoom }) ? max(1, (width - 1 + gap) / columnWidth) : 1
        if columns > 1, groups.count > 1 {
            let perColumn = (groups.count + columns - 1) / columns
            layout.lines = Array(repeating: [], count: perColumn)
            for (g, group) in groups.enumerated() {
                let line = g % perColumn, x0 = 1 + (g / perColumn) * columnWidth
                layout.labels.append((line, x0, group.name, labelWidth - 1))
                for (k, member) in group.members.enumerated() {
                    layout.lines[line].append((x0 + labelWidth + k * cellWidth, member))
                }
                if rates { layout.rates.append((line, x0 + labelWidth + widest, g)) }
            }
            return layout
        }
        // Stacked: a group takes as many lines as its cells need, its label on the first.
        for group in groups {
            layout.labels.append((layout.lines.count, 1, group.name, labelWidth - 1))
            for chunk in stride(from: 0, to: group.members.count, by: cellsRoom) {
                let members = group.members[chunk..<min(group.members.count, chunk + cellsRoom)]
                layout.lines.append(members.enumerated().map { (1 + labelWidth + $0.offset * cellWidth, $0.element) })
            }
        }
        return layout
    }

    /// Draws the grid's header row at `top`, the grid under it, and in the last two of `rows` rows
    /// under the header the selected worker and its host.
    static func draw(_ buffer: inout CellBuffer, _ c: DashboardView.RenderContext, top: Int, rows: Int,
                     groups: [Group], layout: Layout) {
        let workers = c.snapshot.workers
        let unicode = c.input.capabilities.unicode
        let palette = c.palette, glyphs = c.glyphs
        // Header: what is shown, and the legend, so a glance needs no help screen.
        buffer.fill(x: 0, y: top, width: c.width, height: 1, with: Cell(" ", palette.tableHeader))
        let live = groups.reduce(0) { $0 + $1.members.count }
        let filter = c.input.state.filter
        let gone = workers.filter { $0.state == .removed && (filter?.matches($0) ?? true) }.count
        var title = " CLUSTER  \(live) worker\(live == 1 ? "" : "s") on \(groups.count) host\(groups.count == 1 ? "" : "s")"
        if gone > 0 { title += ", \(gone) gone" }
        var x = buffer.write(title + "  ", x: 0, y: top, style: palette.tableHeader)
        // Most telling first; what does not fit is left out whole.
        let legend: [(String, CellStyle)] = [
            (unicode ? "\(glyphs.spark[0])\(glyphs.spark[3])\(glyphs.spark[7]) running" : "0-9 running", palette.state(.running)),
            ("\(unicode ? "‖" : "|") paused", palette.state(.paused)),
            ("\(unicode ? "✗" : "x") dead", palette.state(.dead)),
            ("\(unicode ? "·" : ".") idle", palette.state(.idle)),
            ("\(unicode ? "↓" : "v") leaving", palette.state(.running, leaving: true)),
            ("underlined: lags", CellStyle(underline: true)),
            ("(height: chunk done)", palette.tableHeader),
        ]
        for (text, style) in legend {
            guard x + text.count + 1 <= c.width else { break }
            x = buffer.write(text, x: x, y: top, style: style)
            x = buffer.write("  ", x: x, y: top, style: palette.tableHeader)
        }
        let gridRows = max(1, rows - 2)
        guard !workers.isEmpty else {
            buffer.write("  no workers: press a to add one", x: 0, y: top + 1, style: palette.warning)
            return
        }
        let selected = Reducer.selectedIndex(c.input.state, in: c.snapshot, table: c.table)
        // Keep the selected worker's line in view when the grid is taller than the room.
        let selectedLine = selected.flatMap { layout.line(of: $0) } ?? 0
        let first = DashboardView.scrollOffset(0, rows: gridRows, count: layout.lines.count, selected: selectedLine)
        for label in layout.labels where (first..<(first + gridRows)).contains(label.line) {
            buffer.write(Widgets.truncate(label.text, label.width, glyphs: glyphs), x: label.x, y: top + 1 + label.line - first,
                         style: palette.label)
        }
        for rate in layout.rates where (first..<(first + gridRows)).contains(rate.line) {
            let group = groups[rate.group]
            var text = group.members.contains { workers[$0].isSumming } ? Format.rate(group.rate(in: workers)) : "-"
            // A host that lags, as in the table: ▼ before its rate.
            let lags = DashboardView.isLagging(group.members.map { workers[$0] })
            if lags { text = (unicode ? "▼" : "!") + text }
            buffer.write(Widgets.padLeft(text, rateWidth), x: rate.x, y: top + 1 + rate.line - first,
                         style: lags ? palette.warning : palette.value)
        }
        for (i, line) in layout.lines.enumerated().dropFirst(first).prefix(gridRows) {
            let y = top + 1 + i - first
            for (cx, member) in line {
                var style = palette.state(workers[member].state, leaving: workers[member].isLeaving)
                // A straggler's cell is underlined: it reads in colour, monochrome and ASCII alike.
                if workers[member].isLagging { style.underline = true }
                if member == selected {
                    style.reverse = true
                    style.bold = palette.boldColoursReadable
                }
                buffer.write(String(glyph(workers[member], glyphs: glyphs, unicode: unicode)), x: cx, y: y, style: style)
                // Its gap too, where cells have one: the next cell, drawn later, wins its own column.
                c.clicks.add(.worker(workers[member].id), y: y, x: cx..<(cx + 2))
            }
        }
        if layout.lines.count > gridRows {
            let note = " lines \(first + 1)-\(first + gridRows) of \(layout.lines.count) (PgUp/PgDn) "
            buffer.write(note, x: max(0, c.width - note.count - 1), y: top, style: palette.warning)
        }
        guard let selected else { return }
        drawSelected(&buffer, c, worker: selected, groups: groups, y: top + 1 + gridRows)
    }

    /// The selected worker on one line and its host on the next, each cut whole to the width.
    static func drawSelected(_ buffer: inout CellBuffer, _ c: DashboardView.RenderContext, worker index: Int,
                             groups: [Group], y: Int) {
        let w = c.snapshot.workers[index], glyphs = c.glyphs
        var text = " \(glyphs.selectionMarker) \(w.id)"
        if let remote = w.remote { text += " on \(remote.host) (pid \(remote.pid), thread \(remote.thread))" }
        text += ": \(w.isLeaving ? "leaving" : w.state.rawValue)"
        if let a = w.assignment, w.state != .dead, w.state != .removed {
            text += ", \(a.chunksText) \(Format.percent(a.fractionDone))"
        }
        if w.isSumming { text += ", \(Format.rate(w.throughput))" }
        if w.isLagging { text += " (lags: under half the median rate)" }
        if let benched = w.benched { text += " (\(benched.rowText))" }
        if w.speed < 1 { text += ", throttled to \(Format.fixed(w.speed * 100, decimals: 0))%" }
        text += ", \(Format.grouped(w.chunksDone)) chunks done"
        buffer.write(Widgets.truncate(text, c.width - 1, glyphs: glyphs), x: 0, y: y, style: c.palette.value)

        guard let group = groups.first(where: { $0.members.contains(index) }) else { return }
        let host = "   " + DashboardView.hostSummary(group, c.snapshot)
        buffer.write(Widgets.truncate(host, c.width - 1, glyphs: glyphs), x: 0, y: y + 1, style: c.palette.label)
    }
}
