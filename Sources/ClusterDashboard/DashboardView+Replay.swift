import ClusterModel

/// A replay's line under the header: play or pause, the speed, where it stands of how long, and
/// a seek bar with a tick at each event worth jumping to.
extension DashboardView {
    static func drawReplayBar(_ buffer: inout CellBuffer, _ c: RenderContext, _ replay: ReplayStatus, in area: Rect) {
        let y = area.y, palette = c.palette, glyphs = c.glyphs
        buffer.fill(x: 0, y: y, width: c.width, height: 1)
        let mode = replay.isPaused ? (glyphs.asciiOnly ? "||" : "‖") : (glyphs.asciiOnly ? ">" : "▶")
        var x = buffer.write(" REPLAY \(mode) \(speedText(replay.speed)) ", x: 0, y: y,
                             style: palette.badge(replay.isPaused ? .yellow : .cyan))
        x = buffer.write(" \(Format.clock(replay.position)) / \(Format.clock(replay.duration)) ", x: x, y: y, style: palette.value)
        let hint = " Space \(replay.isPaused ? "play" : "pause")  < > speed  [ ] events"
        let barWidth = c.width - x - hint.count - 3
        guard barWidth >= 8 else { return }
        x = buffer.write("[", x: x, y: y, style: palette.label)
        let fraction = replay.duration > 0 ? min(1, max(0, replay.position / replay.duration)) : 1
        let filled = Int((fraction * Double(barWidth)).rounded())
        var cells = Array(repeating: glyphs.asciiOnly ? "-" : "─", count: barWidth)
        for i in 0..<filled { cells[i] = glyphs.asciiOnly ? "=" : "━" }
        for mark in replay.marks where replay.duration > 0 {
            let at = min(barWidth - 1, Int(mark / replay.duration * Double(barWidth)))
            cells[at] = glyphs.asciiOnly ? "|" : "┃"
        }
        for (i, cell) in cells.enumerated() {
            let isMark = cell == "┃" || cell == "|"
            buffer.write(cell, x: x + i, y: y, style: isMark ? palette.warning : i < filled ? palette.good : palette.label)
        }
        x += barWidth
        x = buffer.write("]", x: x, y: y, style: palette.label)
        buffer.write(hint, x: x, y: y, style: .plain)
    }

    static func speedText(_ speed: Double) -> String {
        speed >= 1 ? "\(Int(speed))×" : speed == 0.5 ? "½×" : "¼×"
    }

    /// The footer's keys in a replay: the transport first, then the views.
    static let replayFooter: [(key: String, label: String)] = [
        ("Space", "Play"), ("< >", "Speed"), ("[ ]", "Event"), ("Home End", "Ends"), ("v", "View"), ("/", "Filter"), ("?", "Help"),
    ]
}
