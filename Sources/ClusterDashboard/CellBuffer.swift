/// Colors the dashboard uses: the 8 ANSI colors every color terminal has, plus the default.
public enum TextColor: UInt8, Sendable, CaseIterable {
    case `default`, red, green, yellow, blue, magenta, cyan, white
}

/// How a cell is drawn. Monochrome terminals ignore `color` and still get bold and reverse.
public struct CellStyle: Hashable, Sendable {
    public var color: TextColor
    public var bold: Bool
    public var reverse: Bool
    public var underline: Bool

    public init(_ color: TextColor = .default, bold: Bool = false, reverse: Bool = false, underline: Bool = false) {
        self.color = color
        self.bold = bold
        self.reverse = reverse
        self.underline = underline
    }

    public static let plain = CellStyle()
}

/// One character cell of the screen.
public struct Cell: Hashable, Sendable {
    public var character: Character
    public var style: CellStyle

    public init(_ character: Character = " ", _ style: CellStyle = .plain) {
        self.character = character
        self.style = style
    }
}

/// A rectangle of cells that the view renders into and the terminal backend draws. Writes
/// outside the buffer are clipped, so widgets never need to check bounds themselves.
public struct CellBuffer: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(), count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            cells[y * width + x] = newValue
        }
    }

    /// Writes `text` at (x, y), clipped to `maxWidth` columns and to the buffer. Returns the
    /// column after the last character written. Every character counts as one column: the
    /// dashboard only emits single-width characters.
    @discardableResult
    public mutating func write(_ text: String, x: Int, y: Int, style: CellStyle = .plain, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height else { return x }
        let limit = min(width, maxWidth.map { x + $0 } ?? width)
        var column = x
        for character in text {
            if column >= limit { break }
            if column >= 0 { cells[y * width + column] = Cell(character, style) }
            column += 1
        }
        return column
    }

    /// Fills a rectangle with one character and style.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, with cell: Cell = Cell()) {
        for row in max(0, y)..<min(height, y + h) {
            for column in max(0, x)..<min(width, x + w) { cells[row * width + column] = cell }
        }
    }

    /// Applies a style change to every cell of a row span (used for the selection highlight).
    public mutating func restyle(x: Int, y: Int, width w: Int, _ change: (inout CellStyle) -> Void) {
        guard y >= 0, y < height else { return }
        for column in max(0, x)..<min(width, x + w) { change(&cells[y * width + column].style) }
    }

    /// Replaces every character that is not ASCII by one that is (its first letter spelled out
    /// by `Widgets.asciiSpelling`, or "?"): an ASCII terminal draws every cell as written.
    public mutating func replaceNonASCII() {
        for i in cells.indices where !cells[i].character.isASCII {
            cells[i].character = Widgets.asciiSpelling[cells[i].character]?.first ?? "?"
        }
    }

    /// The text of one row, trailing spaces removed: what a person would read there.
    public func line(_ y: Int) -> String {
        var text = String(cells[(y * width)..<((y + 1) * width)].map(\.character))
        while text.last == " " { text.removeLast() }
        return text
    }

    /// All rows as text.
    public var lines: [String] { (0..<height).map(line) }

    /// Whether any row contains `text`.
    public func contains(_ text: String) -> Bool { lines.contains { $0.contains(text) } }
}
