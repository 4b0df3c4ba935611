/// What the terminal can show, decided once at startup and passed to the view.
public struct Capabilities: Equatable, Sendable {
    /// UTF-8 locale: block glyphs for bars and sparklines. Otherwise ASCII only.
    public var unicode: Bool
    /// Colors available and wanted (no NO_COLOR, no --no-color).
    public var color: Bool

    public init(unicode: Bool, color: Bool) {
        self.unicode = unicode
        self.color = color
    }

    public static let full = Capabilities(unicode: true, color: true)
    public static let plain = Capabilities(unicode: false, color: false)
}

/// The glyph set for bars, sparklines and separators, per capability.
public struct Glyphs: Sendable {
    /// Partial-cell fills, from empty to full, for sub-cell bar resolution.
    public let barEighths: [Character]
    public let barEmpty: Character
    public let spark: [Character]
    public let selectionMarker: Character
    public let arrow: String
    public let ellipsis: String
    public let horizontal: Character
    public let vertical: Character
    public let corners: (Character, Character, Character, Character)
    public let check: String
    public let cross: String

    public static let unicode = Glyphs(
        barEighths: [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"], barEmpty: "·",
        spark: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"], selectionMarker: "▶", arrow: "→", ellipsis: "…",
        horizontal: "─", vertical: "│", corners: ("┌", "┐", "└", "┘"), check: "✓", cross: "✗")

    public static let ascii = Glyphs(
        barEighths: [" ", "-", "-", "-", "=", "=", "=", "=", "#"], barEmpty: ".",
        spark: ["_", ".", "-", "~", "=", "+", "*", "#"], selectionMarker: ">", arrow: "->", ellipsis: "~",
        horizontal: "-", vertical: "|", corners: ("+", "+", "+", "+"), check: "ok", cross: "X")

    public static func `for`(_ capabilities: Capabilities) -> Glyphs { capabilities.unicode ? .unicode : .ascii }
}
