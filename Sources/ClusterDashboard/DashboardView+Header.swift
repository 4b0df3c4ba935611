import ClusterModel

/// The header block: title, job, totals, throughput; and the presenter's caption under it.
extension DashboardView {
    /// The header's five lines, top to bottom.
    enum HeaderLine: Int, CaseIterable { case title, progress, throughput, total, chunks }

    static func drawHeader(_ buffer: inout CellBuffer, _ c: RenderContext, in area: Rect) {
        let snapshot = c.snapshot, palette = c.palette, glyphs = c.glyphs, width = c.width
        let lines = area.split(.vertical, HeaderLine.allCases.map { _ in .length(1) })
        func y(_ line: HeaderLine) -> Int { lines[line.rawValue].y }
        // Title bar.
        buffer.fill(x: 0, y: y(.title), width: width, height: 1, with: Cell(" ", palette.title))
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
            title += c.input.state.isReplay ? "  no job yet" : "  no job yet: press n to start one"
            status = (" IDLE ", palette.title)
        }
        let queued = snapshot.queuedJobs > 0 ? " +\(snapshot.queuedJobs) queued " : ""
        // A journal that stopped is said where the job's state is: a restart would not resume.
        let journal = snapshot.journalStopped ? " JOURNAL STOPPED " : ""
        // A run being kept says so, as a camera does; one whose recording stopped says that.
        let recording = switch c.input.state.recording {
        case .off: ""
        case .on: " REC "
        case .stopped: " REC STOPPED "
        }
        let right = queued + journal + recording + status.0
        buffer.write(Widgets.truncate(title, width - right.count - 1, glyphs: glyphs), x: 0, y: y(.title), style: palette.title)
        buffer.write(queued, x: width - right.count, y: y(.title), style: palette.title)
        buffer.write(journal, x: width - journal.count - recording.count - status.0.count, y: y(.title), style: palette.badge(.red))
        buffer.write(recording, x: width - recording.count - status.0.count, y: y(.title), style: palette.badge(.red))
        buffer.write(status.0, x: width - status.0.count, y: y(.title), style: status.1)

        guard let job = snapshot.job else {
            buffer.write(" throughput ", x: 0, y: y(.throughput), style: palette.label)
            return
        }
        // Progress line: elapsed, ETA, overall bar, percentage.
        var x = buffer.write(" elapsed ", x: 0, y: y(.progress), style: palette.label)
        x = buffer.write(Format.clock(job.elapsed), x: x, y: y(.progress), style: palette.value)
        x = buffer.write("  ETA ", x: x, y: y(.progress), style: palette.label)
        let eta = job.status.isFinished ? "done" : snapshot.estimatedSecondsRemaining.map(Format.clock) ?? "--:--"
        x = buffer.write(eta, x: x, y: y(.progress), style: palette.value)
        let percent = Widgets.padLeft(Format.percent(job.progress), 6)
        let barWidth = width - x - 4 - percent.count - 1
        x = buffer.write("  [", x: x, y: y(.progress), style: palette.label)
        x = buffer.write(Widgets.bar(job.progress, width: barWidth, glyphs: glyphs), x: x, y: y(.progress),
                         style: job.status == .mismatch ? palette.bad : palette.good)
        x = buffer.write("]", x: x, y: y(.progress), style: palette.label)
        buffer.write(percent, x: x, y: y(.progress), style: palette.value)

