import ClusterModel

/// The jobs panel: every finished job side by side, the comparison a headless script prints at
/// its end: how it went first (schedule, kernel, seconds, time against the fastest run of the
/// same range, rate, splits, re-queues, result, and backups at the tail once a job has had
/// one), then what it was (chunk, range). Narrower than that (80 columns), it is compact and
/// the chunk and range come before the splits, re-queues and backups, so that they are what
/// the edge cuts. The newest jobs show when they do not all fit.
enum JobsView {
    static func draw(_ buffer: inout CellBuffer, _ c: DashboardView.RenderContext, top: Int, rows: Int) {
        let palette = c.palette
        let jobs = c.input.finishedJobs
        buffer.fill(x: 0, y: top, width: c.width, height: 1, with: Cell(" ", palette.tableHeader))
        guard !jobs.isEmpty else {
            buffer.write("  JOBS COMPARED", x: 0, y: top, style: palette.tableHeader)
            buffer.write("  No job has finished yet: each one that does gets a row here.", x: 0, y: top + 1, style: palette.warning)
            return
        }
        // Backups at the tail are rare: their column shows only once a job has started one, so
        // the range keeps its room otherwise.
        let showsBackups = jobs.contains { $0.backupsStarted > 0 }
        // The share of a job's accepted work a crash of the coordinator lost (lesson 6).
        let showsLost = jobs.contains { $0.coordinatorCrashes > 0 }
        var header = ["JOB", "SCHEDULE", "KERNEL", "SECONDS", "VS BEST", "RATE", "SPLIT", "REDONE", "RESULT", "CHUNK", "RANGE"]
        if showsBackups { header.insert("BACKUP", at: 9) }
        if showsLost { header.insert("LOST", at: 5) }
        // Numbers line up on the right, words on the left.
        let rightAligned: Set = ["JOB", "SECONDS", "VS BEST", "RATE", "SPLIT", "REDONE", "BACKUP", "CHUNK", "LOST"]
        // Compact when the full table is wider than the window (80 columns with the demo's jobs):
        // one space between columns, "stealing" for "work stealing", the range as "1...12G".
        func table(compact: Bool) -> [[String]] {
            var table = [header]
            for job in jobs {
                // The fastest finished run of the same range is the yardstick.
                let times = c.input.capabilities.unicode ? "×" : "x"
                let range = compact ? short(job.spec.lo) + "..." + short(job.spec.hi) : Format.range(job.spec.lo, job.spec.hi, grouped: true)
                var row = [
                    String(job.id.rawValue), compact ? job.spec.schedule.rawValue : job.spec.schedule.label, job.kernelLabel,
                    Format.fixed(job.elapsed, decimals: 3),
                    JobComparison.timeAgainstBest(job, among: jobs).map { Format.fixed($0, decimals: 2) + times } ?? "-",
                    Format.rate(job.throughput), String(job.chunksSplit), String(job.chunksRequeued),
                    job.verified ? "verified" : "MISMATCH", Format.si(Double(job.spec.chunkSize), decimals: 0), range,
                ]
                // Started, and how many finished before the attempt they copied.
                if showsBackups { row.insert(job.backupsStarted == 0 ? "0" : "\(job.backupsStarted), \(job.backupsWon) won", at: 9) }
                if showsLost { row.insert(JobComparison.lostText(job), at: 5) }
                table.append(row)
            }
            return table
        }
        /// "12G", "1.5G", "300M": SI, with no trailing zeros.
        func short(_ value: Int64) -> String {
            let text = Format.si(Double(value), decimals: 2)
            guard text.contains(".") else { return text }
            let unit = text.last?.isNumber == false ? String(text.last!) : ""
            var number = String(text.dropLast(unit.count))
            while number.last == "0" { number.removeLast() }
            if number.last == "." { number.removeLast() }
            return number + unit
        }
        func lines(_ table: [[String]], separator: String, order: [Int]) -> [String] {
            let widths = header.indices.map { i in table.map { $0[i].count }.max() ?? 0 }
            return table.map { cells in
                "  " + order.enumerated().map { position, i in
                    if position == order.count - 1 { return cells[i] }  // the last column: no padding
                    return rightAligned.contains(header[i]) ? Widgets.padLeft(cells[i], widths[i]) : Widgets.padRight(cells[i], widths[i])
                }.joined(separator: separator)
            }
        }
        var text = lines(table(compact: false), separator: "  ", order: Array(header.indices))
        if text.contains(where: { $0.count > c.width - 1 }) {
            // What the job was (chunk, range) before the counts of splits, redos and backups,
            // which are then the ones cut at the window's edge.
            let last = ["SPLIT", "REDONE", "BACKUP"]
            let order = header.indices.filter { !last.contains(header[$0]) } + header.indices.filter { last.contains(header[$0]) }
            text = lines(table(compact: true), separator: " ", order: order)
        }
        buffer.write(Widgets.truncate(text[0], c.width, glyphs: c.glyphs), x: 0, y: top, style: palette.tableHeader)
        let shown = Array(zip(jobs, text.dropFirst()).suffix(max(1, rows)))
        for (i, (job, line)) in shown.enumerated() {
            buffer.write(Widgets.truncate(line, c.width - 1, glyphs: c.glyphs), x: 0, y: top + 1 + i,
                         style: job.verified ? .plain : palette.bad)
        }
    }
}
