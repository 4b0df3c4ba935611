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

    /// "lo...hi" with grouped digits.
    public static func range(_ lo: Int64, _ hi: Int64) -> String { "\(grouped(lo))...\(grouped(hi))" }
}
