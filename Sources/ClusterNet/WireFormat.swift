import ClusterProtocol

/// The protocol's version; Hello and Welcome must carry it.
public enum WireProtocol {
    /// 2: results and assignments come in batches (`Results`, `Assignments`).
    /// 3: `Ping` and `Pong` measure the round trip, which sizes the threads' queues.
    /// 4: `Hello.instance` names the process, so one that reconnects gets its rows back;
    ///    `Hello.nice` gets a nicer process a longer lease.
    public static let version: UInt32 = 4
    /// Threads one worker process may offer.
    public static let threadLimit: UInt32 = 256

    /// The longest host name a dashboard shows.
    public static let hostNameLimit = 64

    /// A host name fit for the dashboard: printable, at most `hostNameLimit` characters. The
    /// coordinator cleans what a Hello says with it; `worker --name` refuses a name it would change.
    public static func printableHostName(_ text: String, fallback: String) -> String {
        let cleaned = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.prefix(hostNameLimit))
        return cleaned.isEmpty ? fallback : cleaned
    }
}

typealias WorkerMessage = Clustertop_V1_WorkerMessage
typealias CoordinatorMessage = Clustertop_V1_CoordinatorMessage

extension Clustertop_V1_Sum {
    init(_ value: UInt128) {
        self.init()
        low = UInt64(truncatingIfNeeded: value)
        high = UInt64(truncatingIfNeeded: value >> 64)
    }

    var value: UInt128 { UInt128(high) << 64 | UInt128(low) }
}