        // Throughput with its history, and the worker state counts.
        x = buffer.write(" throughput ", x: 0, y: y(.throughput), style: palette.label)
        if job.status.isFinished, job.elapsed > 0 {
            // Once the workers idle, the recent rate is 0; the job's own average says more.
            x = buffer.write(Format.rate(Double(job.elementsTotal) / job.elapsed), x: x, y: y(.throughput), style: palette.value)
            x = buffer.write(" average ", x: x, y: y(.throughput), style: palette.label)
        } else {
            // With no worker summing, the cluster sums nothing now, whatever the last second held.
            let summing = snapshot.count(of: .running) + snapshot.count(of: .pausing) > 0
            x = buffer.write(Widgets.padRight(Format.rate(summing ? snapshot.throughput : 0), 9), x: x, y: y(.throughput), style: palette.value)
        }
        // Which kernel makes that rate: the same cores sum 2 or 20 G/s depending on it.
        x = buffer.write("[\(snapshot.kernel.rawValue)] ", x: x, y: y(.throughput), style: palette.label)
        let counts = WorkerState.allCases.compactMap { state -> String? in
            let n = snapshot.count(of: state)
            return n == 0 && state != .running ? nil : "\(n) \(state.rawValue)"
        }.joined(separator: "  ")
        let sparkWidth = max(0, width - x - counts.count - 4)
        x = buffer.write(Widgets.sparkline(snapshot.throughputHistory, width: sparkWidth, glyphs: glyphs),
                         x: x + 1, y: y(.throughput), style: palette.good)
        let shownCounts = Widgets.truncate(counts, max(0, width - x - 1), glyphs: glyphs)
        buffer.write(shownCounts, x: width - shownCounts.count - 1, y: y(.throughput), style: .plain)

        // The exact running total, in full digits, and how it compares with the closed form.
        // What is being summed, said where the sum is: Σx², the squares of the range.
        x = buffer.write(glyphs.asciiOnly ? " sum x^2 total " : " Σx² total ", x: 0, y: y(.total), style: palette.label)
        x = buffer.write(Format.grouped(job.runningTotal), x: x, y: y(.total), style: palette.value)
        switch job.status {
        case .verified:
            buffer.write("  = closed form \(glyphs.check)", x: x, y: y(.total), style: palette.good)
        case .mismatch:
            let closed = job.closedForm.flatMap { UInt128($0) }.map { Format.grouped($0) } ?? "?"
            let differs = c.input.capabilities.unicode ? "≠" : "!="
            buffer.write("  \(differs) closed form \(closed) \(glyphs.cross)", x: x, y: y(.total), style: palette.bad)
        case .running, .queued:
            // The longest note that fits whole: a note cut mid-word reads as a glitch.
            let room = width - x - 1
            if let note = ["  (checked against the closed form at the end)", "  (checked at the end)"].first(where: { $0.count <= room }) {
                buffer.write(note, x: x, y: y(.total), style: .plain)
            }
        }

        // Chunk accounting: every count grouped while the line fits, else shortened (36.4M)
        // rather than the line's end cut off.
        func chunkParts(_ count: (Int64) -> String) -> [(String, String)] {
            [
                (count(job.chunksDone) + "/" + count(job.chunksTotal), " done"),
                (count(job.chunksInFlight), " in flight"),
                (count(job.chunksQueued), " queued"),
                (count(job.chunksRequeued), " re-queued"),
                (count(Int64(snapshot.staleResults)), " stale"),
            ] + (job.spec.schedule == .stealing ? [(count(job.chunksSplit), " split")] : [])
        }
        var parts = chunkParts { Format.grouped($0) }
        if parts.reduce(" chunks ".count, { $0 + 2 + $1.0.count + $1.1.count }) - 2 > width {
            parts = chunkParts { Format.count($0, width: 5) }
        }
        x = buffer.write(" chunks ", x: 0, y: y(.chunks), style: palette.label)
        for (i, (number, label)) in parts.enumerated() {
            if i > 0 { x = buffer.write("  ", x: x, y: y(.chunks)) }
            x = buffer.write(number, x: x, y: y(.chunks), style: palette.value)
            x = buffer.write(label, x: x, y: y(.chunks), style: .plain)
        }
    }

    // MARK: Caption

    /// A presenter's caption: bold lines that stand out from everything else.
    static func drawCaption(_ buffer: inout CellBuffer, _ c: RenderContext, _ caption: String, in area: Rect) {
        let style = c.palette.badge(.yellow)
        for (i, line) in captionLines(caption, width: area.width).enumerated() where i < area.height {
            let row = area.row(i)
            buffer.fill(x: row.x, y: row.y, width: row.width, height: 1, with: Cell(" ", style))
            buffer.write(" " + Widgets.truncate(line, row.width - 2, glyphs: c.glyphs), x: row.x, y: row.y, style: style)
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

}
