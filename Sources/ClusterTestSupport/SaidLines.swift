import Synchronization

/// What a worker process said, collected from whatever thread it says it on, for a test to check
/// or to show in a failure message.
public final class SaidLines: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    public func append(_ line: String) { lines.withLock { $0.append(line) } }

    public var all: [String] { lines.withLock { $0 } }
}
