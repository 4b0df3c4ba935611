import ClusterModel
import ClusterTestSupport
import Testing

/// The bytes the trace and the recording write their per-attempt objects with: the numbers must
/// be what Swift itself would print, and every time must read back as the same Double.
@Suite("ASCIIBuffer: numbers as bytes")
struct ASCIIBufferTests {
    func text(_ build: (inout ASCIIBuffer) -> Void) -> String {
        var buffer = ASCIIBuffer()
        build(&buffer)
        return String(decoding: buffer.bytes, as: UTF8.self)
    }

    @Test("integers read as String(describing:) does, at both ends of their types")
    func integers() {
        var random = SplitMix64(state: 7)
        var values: [Int64] = [0, 1, 9, 10, -1, -10, 99, 100, .max, .min, .max - 1, .min + 1]
        for _ in 0..<2_000 { values.append(Int64(bitPattern: random.next()) >> Int64.random(in: 0...62, using: &random)) }
        for value in values { #expect(text { $0.append(value) } == String(value)) }
        #expect(text { $0.append(UInt64.max) } == String(UInt64.max))
        #expect(text { $0.append(Int.min) } == String(Int.min))
        #expect(text { $0.append(true); $0.append(","); $0.append(false) } == "true,false")
    }

    @Test("a scaled integer has no trailing zeros, and no point when nothing follows it")
    func scaled() {
        #expect(text { $0.append(1_500, scale: 3) } == "1.5")
        #expect(text { $0.append(1_000, scale: 3) } == "1")
        #expect(text { $0.append(1, scale: 3) } == "0.001")
        #expect(text { $0.append(0, scale: 9) } == "0")
        #expect(text { $0.append(-1, scale: 9) } == "-0.000000001")
        #expect(text { $0.append(12_345_678_901, scale: 9) } == "12.345678901")
        #expect(text { $0.append(Int64.min, scale: 18) } == "-9.223372036854775808")
        var random = SplitMix64(state: 11)
        for _ in 0..<2_000 {
            let value = Int64(bitPattern: random.next() >> 8), scale = Int.random(in: 1...9, using: &random)
            var divisor: Int64 = 1
            for _ in 0..<scale { divisor *= 10 }
            var fraction = String(value % divisor)
            fraction = String(repeating: "0", count: scale - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            let expected = fraction.isEmpty ? String(value / divisor) : "\(value / divisor).\(fraction)"
            #expect(text { $0.append(value, scale: scale) } == expected)
        }
    }

    @Test("the engine's times (whole nanoseconds) are written in nine decimals at most and read back exactly; other values too")
    func secondsReadBackExactly() {
        var random = SplitMix64(state: 3)
        for _ in 0..<5_000 {
            let nanos = Int64(random.next() >> UInt64.random(in: 14...60, using: &random))
            let seconds = Double(nanos) / 1e9
            let written = text { $0.append(seconds: seconds) }
            #expect(Double(written) == seconds, "\(nanos) ns written as \(written)")
            #expect((written.split(separator: ".").dropFirst().first?.count ?? 0) <= 9)
            let micros = text { $0.append(microsecondsOf: seconds) }
            #expect(Double(micros).map { ($0 * 1000).rounded() } == Double(nanos), "\(nanos) ns as µs \(micros)")
        }
        for value in [0.1 + 0.2, 1e-12, 123_456_789.123_456_789, Double.pi * 1e7, 5e20] {
            #expect(Double(text { $0.append(seconds: value) }) == value)
        }
        #expect(text { $0.append(seconds: .infinity) } == "0")
        #expect(text { $0.append(seconds: .nan) } == "0")
    }
}
