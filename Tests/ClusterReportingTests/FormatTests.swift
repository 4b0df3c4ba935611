import Testing
@testable import ClusterReporting
import ClusterModel

@Suite("Formatting")
struct FormatTests {
    @Test("digit grouping", arguments: [
        (Int64(0), "0"), (999, "999"), (1000, "1,000"), (338_350, "338,350"), (-1_234_567, "-1,234,567"),
    ])
    func grouping(value: Int64, expected: String) {
        #expect(Format.grouped(value) == expected)
    }

    @Test("grouping a 128-bit total")
    func groupingWide() {
        #expect(Format.grouped(UInt128(2_666_666_668_666_666_667) * 1_000_000_000)
                == "2,666,666,668,666,666,667,000,000,000")
    }

    @Test("SI rates", arguments: [
        (0.0, "0/s"), (950.0, "950/s"), (1234.0, "1.23k/s"), (3_220_000_000.0, "3.22G/s"), (45_600_000.0, "45.6M/s"),
        (999_999.0, "1.00M/s"),
    ])
    func rates(value: Double, expected: String) {
        #expect(Format.rate(value) == expected)
    }

    @Test("clock durations", arguments: [(0.0, "0:00"), (7.9, "0:07"), (754.0, "12:34"), (3723.0, "1:02:03")])
    func clock(seconds: Double, expected: String) {
        #expect(Format.clock(seconds) == expected)
    }

    @Test("fixed decimals without locale", arguments: [(0.05, 1, "0.1"), (12.345, 2, "12.35"), (-0.004, 2, "0.00"), (2.0, 0, "2")])
    func fixed(value: Double, decimals: Int, expected: String) {
        #expect(Format.fixed(value, decimals: decimals) == expected)
    }
}
