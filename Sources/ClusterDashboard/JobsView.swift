import ClusterEngine
import ClusterReporting

/// The jobs panel: every finished job side by side, the comparison a headless script prints at
/// its end, in columns that fit 80 wide: how it went first (schedule, kernel, seconds, time
/// against the fastest run of the same range, rate, splits, re-queues, result, and backups at the
/// tail once a job has had one), then what it was (chunk, range), cut with an ellipsis if the
/// window is narrow. The newest jobs show when they do not all fit.
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
        var header = ["JOB", "SCHEDULE", "KERNEL", "SECONDS", "VS BEST", "RATE", "SPLIT", "REDONE", "RESULT", "CHUNK", "RANGE"]
        if showsBackups { header.insert("BACKUP", at: 9) }
        // Numbers line up on the right, words on the left.
        let rightAligned: Set = ["JOB", "SECONDS", "VS BEST", "RATE", "SPLIT", "REDONE", "BACKUP", "CHUNK"]
        var table = [header]
        for job in jobs {
            // The fastest finished run of the same range is the yardstick.
            let times = c.input.capabilities.unicode ? "×" : "x"
            var row = [
                String(job.id.rawValue), job.spec.schedule.label, job.kernelLabel, Format.fixed(job.elapsed, decimals: 3),
                HeadlessReport.timeAgainstBest(job, among: jobs).map { Format.fixed($0, decimals: 2) + times } ?? "-",
                Format.rate(job.throughput), String(job.chunksSplit), String(job.chunksRequeued),
                job.verified ? "verified" : "MISMATCH", Format.si(Double(job.spec.chunkSize), decimals: 0),
                Format.range(job.spec.lo, job.spec.hi, grouped: true),
            ]
            // Started, and how many finished before the attempt they copied.
            if showsBackups { row.insert(job.backupsStarted == 0 ? "0" : "\(job.backupsStarted), \(job.backupsWon) won", at: 9) }
            table.append(row)
        }
        let widths = header.indices.map { i in table.map { $0[i].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "  " + cells.enumerated().map { i, cell in
                if i == cells.count - 1 { return cell }  // the range, last: no padding
                return rightAligned.contains(header[i]) ? Widgets.padLeft(cell, widths[i]) : Widgets.padRight(cell, widths[i])
            }.joined(separator: "  ")
        }
        buffer.write(Widgets.truncate(line(header), c.width, glyphs: c.glyphs), x: 0, y: top, style: palette.tableHeader)
        let shown = Array(zip(jobs, table.dropFirst()).suffix(max(1, rows)))
        for (i, (job, cells)) in shown.enumerated() {
            buffer.write(Widgets.truncate(line(cells), c.width - 1, glyphs: c.glyphs), x: 0, y: top + 1 + i,
                         style: job.verified ? .plain : palette.bad)
        }
    }
}
