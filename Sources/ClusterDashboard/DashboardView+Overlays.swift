import ClusterModel

/// What covers the frame: the help, the question before quitting, and the note that the
/// terminal is too small.
extension DashboardView {
    // MARK: Too small

    static func drawTooSmall(_ buffer: inout CellBuffer, input: DashboardInput, palette: Palette) {
        let times = input.capabilities.unicode ? "×" : "x"
        let lines: [(String, CellStyle)] = [
            ("Terminal too small", palette.bad),
            ("current \(input.width)\(times)\(input.height), needs at least \(minimumWidth)\(times)\(minimumHeight)", .plain),
            ("Enlarge the window, or press q to quit.", .plain),
        ]
        let top = max(0, (input.height - lines.count) / 2)
        for (i, (text, style)) in lines.enumerated() {
            let shown = String(text.prefix(input.width))
            buffer.write(shown, x: max(0, (input.width - shown.count) / 2), y: top + i, style: style)
        }
    }


    /// A box in the middle of the screen: "Quit? 20 worker processes (40 threads) will be
    /// released and stop." and what each key does.
    static func drawQuitConfirmation(_ buffer: inout CellBuffer, _ c: RenderContext, _ confirmation: QuitConfirmation,
                                     on screen: Rect) {
        let g = c.glyphs, frame = c.palette.frame
        let lines = [confirmation.question, "y: quit      any other key: stay"]
        let box = screen.centered(width: (lines.map(\.count).max() ?? 0) + 4, height: lines.count + 2)
        let (boxWidth, boxHeight, left, top) = (box.width, box.height, box.x, box.y)
        buffer.fill(x: left, y: top, width: boxWidth, height: boxHeight)
        let horizontal = String(repeating: g.horizontal, count: max(0, boxWidth - 2))
        buffer.write(String(g.corners.0) + horizontal + String(g.corners.1), x: left, y: top, style: frame)
        buffer.write(String(g.corners.2) + horizontal + String(g.corners.3), x: left, y: top + boxHeight - 1, style: frame)
        for (i, line) in lines.prefix(max(0, boxHeight - 2)).enumerated() {
            let y = top + 1 + i
            buffer.write(String(g.vertical), x: left, y: y, style: frame)
            buffer.write(String(g.vertical), x: left + boxWidth - 1, y: y, style: frame)
            buffer.write(Widgets.truncate(line, max(0, boxWidth - 4), glyphs: g), x: left + 2, y: y,
                         style: i == 0 ? c.palette.warning : c.palette.label)
        }
    }

    static func drawHelp(_ buffer: inout CellBuffer, _ c: RenderContext, on screen: Rect) {
        let rows = KeyMap.helpRows
        let keyWidth = rows.map(\.keys.count).max() ?? 0
        let contentWidth = min(screen.width - 6, max(40, keyWidth + 3 + (rows.map(\.description.count).max() ?? 0)))
        let box = screen.centered(width: contentWidth + 4, height: rows.count + 2)
        let (boxWidth, boxHeight, left, top) = (box.width, box.height, box.x, box.y)
        let g = c.glyphs, frame = c.palette.frame
        // The whole screen: fragments of the dashboard around the box would read as part of it.
        buffer.fill(x: screen.x, y: screen.y, width: screen.width, height: screen.height)
        let horizontal = String(repeating: g.horizontal, count: boxWidth - 2)
        buffer.write(String(g.corners.0) + horizontal + String(g.corners.1), x: left, y: top, style: frame)
        buffer.write(String(g.corners.2) + horizontal + String(g.corners.3), x: left, y: top + boxHeight - 1, style: frame)
        for y in (top + 1)..<(top + boxHeight - 1) {
            buffer.write(String(g.vertical), x: left, y: y, style: frame)
            buffer.write(String(g.vertical), x: left + boxWidth - 1, y: y, style: frame)
        }
        buffer.write(" cluster-top keys ", x: left + 2, y: top, style: c.palette.value)
        let visible = boxHeight - 2
        for (i, row) in rows.prefix(visible).enumerated() {
            let y = top + 1 + i
            let x = buffer.write(Widgets.padRight(row.keys, keyWidth), x: left + 2, y: y, style: c.palette.footerKey)
            buffer.write("   " + Widgets.truncate(row.description, contentWidth - keyWidth - 3, glyphs: g), x: x, y: y)
        }
        // In the bottom border, as the title is in the top one.
        let more = rows.count > visible ? " (\(rows.count - visible) more: enlarge the window)" : ""
        buffer.write(Widgets.truncate(" Press any key to close" + more + " ", contentWidth, glyphs: g), x: left + 2,
                     y: top + boxHeight - 1, style: c.palette.label)
    }
}
