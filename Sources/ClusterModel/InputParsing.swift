/// A user's input that could not be understood; the message says what is wrong and how to fix it.
public struct InputError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Parsing of the values people type: on the command line, in the new-job prompt, in scripts.
public enum InputParsing {
    /// An integer with an optional sign and optional `_` separators: "-2_000_000".
    public static func integer<S: StringProtocol>(_ text: S, what: String) throws(InputError) -> Int64 {
        let cleaned = trimmed(text).filter { $0 != "_" }
        if let value = Int64(cleaned) { return value }
        // One sign at most: "--1" is not a number, however many digits follow.
        let digits = cleaned.first == "-" || cleaned.first == "+" ? cleaned.dropFirst() : cleaned[...]
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw InputError("\(what) '\(trimmed(text))' does not fit in a 64-bit integer")
        }
        throw InputError("\(what) '\(trimmed(text))' is not a whole number")
    }

    /// `LO...HI`. Only the syntax is checked here; `JobSpec` checks the values.
    public static func range(_ text: String) throws(InputError) -> (lo: Int64, hi: Int64) {
        guard let separator = text.range(of: "...") else {
            throw InputError("range '\(trimmed(text))' must be written LO...HI, for example 1...100 or -5_000...5_000")
        }
        return (try integer(text[..<separator.lowerBound], what: "range start"),
                try integer(text[separator.upperBound...], what: "range end"))
    }

    /// `FACTOR` (every worker) or `WORKER:FACTOR`; a factor is 0.001...1, or a percentage "25%".
    public static func throttle(_ text: String) throws(InputError) -> (worker: Int?, speed: Double) {
        let usage = "use FACTOR or WORKER:FACTOR with FACTOR in (0, 1] or a percentage, for example 0.5 or 2:25%"
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw InputError("throttle '\(text)' is malformed: \(usage)") }
        var worker: Int?
        if parts.count == 2 {
            guard let id = Int(trimmed(parts[0])), id >= 1 else {
                throw InputError("throttle '\(text)' names no worker: \(usage)")
            }
            worker = id
        }
        guard let speed = speed(trimmed(parts[parts.count - 1])) else {
            throw InputError("throttle '\(text)' is out of range or not a number: \(usage)")
        }
        return (worker, speed)
    }

    /// A speed factor: 0.001...1, or a percentage "25%"; nil if `text` is neither.
    public static func speed(_ text: String) -> Double? {
        var factorText = text
        var scale = 1.0
        if factorText.hasSuffix("%") {
            factorText.removeLast()
            scale = 0.01
        }
        guard let raw = Double(factorText), raw.isFinite else { return nil }
        let speed = raw * scale
        return speed >= 0.001 && speed <= 1 ? speed : nil
    }

    /// `text` without leading and trailing whitespace.
    public static func trimmed<S: StringProtocol>(_ text: S) -> String {
        String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
