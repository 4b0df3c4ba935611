/// Text built as bytes, for files written at thousands of objects a second (a trace's slices, a
/// recording's attempts): String interpolation, with its number formatting and growth checks,
/// was most of those writers' time, and their time is taken from the workers on a busy machine.
public struct ASCIIBuffer: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public var isEmpty: Bool { bytes.isEmpty }
    public var count: Int { bytes.count }

    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// Text known to be valid where it goes (JSON punctuation, keys, enum names).
    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Text the caller knows needs no escaping where it goes.
    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    public mutating func append(_ value: Bool) { value ? append("true") : append("false") }

    /// An integer in decimal. (Concrete types: a generic one, called from another module, ran
    /// its arithmetic through witness tables and cost more than the String it replaced.)
    public mutating func append(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(of: value.magnitude)
    }

    public mutating func append(_ value: Int) { append(Int64(value)) }

    public mutating func append(_ value: UInt64) { appendDigits(of: value) }

    /// A range of elements as a JSON pair, `[lo,hi]`.
    public mutating func append(elements range: ClosedRange<Int64>) {
        append("[")
        append(range.lowerBound)
        append(",")
        append(range.upperBound)
        append("]")
    }

    /// `value / 10^scale` in decimal, without trailing zeros after the point (and without the
    /// point if nothing follows it): microseconds from nanoseconds with scale 3.
    public mutating func append(_ value: Int64, scale: Int) {
        precondition((1...18).contains(scale))
        var divisor: UInt64 = 1
        for _ in 0..<scale { divisor *= 10 }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(of: value.magnitude / divisor)
        let fraction = value.magnitude % divisor
        guard fraction > 0 else { return }
        bytes.append(UInt8(ascii: "."))
        // All `scale` places, leading zeros included; then the trailing zeros go.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scale) { places in
            var rest = fraction
            for i in stride(from: scale - 1, through: 0, by: -1) {
                places[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            var end = scale
            while places[end - 1] == UInt8(ascii: "0") { end -= 1 }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: places[..<end]))
        }
    }

    /// Seconds that are a whole number of nanoseconds over 10⁹ (as the engine's times are) in at
    /// most nine decimals, which read back as the same Double; any other value in its shortest
    /// form that does. Non-finite values are written as 0.
    public mutating func append(seconds: Double) { append(time: seconds, decimals: 9) }

    /// Seconds as microseconds, a trace's unit: exact to the nanosecond for the engine's times.
    public mutating func append(microsecondsOf seconds: Double) { append(time: seconds, decimals: 3) }

    /// `seconds` in the unit that leaves `decimals` places for whole nanoseconds (9: seconds,
    /// 3: microseconds).
    private mutating func append(time seconds: Double, decimals: Int) {
        guard seconds.isFinite else { return bytes.append(UInt8(ascii: "0")) }
        if let nanos = Self.wholeNanoseconds(seconds) {
            append(nanos, scale: decimals)
        } else {
            var unit = 1.0
            for _ in decimals..<9 { unit *= 10 }
            append((seconds * unit).description)
        }
    }

    /// The whole number of nanoseconds `n` with `Double(n) / 1e9 == seconds`, if there is one.
    public static func wholeNanoseconds(_ seconds: Double) -> Int64? {
        let scaled = (seconds * 1e9).rounded()
        guard scaled.magnitude < 9e15 else { return nil }
        let nanos = Int64(scaled)
        return Double(nanos) / 1e9 == seconds ? nanos : nil
    }

    private mutating func appendDigits(of value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        // At most 20 digits, written backwards into a stack buffer.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var rest = value
            var start = 20
            while rest > 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start...]))
        }
    }
}
