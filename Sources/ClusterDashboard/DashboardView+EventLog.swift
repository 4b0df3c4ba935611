import ClusterModel

/// The bottom of the frame: the event log with its status line, and the footer of keys.
extension DashboardView {
    /// Draws the event log and the status line; returns how far back the log is scrolled.
    @discardableResult
    static func drawEventLog(_ buffer: inout CellBuffer, _ c: RenderContext, in area: Rect, workerRows: Int, offset: Int,
                             listed: Listed) -> Int {
        let glyphs = c.glyphs, palette = c.palette
        // The title row, then the lines; the last row doubles as the status line.
        let top = area.y, bottom = area.bottom - 1
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

    static func drawFooter(_ buffer: inout CellBuffer, _ c: RenderContext, in area: Rect) {
        let y = area.y
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
        // A replay's keys are its transport's; a click reaches only what a key would act on.
        let entries: [(key: String, label: String, action: DashboardAction?)] = c.input.replay != nil
            ? replayFooter.map { ($0.key, " " + $0.label, nil) } + [("q", "Quit", .quit)]
            : KeyMap.footerEntries.map { ($0.key, $0.label, $0.action) }
        // Quit is pinned to the right so it shows at any width; the rest fill from the left.
        let quit = entries.last { $0.action == .quit }
        let quitWidth = quit.map { $0.key.count + $0.label.count + 1 } ?? 0
        var x = 0
        for entry in entries where entry.action != .quit {
            let needed = entry.key.count + entry.label.count + 1
            if x + needed > c.width - quitWidth - 1 { break }
            let start = x
            x = buffer.write(entry.key, x: x, y: y, style: c.palette.footerKey)
            x = buffer.write(entry.label + " ", x: x, y: y, style: c.palette.footerLabel)
            if let action = entry.action { c.clicks.add(.action(action), y: y, x: start..<x) }
        }
        if let quit, let action = quit.action {
            let qx = buffer.write(quit.key, x: c.width - quitWidth, y: y, style: c.palette.footerKey)
            buffer.write(quit.label, x: qx, y: y, style: c.palette.footerLabel)
            c.clicks.add(.action(action), y: y, x: (c.width - quitWidth)..<c.width)
        }
    }
}
