import ClusterEngine
import ClusterProtocol
import Dispatch
import Foundation
import Synchronization

/// An instruction from the coordinator (or the connection) to one compute thread.
enum ThreadCommand: Sendable {
    case assign(attempt: UInt64, first: Int64, last: Int64, speed: Double)
    case check(attempt: UInt64)
    case proceed(attempt: UInt64, last: Int64, speed: Double)
    case hold(attempt: UInt64)
    case abandon(attempt: UInt64)
    /// The connection is gone: drop whatever you hold; its chunk is re-queued over there.
    case reset
    case quit
}

/// Where a worker process's messages go: the current connection's request stream, if any.
///
/// Results may be held back for up to `resultDelay` and sent together: one message, and one
/// wake-up of each thread on its way, for several chunks instead of one per chunk. Any other
/// message first sends the results held, so the coordinator sees everything in order.
final class Outbox: Sendable {
    /// How long a result may wait for others to join it: well under the 25 ms a thread keeps
    /// queued. (With 5 ms a worker process kept 92.6% of local threads' throughput, with 10 ms
    /// 94.6%: medians of 7 runs of figure 8 side by side.)
    static let resultDelay: UInt64 = 10_000_000
    /// A thread with less than this much work queued (in nanoseconds, at the rate of its last
    /// attempt) sends its result at once: a held result delays the refill of its queue.
    static let urgentBelow: UInt64 = 12_000_000

    private struct State {
        var continuation: AsyncStream<WorkerMessage>.Continuation?
        var held: [Clustertop_V1_Result] = []
        /// Every thread's progress now, sent along with results.
        var progress: @Sendable () -> [Clustertop_V1_ThreadProgress] = { [] }

        mutating func sendHeld() {
            guard !held.isEmpty else { return }
            let threads = progress()
            let batch = WorkerMessage.with {
                $0.results = .with {
                    $0.results = held
                    $0.threads = threads
                }
            }
            held.removeAll(keepingCapacity: true)
            _ = continuation?.yield(batch)
        }
    }
    private let state = Mutex(State())
    /// When the oldest held result was held (MonotonicClock nanoseconds); 0 when none is.
    private let heldSince = Atomic<UInt64>(0)
    /// Results sent, for the worker's periodic summary.
    let results = Atomic<Int>(0)

    /// A new connection's stream, or nil. Results held for the old one are void: the coordinator
    /// re-queued their chunks when it ended.
    func attach(_ continuation: AsyncStream<WorkerMessage>.Continuation?) {
        state.withLock {
            $0.continuation = continuation
            $0.held.removeAll()
            heldSince.store(0, ordering: .relaxed)
        }
    }

    /// Where results get the threads' progress from.
    func reportProgress(_ progress: @escaping @Sendable () -> [Clustertop_V1_ThreadProgress]) {
        state.withLock { $0.progress = progress }
    }

    /// Sends `message` now, after any results held.
    func send(_ message: WorkerMessage) {
        state.withLock {
            sendHeld(&$0)
            _ = $0.continuation?.yield(message)
        }
    }

    /// A finished attempt: sent now if `urgent`, else held for up to `resultDelay`.
    func sendResult(_ result: Clustertop_V1_Result, urgent: Bool) {
        results.add(1, ordering: .relaxed)
        state.withLock {
            $0.held.append(result)
            if urgent {
                sendHeld(&$0)
            } else if heldSince.load(ordering: .relaxed) == 0 {
                heldSince.store(max(1, MonotonicClock.nanoseconds()), ordering: .relaxed)
            }
        }
    }

    /// Sends the held results if the oldest has waited long enough, or `always`. Costs one
    /// relaxed load when nothing is held, so compute threads call it between sub-blocks.
    func sendHeldResults(always: Bool = false) {
        let since = heldSince.load(ordering: .relaxed)
        guard since != 0, always || MonotonicClock.nanoseconds() &- since >= Self.resultDelay else { return }
        state.withLock { sendHeld(&$0) }
    }

    /// Sends what is held, with the lock held; nothing is held after.
    private func sendHeld(_ state: inout State) {
        state.sendHeld()
        heldSince.store(0, ordering: .relaxed)
    }

    /// Ends the current request stream, which ends the call.
    func finish() {
        state.withLock { $0.continuation?.finish() }
    }
}

/// One compute thread of `cluster-top worker`: runs the attempts the coordinator assigns through
/// the same chunk runner as the coordinator's own threads; between sub-blocks it looks at its
/// inbox with one relaxed load, as those look at their control epoch.
final class RemoteThread: Sendable {
    let index: Int
    private let inbox = Mutex<[ThreadCommand]>([])
    private let pending = Atomic<Int>(0)
    private let signal = DispatchSemaphore(value: 0)
    fileprivate let outbox: Outbox
    private let kernel: ChunkRunner.Kernel
    private let tokens: CPUTokens
    private let subBlockSize = Atomic<Int64>(1 << 16)
    /// Published for heartbeats: the attempt held (0 for none), elements done in it, and
    /// elements ever summed.
    let attempt = Atomic<UInt64>(0)
    let done = Atomic<Int64>(0)
    let processed = Atomic<UInt64>(0)

