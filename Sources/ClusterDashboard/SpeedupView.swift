import ClusterModel

/// The speedup panel: one row per worker count measured, a bar for the throughput and a mark
/// where the ideal (that many times one worker) would be, so the flattening past the cores shows.
enum SpeedupView {
    /// `peakLine` (from `peakLine(_:)`, which the layout needed first) takes the last row.
    static func draw(_ buffer: inout CellBuffer, _ c: DashboardView.RenderContext, top: Int, rows panelRows: Int,
                     peakLine: String?) {
        let palette = c.palette
        // The last row: how close the cores run to what they can do, when the peaks were measured.
        var rows = panelRows
        if let line = peakLine, rows >= 2 {
            rows -= 1
            buffer.write(Widgets.truncate(line, c.width - 1, glyphs: c.glyphs), x: 0, y: top + panelRows, style: palette.label)
        }
        let tracker = c.input.speedup
        let cores = c.input.cores
        let unicode = c.input.capabilities.unicode
        buffer.fill(x: 0, y: top, width: c.width, height: 1, with: Cell(" ", palette.tableHeader))
        let idealMark: Character = unicode ? "│" : "|"
        buffer.write(Widgets.truncate(
            "  WORKERS  THROUGHPUT  SPEEDUP  EFFICIENCY   \(c.glyphs.barEighths[8]) measured \(idealMark) ideal, \(cores) core\(cores == 1 ? "" : "s")",
            c.width, glyphs: c.glyphs), x: 0, y: top, style: palette.tableHeader)
        let points = tracker.sortedPoints
        // Notes under the rows: a measurement under way, or why there is no speedup figure.
        var notes: [String] = []
        if let measuring = c.input.state.speedupMeasuring {
            notes.append("  Measuring the curve: \(measuring.workers) of \(measuring.upTo) workers, each until it has "
                         + "held \(Format.fixed(SpeedupTracker.settleSeconds + SpeedupMeasurement.secondsPerCount, decimals: 1)) s.")
        } else if tracker.baseThroughput == nil {
            notes.append(c.input.state.isReplay ? "  No speedup in this recording: no worker ran alone long enough to be measured."
                         : "  No speedup yet: it needs one worker measured alone. Press m to measure 1 to \(2 * cores) workers in turn.")
        }
        guard !points.isEmpty else {
            let lines = notes + [
                "  A worker count counts once it has held for "
                    + "\(Format.fixed(SpeedupTracker.settleSeconds, decimals: 1)) s"
                    + (c.input.state.isReplay ? "." : ": add workers with a, remove with d."),
            ]
            for (i, line) in lines.prefix(rows).enumerated() {
                buffer.write(Widgets.truncate(line, c.width - 1, glyphs: c.glyphs), x: 0, y: top + 1 + i, style: .plain)
            }
            return
        }
        let base = tracker.baseThroughput
        // Rows for the points, one rule at the core count when it falls inside them, and the notes.
        let showsRule = points.contains { $0.workers <= cores } && points.contains { $0.workers > cores }
        let noteRows = min(notes.count, max(0, rows - 1 - (showsRule ? 1 : 0)))
        let shown = Array(points.suffix(max(1, rows - (showsRule ? 1 : 0) - noteRows)))
        let fixed = 2 + 7 + 2 + 10 + 2 + 7 + 2 + 10 + 3
        let barWidth = max(4, c.width - fixed - 1)
        let scale = shown.map { max($0.throughput, (base ?? 0) * Double($0.workers)) }.max() ?? 1
        var y = top + 1
        var ruleDrawn = false
        for point in shown {
            if showsRule, !ruleDrawn, point.workers > cores {
                ruleDrawn = true
                let rule = " \(cores) core\(cores == 1 ? "" : "s"): more workers than this share them "
                let line = String(repeating: c.glyphs.horizontal, count: 4) + rule
                buffer.write(Widgets.truncate(line, c.width - 3, glyphs: c.glyphs), x: 2, y: y, style: palette.warning)
                y += 1
            }
            guard y < top + 1 + rows - noteRows else { break }
            var x = buffer.write("  " + Widgets.padLeft(String(point.workers), 7), x: 0, y: y, style: palette.value)
            x = buffer.write("  " + Widgets.padLeft(Format.rate(point.throughput), 10), x: x, y: y, style: .plain)
            // Speedup and efficiency only against a measured one-worker rate.
            guard let base, base > 0 else {
                x = buffer.write("  " + Widgets.padLeft("-", 7) + "  " + Widgets.padLeft("-", 10) + "   ", x: x, y: y, style: palette.label)
                buffer.write(Widgets.bar(point.throughput / scale, width: barWidth, glyphs: c.glyphs), x: x, y: y, style: palette.value)
                y += 1
                continue
            }
            let speedup = point.throughput / base
            let efficiency = speedup / Double(point.workers)
            x = buffer.write("  " + Widgets.padLeft(Format.fixed(speedup, decimals: 2) + (unicode ? "×" : "x"), 7), x: x, y: y,
                             style: palette.value)
            x = buffer.write("  " + Widgets.padLeft(Format.percent(efficiency), 10) + "   ", x: x, y: y,
                             style: efficiency >= 0.8 ? palette.good : palette.warning)
            buffer.write(Widgets.bar(point.throughput / scale, width: barWidth, glyphs: c.glyphs), x: x, y: y,
                         style: efficiency >= 0.8 ? palette.good : palette.warning)
            let ideal = Int((base * Double(point.workers) / scale * Double(barWidth)).rounded()) - 1
            buffer.write(String(idealMark), x: x + min(max(0, ideal), barWidth - 1), y: y, style: palette.value)
            y += 1
        }
        for note in notes.prefix(noteRows) {
            buffer.write(Widgets.truncate(note, c.width - 1, glyphs: c.glyphs), x: 0, y: y, style: palette.warning)
            y += 1
        }
    }

    /// "One core's peak: avx512 6.02G/s, scalar 1.98G/s. Now 97% of 2 cores' peak.": the rate of
    /// the kernel running now on one core, measured at start, then every other variant's from
    /// the fastest down (so the class sees scalar → … → IFMA beside 1 → 2 cores; a narrow
    /// window cuts the slowest), and the local workers' rate as a share of all cores at that
    /// peak (more workers than cores share them).
    static func peakLine(_ c: DashboardView.RenderContext) -> String? {
        let kernel = c.snapshot.kernel
        guard let peaks = c.input.kernelPeaks, let peak = peaks[kernel], peak > 0 else { return nil }
        var line = "  One core's peak: \(kernel) \(Format.rate(peak))"
        let others = peaks.rates.filter { $0.key != kernel }.sorted { $0.value > $1.value }
        if !others.isEmpty {
            line += "; " + others.map { "\($0.key) \(Format.rate($0.value).replacing("/s", with: ""))" }.joined(separator: ", ")
        }
        line += "."
        let local = c.snapshot.workers.filter { $0.remote == nil && $0.isSumming }
        if !local.isEmpty {
            let rate = local.reduce(0) { $0 + $1.throughput }
            let cores = min(local.count, c.input.cores)
            // First, so that a narrow window cuts the slow variants' peaks, not this.
            line = "  Now \(Format.percentWhole(rate / (peak * Double(cores)))) of \(cores == 1 ? "1 core's" : "\(cores) cores'") peak."
                + line.dropFirst(1)
        }
        return line
    }
}
