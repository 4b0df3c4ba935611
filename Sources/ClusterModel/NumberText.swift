/// Numbers as people read them, for the event log and every report: digits grouped in threes.
public enum NumberText {
    /// Digits grouped in threes: 338350 → "338,350".
    public static func grouped<T: BinaryInteger>(_ value: T, separator: Character = ",") -> String {
        let digits = String(value.magnitude)
        var out = ""
        out.reserveCapacity(digits.count + digits.count / 3 + 1)
        for (i, digit) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(separator) }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// A fixed-point decimal without Foundation's locale-dependent formatting.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (abs(value) * scale).rounded()
        guard rounded < 9e18 else { return String(value) }
        let whole = Int64(rounded)
        let integer = whole / Int64(scale)
        let sign = value < 0 && whole != 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(integer) }
        let fraction = String(whole % Int64(scale))
        return sign + String(integer) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    /// "lo...hi" with grouped digits.
    public static func range(_ lo: Int64, _ hi: Int64) -> String { "\(grouped(lo))...\(grouped(hi))" }
}