    init(index: Int, outbox: Outbox, kernel: @escaping ChunkRunner.Kernel, tokens: CPUTokens) {
        self.index = index
        self.outbox = outbox
        self.kernel = kernel
        self.tokens = tokens
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "remote-\(index)"
        thread.start()
    }

    func setSubBlock(_ size: Int64) { subBlockSize.store(max(1, size), ordering: .relaxed) }

    func post(_ command: ThreadCommand) {
        inbox.withLock { $0.append(command) }
        pending.add(1, ordering: .releasing)
        signal.signal()
    }

    var progress: Clustertop_V1_ThreadProgress {
        .with {
            $0.thread = UInt32(index)
            $0.attempt = attempt.load(ordering: .relaxed)
            $0.done = done.load(ordering: .relaxed)
            $0.processed = processed.load(ordering: .relaxed)
        }
    }

    // MARK: The thread

    private func run() {
        ComputePriority.lowerCurrentThread()
        let hold = CPUTokens.Hold(tokens)
        defer { hold.giveBack() }
        var control = RemoteChunkControl(thread: self)
        var throttle = Throttle()
        while true {
            if !control.queue.isEmpty {
                let next = control.queue.removeFirst()
                if !compute(next, control: &control, hold: hold, throttle: &throttle) { return }
                continue
            }
            // Out of work: nothing may wait behind us, and no token is kept while it waits. The
            // thread waits in the lowest class: its work comes from its own process's network
            // thread, and waking in the normal class, preempting that thread, was measured to cost
            // round trips (BENCHMARKS.md, section 23).
            hold.giveBack()
            outbox.sendHeldResults(always: true)
            switch take() {
            case let .assign(attempt, first, last, speed):
                control.queue.append(AssignedAttempt(attempt: attempt, first: first, last: last, speed: speed))
            case .quit:
                return
            case .reset:
                control.queue.reset()
            case .check(let attempt):
                control.queue.checkWaiting = attempt
            case .proceed, .hold, .abandon:
                continue  // about an attempt that is already over
            }
        }
    }

    fileprivate func take() -> ThreadCommand {
        while true {
            if let command = poll() { return command }
            signal.wait()
        }
    }

    fileprivate func poll() -> ThreadCommand? {
        let command = inbox.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        if command != nil { pending.subtract(1, ordering: .relaxed) }
        return command
    }

    fileprivate var hasPendingCommands: Bool { pending.load(ordering: .acquiring) != 0 }

    /// Sleeps up to `nanoseconds`; true if a command arrived meanwhile (it stays in the inbox,
    /// and the wake is kept for `take()`).
    fileprivate func doze(nanoseconds: Int) -> Bool {
        _ = signal.wait(timeout: .now() + .nanoseconds(nanoseconds))
        guard hasPendingCommands else { return false }
        signal.signal()
        return true
    }

    /// Runs one attempt and sends its result. False when the thread must quit.
    private func compute(_ task: AssignedAttempt, control: inout RemoteChunkControl, hold: CPUTokens.Hold,
                         throttle: inout Throttle) -> Bool {
        attempt.store(task.attempt, ordering: .relaxed)
        done.store(0, ordering: .relaxed)
        defer {
            attempt.store(0, ordering: .relaxed)
            done.store(0, ordering: .relaxed)
        }
        control.attempt = task.attempt
        let runner = ChunkRunner(kernel: kernel, subBlock: subBlockSize.load(ordering: .relaxed), clock: .live, tokens: tokens)
        let started = MonotonicClock.nanoseconds()
        switch runner.run(task.first...task.last, speed: task.speed, control: &control, hold: hold, throttle: &throttle) {
        case .finished(let sum):
            let count = max(1, done.load(ordering: .relaxed))
            let nanosPerElement = Double(MonotonicClock.nanoseconds() &- started) / Double(count)
            let urgent = control.queue.isRunningLow(nanosPerElement: nanosPerElement)
            if urgent { control.queue.refillAsked = true }
            sendResult(task.attempt, sum: sum, urgent: urgent)
            return true
        case .abandoned:
            return true
        case .quit:
            return false
        }
    }

    /// Tells the coordinator exactly where this thread stopped; it answers Proceed, Hold or
    /// Abandon.
    fileprivate func checkIn(_ id: UInt64, position: Int64, sum: UInt128) {
        outbox.send(.with {
            $0.checkIn = .with {
                $0.thread = UInt32(index)
                $0.attempt = id
                $0.position = position
                $0.sum = Clustertop_V1_Sum(sum)
            }
        })
    }

