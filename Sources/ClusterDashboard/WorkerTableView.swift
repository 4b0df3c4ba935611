import ClusterModel

/// The worker table: its columns, a row per worker, a row per host over its threads.
extension DashboardView {
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
        let rows = c.panelRows(needed: table.rows.count)
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
            x = buffer.write(Widgets.padLeft(Format.count(threads.reduce(0) { $0 + $1.chunksDone }, width: 6), 7), x: x, y: y)
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
        return HostLag.lags(threads: summing.count, lagging: summing.filter(\.isLagging).count)
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
            // A redo and a backup are marked after the chunk's number, in their timeline colours.
            let mark = a.origin.isRedo ? (c.input.capabilities.unicode ? "↻" : "r") : a.origin.isBackup ? "b" : ""
            let markStyle = a.origin.isRedo ? palette.event(.chunkRequeued(chunk: 0, from: w.id))
                : a.origin.isBackup ? palette.bar(for: w) : .plain
            // A run's row names the chunk it has reached, as the bar shows the run's progress.
            let chunk = a.chunkInProgress(chunkSize: c.snapshot.job?.spec.chunkSize)
            x = buffer.write(Widgets.padRight("#\(chunk)\(mark)", 10), x: x, y: y, style: markStyle)
            if columns.range {
                let range = Format.range(a.elements.lowerBound, a.elements.upperBound, grouped: true)
                x = buffer.write(Widgets.padRight(Widgets.truncate(range, columns.rangeWidth - 1, glyphs: glyphs), columns.rangeWidth), x: x, y: y)
            }
        } else {
            let idleText: String
            switch w.state {
            // A replay restarts nobody: no key to offer.
            case .dead: idleText = w.leaseLost ? "lease lost: no heartbeat" : c.input.state.isReplay ? "crashed" : "crashed: r restarts it"
            case .removed: idleText = w.remote == nil ? "" : "gone"
            default: idleText = w.benched?.rowText ?? "waiting for work"
            }
            let span = columns.bar + 6 + 10 + (columns.range ? columns.rangeWidth : 0)
            x = buffer.write(Widgets.padRight(Widgets.truncate(idleText, span, glyphs: glyphs), span), x: x, y: y,
                             style: w.state == .dead || w.benched != nil ? palette.state(.dead) : .plain)
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
        // Six characters at most: the column's first stays a space, apart from PEAK's.
        if columns.chunks { x = buffer.write(Widgets.padLeft(Format.count(w.chunksDone, width: 6), 7), x: x, y: y) }
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
}
