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

    /// One thread's hold on a token, kept from sub-block to sub-block and from one attempt to the
    /// next for up to a slice, so that a stream of tiny chunks costs no semaphore per chunk. The
    /// thread gives it back before it waits for anything.
    ///
    /// The thread sums in the lowest scheduling class (`ComputePriority`): it goes down when it
    /// takes a token and back up when it gives it back, where the system allows, so that it waits
    /// and is woken in its normal class.
    public final class Hold {
        public let tokens: CPUTokens
        /// When the token was taken; nil while none is held.
        private var since: UInt64?
        /// Whether the thread is in the lowest class now.
        private var lowered = false
        /// The class to go back to; nil once the system has refused (the thread stays lowered).
        private var previous: ComputePriority.Previous?

        public init(_ tokens: CPUTokens) { self.tokens = tokens }

        public var isHeld: Bool { since != nil }

        /// Takes a token if none is held; true if it had to take one (and may have waited).
        public func take() -> Bool {
            guard since == nil else { return false }
            tokens.acquire()
            since = MonotonicClock.nanoseconds()
            if !lowered {
                previous = ComputePriority.lowerCurrentThread()
                lowered = true
            }
            return true
        }

        /// Gives the token back, if held, and leaves the lowest class if the system lets it.
        public func giveBack() {
            if since != nil { tokens.release() }
            since = nil
            if lowered, let previous {
                if ComputePriority.restoreCurrentThread(previous) {
                    lowered = false
                } else {
                    self.previous = nil
                }
            }
        }

        /// Gives the token back once it has been held for a slice, so the others get their turn.
        public func giveBackIfSliceUsed(now: UInt64) {
            if let since, now &- since >= CPUTokens.slice { giveBack() }
        }

        deinit { if since != nil { tokens.release() } }
    }
}