    fileprivate func sendResult(_ id: UInt64, sum: UInt128, urgent: Bool) {
        outbox.sendResult(.with {
            $0.thread = UInt32(index)
            $0.attempt = id
            $0.sum = Clustertop_V1_Sum(sum)
            $0.processed = processed.load(ordering: .relaxed)
        }, urgent: urgent)
    }
}

/// An attempt the coordinator queued for a remote thread.
struct AssignedAttempt {
    let attempt: UInt64, first: Int64, last: Int64, speed: Double
    var elements: Int64 { last - first + 1 }
}

/// The attempts sent ahead, run in order; only the thread itself touches them.
struct AttemptQueue {
    private(set) var attempts: [AssignedAttempt] = []
    /// The most it has held since the last reset: about the depth the coordinator keeps.
    private(set) var depth = 0
    /// A result went out because the queue ran low, and no attempt has arrived since: the
    /// refill is on its way, and results until then need not hurry.
    var refillAsked = false
    /// A Check that came while the thread had no attempt (its results were on their way):
    /// the next attempt it starts checks in at once.
    var checkWaiting: UInt64?
    var isEmpty: Bool { attempts.isEmpty }

    mutating func append(_ attempt: AssignedAttempt) {
        attempts.append(attempt)
        depth = max(depth, attempts.count)
        refillAsked = false
    }
    mutating func removeFirst() -> AssignedAttempt { attempts.removeFirst() }
    mutating func remove(attempt: UInt64) { attempts.removeAll { $0.attempt == attempt } }
    mutating func reset() { self = AttemptQueue() }

    /// Whether it runs dry soon, at `nanosPerElement`, so a result must go out now to have
    /// it refilled in time. With tiny attempts the time is always short; then it waits until
    /// half the queue is gone, so one message still carries many results.
    func isRunningLow(nanosPerElement: Double) -> Bool {
        guard !refillAsked else { return false }
        guard !attempts.isEmpty, nanosPerElement > 0 else { return true }
        let work = Double(attempts.reduce(Int64(0)) { $0 + $1.elements }) * nanosPerElement
        return work < Double(Outbox.urgentBelow) && attempts.count <= depth / 2
    }
}

/// A remote thread's news: commands in its inbox, or a Check that came while it was between
/// attempts. New attempts join the queue; an Abandon for a queued one removes it.
struct RemoteChunkControl: ChunkControl {
    let thread: RemoteThread
    var queue = AttemptQueue()
    /// The attempt being run.
    var attempt: UInt64 = 0

    init(thread: RemoteThread) { self.thread = thread }

    mutating func beforeSubBlock() { thread.outbox.sendHeldResults() }

    mutating func hasNews() -> Bool { thread.hasPendingCommands || queue.checkWaiting != nil }

    func publish(done: Int64, added: Int64) {
        thread.done.store(done, ordering: .relaxed)
        thread.processed.store(thread.processed.load(ordering: .relaxed) &+ UInt64(added), ordering: .relaxed)
    }

    func doze(nanoseconds: Int) -> Bool { thread.doze(nanoseconds: nanoseconds) }

    mutating func settle(position: Int64, sum: UInt128, last: inout Int64, speed: inout Double) -> ChunkRunner.Verdict {
        let id = attempt
        var stopped = false
        if let waiting = queue.checkWaiting {
            queue.checkWaiting = nil
            if waiting <= id {
                thread.checkIn(id, position: position, sum: sum)
                stopped = true
            }
        }
        while true {
            guard let command = stopped ? thread.take() : thread.poll() else { return .proceed }
            switch command {
            case let .assign(attempt, first, newLast, newSpeed):
                queue.append(AssignedAttempt(attempt: attempt, first: first, last: newLast, speed: newSpeed))
            // A check names the attempt the coordinator last knew of; one we have finished since
            // (its result may still be held) means the one we are on now.
            case .check(let attempt) where attempt <= id && !stopped:
                thread.checkIn(id, position: position, sum: sum)
                stopped = true  // until the coordinator answers; Hold means stay stopped
            case let .proceed(attempt, newLast, newSpeed) where attempt == id && stopped:
                // The coordinator never moves the end before our position; if it ever did,
                // summing nothing more is the only safe reading (the runner then hands in the
                // sum so far).
                last = max(newLast, position - 1)
                speed = newSpeed
                if last < position { return .proceed }
                stopped = false
            case .abandon(let attempt):
                if attempt == id { return .abandon }
                queue.remove(attempt: attempt)
            case .reset:
                queue.reset()
                return .abandon
            case .quit:
                return .quit
            case .check, .proceed, .hold:
                continue  // a Hold keeps us stopped; the rest are about other attempts
            }
        }
    }
}
