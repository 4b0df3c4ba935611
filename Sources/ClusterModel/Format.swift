import ClusterModel

/// Number and time formatting shared by the headless reports and the dashboard.
public enum Format {
    /// Digits grouped in threes: 338350 → "338,350".
    public static func grouped<T: BinaryInteger>(_ value: T, separator: Character = ",") -> String {
        NumberText.grouped(value, separator: separator)
    }

    /// A compact count with an SI suffix: 1234 → "1.23k", 4194304 → "4.19M".
    public static func si(_ value: Double, decimals: Int = 2) -> String {
        let units = ["", "k", "M", "G", "T", "P", "E"]
        var scaled = abs(value)
        var unit = 0
        while scaled >= 999.5, unit < units.count - 1 {
            scaled /= 1000
            unit += 1
        }
        let sign = value < 0 ? "-" : ""
        if unit == 0 { return sign + fixed(scaled, decimals: scaled.rounded() == scaled ? 0 : min(decimals, 1)) }
        let places = scaled >= 100 ? 0 : scaled >= 10 ? min(decimals, 1) : decimals
        return sign + fixed(scaled, decimals: places) + units[unit]
    }

    /// A count in at most `width` characters: grouped digits while they fit ("679,738"), else
    /// with an SI suffix ("36.4M"); never cut, which would show another number.
    public static func count<T: BinaryInteger>(_ value: T, width: Int) -> String {
        let digits = grouped(value)
        return digits.count <= width ? digits : si(Double(value), decimals: 2)
    }

    /// Elements per second: "1.23G/s".
    public static func rate(_ elementsPerSecond: Double) -> String { si(elementsPerSecond) + "/s" }

    /// A fixed-point decimal without Foundation's locale-dependent formatting.
    public static func fixed(_ value: Double, decimals: Int) -> String { NumberText.fixed(value, decimals: decimals) }

    /// Clock-style duration: "0:07", "12:34", "1:02:03".
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let total = Int(seconds.rounded(.down))
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        let ss = s < 10 ? "0\(s)" : "\(s)"
        if h > 0 { return "\(h):\(m < 10 ? "0\(m)" : "\(m)"):\(ss)" }
        return "\(m):\(ss)"
    }

    /// Percentage with one decimal: 0.1234 → "12.3%".
    public static func percent(_ fraction: Double) -> String { fixed(fraction * 100, decimals: 1) + "%" }

    /// A share in whole percent, for narrow columns: "97%".
    public static func percentWhole(_ fraction: Double) -> String { fixed(fraction * 100, decimals: 0) + "%" }

    /// A range as the user types it: "1...100".
    public static func range(_ lo: Int64, _ hi: Int64, grouped useGroups: Bool = false) -> String {
        useGroups ? NumberText.range(lo, hi) : "\(lo)...\(hi)"
    }
}
