import ClusterModel

/// Small rendering helpers: each turns a value into text of an exact width.
enum Widgets {
    /// A progress bar exactly `width` cells wide. With Unicode glyphs the last cell shows eighths,
    /// so a bar moves visibly even when a chunk advances by less than one cell.
    static func bar(_ fraction: Double, width: Int, glyphs: Glyphs) -> String {
        guard width > 0 else { return "" }
        let clamped = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let eighths = Int((clamped * Double(width * 8)).rounded(.down))
        let full = eighths / 8
        var text = String(repeating: glyphs.barEighths[8], count: full)
        if full < width {
            let partial = eighths % 8
            text.append(partial > 0 ? glyphs.barEighths[partial] : glyphs.barEmpty)
            text += String(repeating: glyphs.barEmpty, count: width - full - 1)
        }
        return text
    }

    /// The last `width` values as a sparkline scaled to their maximum.
    static func sparkline(_ values: [Double], width: Int, glyphs: Glyphs) -> String {
        guard width > 0 else { return "" }
        let shown = values.suffix(width)
        let peak = shown.max() ?? 0
        let levels = glyphs.spark.count
        let marks = shown.map { value -> Character in
            guard peak > 0, value > 0 else { return glyphs.spark[0] }
            return glyphs.spark[min(levels - 1, Int((value / peak) * Double(levels - 1) + 0.5))]
        }
        return String(repeating: " ", count: width - marks.count) + String(marks)
    }

    static func padRight(_ text: String, _ width: Int) -> String {
        text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
    }

    static func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? String(text.suffix(width)) : String(repeating: " ", count: width - text.count) + text
    }

    /// `text` in ASCII: arrows, times signs and ellipses spelled out ("->", "x", "...").
    static func ascii(_ text: String) -> String {
        guard !text.allSatisfy(\.isASCII) else { return text }
        var result = ""
        for character in text {
            if character.isASCII { result.append(character); continue }
            result += asciiSpelling[character] ?? "?"
        }
        return result
    }

    static let asciiSpelling: [Character: String] = [
        "→": "->", "←": "<-", "×": "x", "…": "...", "·": ".", "✓": "ok", "✗": "X", "▶": ">", "▼": "!",
        "▾": "v", "▸": ">", "─": "-", "│": "|", "≥": ">=", "≤": "<=", "Σ": "sum", "²": "^2", "–": "-", "—": "-",
        "’": "'", "‘": "'", "“": "\"", "”": "\"",
    ]

    /// Cuts `text` to `width`, marking the cut (in ASCII, when the glyphs are).
    static func truncate(_ text: String, _ width: Int, glyphs: Glyphs) -> String {
        let text = glyphs.asciiOnly ? ascii(text) : text
        guard text.count > width else { return text }
        guard width > glyphs.ellipsis.count else { return String(text.prefix(max(0, width))) }
        return String(text.prefix(width - glyphs.ellipsis.count)) + glyphs.ellipsis
    }
}

/// Colors and attributes per meaning, so the whole dashboard agrees on them.
struct Palette {
    let capabilities: Capabilities

    private func style(_ color: TextColor, bold: Bool = false, reverse: Bool = false, underline: Bool = false) -> CellStyle {
        let bold = bold && (color == .default || boldColoursReadable)
        return CellStyle(capabilities.color ? color : .default, bold: bold, reverse: reverse, underline: underline)
    }

    /// Whether coloured text may be bold. On a light background a bold colour is a bright one,
    /// which cannot be read on white: the light theme keeps the colour and drops the bold.
    var boldColoursReadable: Bool { !(capabilities.color && capabilities.theme == .light) }

    /// A color for marks that have their own glyph, so monochrome needs no attribute.
    func color(_ color: TextColor, bold: Bool = false) -> CellStyle { style(color, bold: bold) }

    var title: CellStyle { style(.default, bold: true, reverse: true) }
    /// A status in the title bar (RUNNING, PAUSED, VERIFIED ...): reversed, in its colour.
    func badge(_ color: TextColor) -> CellStyle { style(color, bold: true, reverse: true) }
    var label: CellStyle { style(.cyan) }
    var value: CellStyle { style(.default, bold: true) }
    var good: CellStyle { style(.green, bold: true) }
    var bad: CellStyle { style(.red, bold: true, reverse: !capabilities.color) }
    var warning: CellStyle { style(.yellow, bold: true) }
    var tableHeader: CellStyle { style(.default, bold: true, underline: !capabilities.color) }
    var footerKey: CellStyle { style(.cyan, bold: true, reverse: !capabilities.color) }
    var footerLabel: CellStyle { .plain }
    var frame: CellStyle { style(.cyan) }

    /// Monochrome still tells states apart: bold running, underlined paused, reversed dead.
    func state(_ state: WorkerState, leaving: Bool = false) -> CellStyle {
        if leaving { return style(.magenta, bold: true) }
        switch state {
        case .running: return style(.green, bold: true)
        case .idle: return style(.cyan)
        case .paused: return style(.yellow, bold: true, underline: !capabilities.color)
        case .pausing: return style(.yellow, underline: !capabilities.color)
        case .dead: return style(.red, bold: true, reverse: !capabilities.color)
        case .removed: return .plain
        }
    }

    func bar(for worker: WorkerSnapshot) -> CellStyle {
        if worker.assignment?.origin.isRedo == true { return style(.magenta) }
        if worker.assignment?.origin.isSplit == true { return style(.cyan) }
        if worker.assignment?.origin.isBackup == true { return style(.blue) }
        switch worker.state {
        case .paused, .pausing: return style(.yellow)
        case .running: return style(.green)
        default: return .plain
        }
    }

    func event(_ kind: ClusterEventKind) -> CellStyle {
        switch kind {
        case .workerKilled, .leaseExpired, .remoteWorkerDisconnected, .wrongSumRefused, .journalStopped:
            return style(.red, bold: true)
        // Fencing at work, not a failure: the total is safe.
        case .staleResultDiscarded, .backupRaceWon, .backupCarriesOn: return style(.yellow)
        case .backupStarted, .workerBenched: return style(.blue, bold: true)
        case .remoteWorkerRefused, .refusalsSummarised, .failedJoinsCounted, .peerDisconnected: return style(.yellow, bold: true)
        case .chunkRedistributed, .chunkRequeued: return style(.magenta)
        case .chunkSplit, .chunkStolen, .sliceStolen: return style(.cyan, bold: true)
        case .jobFinished(_, let verified, _, _): return verified ? good : bad
        case .workerPaused, .workerThrottled, .laggardsChanged, .workersOutnumberCores: return style(.yellow)
        case .workerAdded, .workerRestarted, .workerResumed, .jobStarted, .remoteWorkerJoined, .remoteWorkerReturned, .remoteWorkerRejoined,
             .journalResumed:
            return style(.green)
        default: return .plain
        }
    }
}
