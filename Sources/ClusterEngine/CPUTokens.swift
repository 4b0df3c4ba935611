import Dispatch
import Foundation

/// One token per core: a compute thread sums only while it holds one, for a slice of a few
/// milliseconds at most, and gives it back before it waits for anything (a pause, a throttle's
/// sleep, a check-in, the next chunk).
///
/// However many workers there are, at most one compute thread per core is runnable. So a thread
/// that is descheduled while it holds the engine lock runs again within milliseconds, instead of
/// queueing behind hundreds of others while the dashboard waits for that lock. Waiters are woken
/// in turn, so every worker gets its share, as the kernel's scheduler would give it.
public final class CPUTokens: Sendable {
    /// The process's tokens, one per active core.
    public static let shared = CPUTokens(count: ProcessInfo.processInfo.activeProcessorCount)

    /// Tokens that never run out, for threads whose kernel blocks on purpose (tests).
    public static func unbounded() -> CPUTokens { CPUTokens(count: 1 << 30) }

    /// How long a thread may keep a token while others may be waiting.
    public static let slice: UInt64 = 2_000_000

    public let count: Int
    private let semaphore: DispatchSemaphore

    public init(count: Int) {
        self.count = max(1, count)
        semaphore = DispatchSemaphore(value: self.count)
    }

    /// Waits for a token.
    public func acquire() { semaphore.wait() }

    /// Gives a token back; the longest waiter gets it.
    public func release() { semaphore.signal() }
}
