import Dispatch

/// How a running attempt meets the world between two sub-blocks. A local thread looks at its
/// control epoch and asks the engine under its lock; a remote thread looks at its inbox and asks
/// the coordinator over the network. The sub-block loop itself is the same for both.
public protocol ChunkControl {
    /// One cheap look (a relaxed load or two): has a controller said anything since the last look?
    mutating func hasNews() -> Bool
    /// Answers the news, standing at element `position` with `sum` of the attempt's elements
    /// before it. May block while the worker is paused. `.proceed` may move the attempt's last
    /// element (a split), never before `position`, and change its speed.
    mutating func settle(position: Int64, sum: UInt128, last: inout Int64, speed: inout Double) -> ChunkRunner.Verdict
    /// Publishes progress after a sub-block: `done` elements of this attempt, `added` just now.
    func publish(done: Int64, added: Int64)
    /// Sleeps up to `nanoseconds` for the throttle; true if news ended the sleep early.
    func doze(nanoseconds: Int) -> Bool
    /// Called before every sub-block, news or not (a remote thread sends results it held back).
    mutating func beforeSubBlock()
    /// The attempt is whole, as of `now` (a local thread holding its result back notes when).
    mutating func finished(at now: UInt64)
    /// The attempt is whole and the control will give it a finish time itself, without a clock
    /// read now (true), or the runner reads the clock (false).
    mutating func finishedUnstamped() -> Bool
}

extension ChunkControl {
    public mutating func beforeSubBlock() {}
    public mutating func finished(at now: UInt64) {}
    public mutating func finishedUnstamped() -> Bool { false }
}

/// The one sub-block loop every worker runs, local thread or thread of `cluster-top worker`:
/// sum the attempt's elements a sub-block at a time with the configured kernel, look for news
/// between sub-blocks, publish progress once per sub-block, and sleep in proportion to the work
/// when throttled.
public struct ChunkRunner: Sendable {
    public typealias Kernel = @Sendable (Int64, Int64) -> UInt128

    /// What a control says after news.
    public enum Verdict: Sendable, Equatable {
        /// Go on (with the last element and speed it may have changed).
        case proceed
        /// The attempt is no longer this worker's: abandon it, without a result.
        case abandon
        /// The worker must end.
        case quit
    }

    /// How an attempt ended.
    public enum Outcome: Sendable, Equatable {
        case finished(UInt128)
        case abandoned
        case quit
    }

    public let kernel: Kernel
    public let subBlock: Int64
    /// The clock finish times and throttle sleeps are measured by.
    public let clock: EngineClock
    /// Sums only while holding one of these (see `CPUTokens`).
    public let tokens: CPUTokens

    public init(kernel: @escaping Kernel, subBlock: Int64, clock: EngineClock, tokens: CPUTokens = .shared) {
        self.kernel = kernel
        self.clock = clock
        self.subBlock = max(1, subBlock)
        self.tokens = tokens
    }

    /// Sums `elements` at `speed` (1 is full speed), answering news through `control`. `hold` is
    /// the thread's token: kept on return, for the next attempt; given back before any wait.
    /// `throttle` is the thread's too: what it owes outlasts the attempt, or a worker whose
    /// chunks each take less than a few milliseconds would start every one with a clean slate.
    public func run<Control: ChunkControl>(_ elements: ClosedRange<Int64>, speed initialSpeed: Double,
                                           control: inout Control, hold: CPUTokens.Hold,
                                           throttle: inout Throttle) -> Outcome {
        var sum: UInt128 = 0
        var next = elements.lowerBound
        var last = elements.upperBound
        var speed = initialSpeed
        var done: Int64 = 0
        while true {
            control.beforeSubBlock()
            if control.hasNews() {
                hold.giveBackBeforeWaiting()  // settling may wait (paused, or for the coordinator's answer)
                switch control.settle(position: next, sum: sum, last: &last, speed: &speed) {
                case .proceed: break
                case .abandon: return .abandoned
                case .quit: return .quit
                }
                // A split may leave nothing after `position`; then the attempt is whole.
                if last < next {
                    control.finished(at: clock.now())
                    return .finished(sum)
                }
            }
            // News that came while it waited its turn (a pause, a kill, a shutdown) is answered
            // before any more summing: with hundreds of workers the wait is long.
            if hold.take(), control.hasNews() { continue }
            let blockLast = last - next < subBlock ? last : next + subBlock - 1
            // The clock is read once per sub-block at full speed; a throttle needs the start too.
            let started = speed < 1 ? clock.now() : 0
            sum &+= kernel(next, blockLast)
            let count = blockLast - next + 1
            done += count
            control.publish(done: done, added: count)
            // With chunks of a few hundred nanoseconds a clock read each (about 25 ns here) is
            // a tenth of the work: a local thread stamps its batch's chunks at its next visit.
            if blockLast == last, speed >= 1, control.finishedUnstamped() { return .finished(sum) }
            let now = clock.now()
            if blockLast == last {
                hold.giveBackIfSliceUsed(now: now)
                control.finished(at: now)
                return .finished(sum)
            }
            next = blockLast + 1
            if speed < 1 {
                throttle.sleep(afterWorking: now - started, endingAt: now, speed: speed) { nanoseconds in
                    hold.giveBack()
                    return control.doze(nanoseconds: nanoseconds)
                }
            }
            // A slice used up: the next sub-block waits its turn behind the other workers.
            hold.giveBackIfSliceUsed(now: now)
        }
    }
}

/// Makes a worker run at a fraction of one core: its work is kept to `speed` of the time that
/// passes, and every moment it does not work counts as time off, a sleep as much as a wait for a
/// CPU token or for its thread to be woken. (Counting only its own sleeps, a worker at 25% among
/// six busy ones on two cores ran at 1% of a core: each short sleep ended in a long wait for a
/// token that paid nothing.) Sleeps are batched to at least a millisecond and can be cut short
/// by a control change.
public struct Throttle: Sendable {
    /// Time off still owed; negative is credit, capped so that a long wait does not buy a burst.
    private var owedNanos: Int64 = 0
    /// When the previous sub-block ended: all the time since then, working or not, is counted.
    private var lastEnd: UInt64?

    public init() {}

    /// A sub-block took `workedNanos` and ended at `now`. `doze` sleeps up to the given
    /// nanoseconds and says whether news woke it early.
    mutating func sleep(afterWorking workedNanos: UInt64, endingAt now: UInt64, speed: Double, doze: (Int) -> Bool) {
        let elapsed = lastEnd.map { now &- $0 } ?? workedNanos
        lastEnd = now
        owedNanos += Int64(Double(workedNanos) / speed) - Int64(min(elapsed, UInt64(Int64.max)))
        owedNanos = max(owedNanos, -10_000_000)
        guard owedNanos >= 1_000_000 else { return }
        // The sleep is paid for by the time the next sub-block finds has passed since `now`.
        // News (pause, kill, speed change) ends it early; the look that follows sees why, and
        // the count starts again.
        if doze(Int(owedNanos)) {
            owedNanos = 0
            lastEnd = nil
        }
    }
}
