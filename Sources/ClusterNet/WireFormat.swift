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

/// What each kind of message from a worker may hold: no more than its kind needs for a process
/// of so many threads. A message past that ends its session, and the log names the peer.
enum MessageLimits {
    /// A host name or kernel name on the wire (the dashboard shows 64 characters of a host).
    static let nameBytes = 1_024
    /// Fields this protocol does not have: a worker of the same version sends none.
    static let unknownFieldBytes = 1_024
    /// Attempts a thread can hold at once: its current one and a full queue (see
    /// `ClusterConfiguration.remoteQueueElements`), so the results one message can carry.
    static let attemptsPerThread = 1_025

    /// Why `message` is bigger than its kind needs, from a process of `threads` threads (0 before
    /// its Hello); nil if it is not.
    static func excess(of message: WorkerMessage, threads: Int) -> String? {
        let unknown = unknownFieldBytes(of: message)
        if unknown > unknownFieldBytes { return "\(unknown) bytes of fields this protocol does not have" }
        switch message.kind {
        case .hello(let hello):
            if hello.host.utf8.count > nameBytes { return "a host name of \(hello.host.utf8.count) bytes" }
            if hello.kernel.utf8.count > nameBytes { return "a kernel name of \(hello.kernel.utf8.count) bytes" }
        case .heartbeat(let heartbeat):
            if heartbeat.threads.count > threads { return "a heartbeat of \(heartbeat.threads.count) entries for \(threadCount(threads))" }
        case .results(let results):
            if results.threads.count > threads { return "progress of \(results.threads.count) threads in results for \(threadCount(threads))" }
            if results.results.count > threads * attemptsPerThread {
                return "\(results.results.count) results at once for \(threadCount(threads))"
            }
        case .checkIn, .pong, nil:
            break
        }
        return nil
    }

    /// Bytes a decoded message is taken to hold, for the budgets of messages in flight: every
    /// repeated entry and every byte of unknown fields counted, so no message is cheap to send
    /// and dear to hold.
    static func estimatedBytes(of message: WorkerMessage) -> Int {
        var bytes = 256 + unknownFieldBytes(of: message)
        switch message.kind {
        case .hello(let hello): bytes += hello.host.utf8.count + hello.kernel.utf8.count
        case .heartbeat(let heartbeat): bytes += 64 * heartbeat.threads.count
        case .results(let results): bytes += 96 * results.results.count + 64 * results.threads.count
        case .checkIn, .pong, nil: break
        }
        return bytes
    }

    private static func threadCount(_ threads: Int) -> String {
        threads == 0 ? "a process that has not said Hello" : "a process of \(threads) thread\(threads == 1 ? "" : "s")"
    }

    /// Bytes of unknown fields in `message` and every message inside it.
    static func unknownFieldBytes(of message: WorkerMessage) -> Int {
        var bytes = message.unknownFields.data.count
        switch message.kind {
        case .hello(let hello): bytes += hello.unknownFields.data.count
        case .heartbeat(let heartbeat):
            bytes += heartbeat.unknownFields.data.count
            for entry in heartbeat.threads { bytes += entry.unknownFields.data.count }
        case .results(let results):
            bytes += results.unknownFields.data.count
            for entry in results.threads { bytes += entry.unknownFields.data.count }
            for result in results.results { bytes += result.unknownFields.data.count + result.sum.unknownFields.data.count }
        case .checkIn(let checkIn): bytes += checkIn.unknownFields.data.count + checkIn.sum.unknownFields.data.count
        case .pong(let pong): bytes += pong.unknownFields.data.count
        case nil: break
        }
        return bytes
    }
}
