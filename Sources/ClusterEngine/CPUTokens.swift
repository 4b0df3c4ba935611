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
    public static let shared = CPUTokens(count: ProcessInfo.processInfo.activeProcessorCount, clock: .live)

    /// Tokens that never run out, for threads whose kernel blocks on purpose (tests).
    public static func unbounded() -> CPUTokens { CPUTokens(count: 1 << 30, clock: .live) }

    /// How long a thread may keep a token while others may be waiting.
    public static let slice: UInt64 = 2_000_000

    public let count: Int
    /// What a slice is measured by.
    public let clock: EngineClock
    private let semaphore: DispatchSemaphore

    public init(count: Int, clock: EngineClock) {
        self.count = max(1, count)
        self.clock = clock
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
    /// A local worker's thread sums in the lowest scheduling class (`ComputePriority`) and waits
    /// for work or a resume in its normal one, where the system allows (`giveBackBeforeWaiting`),
    /// so that it starts at once when woken; its next token takes it down again. Going up and
    /// down at every token handed on, or at every wait of a remote worker's thread, was measured
    /// to cost a worker process's throughput (BENCHMARKS.md, section 23).
    public final class Hold {
        public let tokens: CPUTokens
        /// When the token was taken; nil while none is held.
        private var since: UInt64?
        /// The class the thread had before it lowered itself to sum, to wait in; nil if it may
        /// not go back (or the thread's class is not this hold's business).
        private var normalClass: ComputePriority.Previous?
        /// Whether the thread waits (or has just waited) in its normal class.
        private var raised = false

        /// `normalClass`: what `ComputePriority.lowerCurrentThread()` returned when the thread
        /// lowered itself to sum; without it the hold never changes the thread's class.
        public init(_ tokens: CPUTokens, normalClass: ComputePriority.Previous? = nil) {
            self.tokens = tokens
            self.normalClass = normalClass
        }

        public var isHeld: Bool { since != nil }

        /// Takes a token if none is held; true if it had to take one (and may have waited).
        public func take() -> Bool {
            guard since == nil else { return false }
            tokens.acquire()
            since = tokens.clock.now()
            if raised {
                ComputePriority.lowerCurrentThread()
                raised = false
            }
            return true
        }

        /// Gives the token back, if held.
        public func giveBack() {
            if since != nil { tokens.release() }
            since = nil
        }

        /// Gives the token back before the thread waits for something a controller ends (work
        /// when it has none, a resume when paused), and returns to its normal class for the wait
        /// if the system lets it: a thread woken in the lowest class never preempts the one
        /// running on its core, so it would start late.
        public func giveBackBeforeWaiting() {
            giveBack()
            guard !raised, let normalClass else { return }
            if ComputePriority.restoreCurrentThread(normalClass) {
                raised = true
            } else {
                self.normalClass = nil  // no privilege: it stays in the lowest class
            }
        }

        /// Gives the token back once it has been held for a slice, so the others get their turn.
        public func giveBackIfSliceUsed(now: UInt64) {
            if let since, now &- since >= CPUTokens.slice { giveBack() }
        }

        deinit { if since != nil { tokens.release() } }
    }
}
