/// Where a remote worker runs, for its dashboard row and the event log.
public struct RemoteWorkerInfo: Sendable, Equatable, Codable {
    public let host: String
    public let pid: Int32
    /// The thread's index in its process, from 0.
    public let thread: Int
    /// The kernel variant it runs, as its process reported it; empty if it did not say.
    public let kernel: String
    /// A random number its process chose when it started and sends on every connection, only
    /// ever over TLS (unless --insecure) and never shown: the one proof that a connection is the
    /// same process as another, which host and pid are not (anyone can read and copy them).
    /// 0: it did not say.
    public let instance: UInt64
    /// The network address it connects from (not a name it chose): what a host's limit counts.
    public let address: String
    /// Its connection is plain text (--insecure): its instance crossed the network in the clear.
    public let unencrypted: Bool

    public init(host: String, pid: Int32, thread: Int, kernel: String = "", instance: UInt64 = 0, address: String = "",
                unencrypted: Bool = false) {
        self.host = host
        self.pid = pid
        self.thread = thread
        self.kernel = kernel
        self.instance = instance
        self.address = address
        self.unencrypted = unencrypted
    }

    /// The same thread of the same process, reconnecting.
    package func isSameThread(as other: RemoteWorkerInfo) -> Bool {
        instance != 0 && instance == other.instance && host == other.host && pid == other.pid && thread == other.thread
    }

    /// "host:pid/thread", as the dashboard shows it.
    public var label: String { "\(host):\(pid)/\(thread)" }
}
