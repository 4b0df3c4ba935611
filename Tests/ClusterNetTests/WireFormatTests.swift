import ClusterProtocol
import Testing
@testable import ClusterNet

@Suite("Wire format")
struct WireFormatTests {
    @Test("128-bit sums survive the two 64-bit halves", arguments: [
        UInt128(0), UInt128(1), UInt128(UInt64.max), UInt128(UInt64.max) + 1, UInt128.max,
        UInt128(338_350) << 70 | 12_345,
    ])
    func sumRoundTrip(value: UInt128) throws {
        let wire = Clustertop_V1_Sum(value)
        #expect(wire.value == value)
        let decoded = try Clustertop_V1_Sum(serializedBytes: try wire.serializedBytes() as [UInt8])
        #expect(decoded.value == value)
    }

    @Test("a duration's milliseconds", arguments: [(Duration.seconds(1), Int64(1000)), (.milliseconds(150), 150), (.microseconds(999), 0)])
    func milliseconds(duration: Duration, expected: Int64) {
        #expect(RemoteSession.milliseconds(duration) == expected)
    }

    @Test("host names are cleaned for the dashboard")
    func printableHost() {
        #expect(WireProtocol.printableHostName("node-1\u{1b}[2J", fallback: "x") == "node-1[2J")
        #expect(WireProtocol.printableHostName("", fallback: "10.0.0.5:4444") == "10.0.0.5:4444")
        #expect(WireProtocol.printableHostName(String(repeating: "h", count: 300), fallback: "x").count == 64)
    }

    @Test("heartbeats come ten times per lease, never faster than every 20 ms")
    func timing() {
        #expect(RemoteTiming(lease: .seconds(1)).heartbeat == .milliseconds(100))
        #expect(RemoteTiming(lease: .milliseconds(100)).heartbeat == .milliseconds(20))
    }
}
