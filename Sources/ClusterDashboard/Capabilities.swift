/// What the terminal can show, decided once at startup and passed to the view.
public struct Capabilities: Equatable, Sendable {
    /// UTF-8 locale: block glyphs for bars and sparklines. Otherwise ASCII only.
    public var unicode: Bool
    /// Colors available and wanted (no NO_COLOR, no --no-color).
    public var color: Bool

    /// The terminal's background: colours are chosen to be read on it.
    public var theme: Theme

    public init(unicode: Bool, color: Bool, theme: Theme = .dark) {
        self.unicode = unicode
        self.color = color
        self.theme = theme
    }

    public static let full = Capabilities(unicode: true, color: true)
    public static let plain = Capabilities(unicode: false, color: false)
}

/// Dark or light background. On a light one (a white terminal, most projectors) bold colours turn
/// bright, and bright yellow or green on white can hardly be read: the light theme uses no bold on
/// colours, and the terminal darker shades where it has 256 colours.
public enum Theme: String, Sendable, CaseIterable {
    case dark, light

    /// What the environment says of the background: COLORFGBG ("15;0": light text on black), set
    /// by rxvt, Konsole and others; dark when it says nothing.
    public static func fromEnvironment(_ value: String?) -> Theme { environmentTheme(value) ?? .dark }

    /// COLORFGBG's background, or nil when it is not set or not a number.
    public static func environmentTheme(_ value: String?) -> Theme? {
        guard let value, let background = value.split(separator: ";").last.flatMap({ Int($0) }) else { return nil }
        // 7 (light grey) and 15 (white) are light backgrounds; 0-6 and 8 dark.
        return background == 7 || background == 15 ? .light : .dark
    }

    /// The theme for a terminal's answer to the background colour query (OSC 11), such as
    /// "\u{1B}]11;rgb:ffff/ffff/ffff\u{1B}\\": light when the colour's luminance is over half.
    /// Nil when the text holds no such answer.
    public static func fromBackgroundReply(_ reply: String) -> Theme? {
        guard let start = reply.range(of: "]11;rgb:") else { return nil }
        // Each channel is 1 to 4 hex digits, scaled by its own width.
        let channels = reply[start.upperBound...].prefix { $0.isHexDigit || $0 == "/" }.split(separator: "/").prefix(3)
        let values = channels.compactMap { channel -> Double? in
            guard (1...4).contains(channel.count), let value = UInt32(channel, radix: 16) else { return nil }
            return Double(value) / Double((1 << (4 * channel.count)) - 1)
        }
        guard values.count == 3 else { return nil }
        let luminance = 0.2126 * values[0] + 0.7152 * values[1] + 0.0722 * values[2]
        return luminance > 0.5 ? .light : .dark
    }
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
    /// Every character drawn must be ASCII: text is spelled out in it (`Widgets.ascii`), and
    /// whatever is left is replaced cell by cell (`CellBuffer.replaceNonASCII`).
    public var asciiOnly = false

    public static let unicode = Glyphs(
        barEighths: [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"], barEmpty: "·",
        spark: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"], selectionMarker: "▶", arrow: "→", ellipsis: "…",
        horizontal: "─", vertical: "│", corners: ("┌", "┐", "└", "┘"), check: "✓", cross: "✗")

    public static let ascii = Glyphs(
        barEighths: [" ", "-", "-", "-", "=", "=", "=", "=", "#"], barEmpty: ".",
        spark: ["_", ".", "-", "~", "=", "+", "*", "#"], selectionMarker: ">", arrow: "->", ellipsis: "~",
        horizontal: "-", vertical: "|", corners: ("+", "+", "+", "+"), check: "ok", cross: "X", asciiOnly: true)

    public static func `for`(_ capabilities: Capabilities) -> Glyphs { capabilities.unicode ? .unicode : .ascii }
}
