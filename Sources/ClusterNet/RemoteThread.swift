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
    /// The connection is gone: abandon whatever you hold; its chunk is re-queued over there.
    case reset
    case quit
}

/// One compute thread of `cluster-top worker`: runs the attempts the coordinator assigns through
/// the same chunk runner as the coordinator's own threads; between sub-blocks it looks at its
/// inbox with one relaxed load, as those look at their control epoch.
final class RemoteThread: Sendable {
    let index: Int
    private let inbox = Mutex<[ThreadCommand]>([])
    private let pending = Atomic<Int>(0)
    private let signal = DispatchSemaphore(value: 0)
    let outbox: Outbox
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

    func take() -> ThreadCommand {
        while true {
            if let command = poll() { return command }
            signal.wait()
        }
    }

    func poll() -> ThreadCommand? {
        let command = inbox.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        if command != nil { pending.subtract(1, ordering: .relaxed) }
        return command
    }

    var hasPendingCommands: Bool { pending.load(ordering: .acquiring) != 0 }

    /// Sleeps up to `nanoseconds`; true if a command arrived meanwhile (it stays in the inbox,
    /// and the wake is kept for `take()`).
    func doze(nanoseconds: Int) -> Bool {
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
    func checkIn(_ id: UInt64, position: Int64, sum: UInt128) {
        outbox.send(.with {
            $0.checkIn = .with {
                $0.thread = UInt32(index)
                $0.attempt = id
                $0.position = position
                $0.sum = Clustertop_V1_Sum(sum)
            }
        })
    }

    func sendResult(_ id: UInt64, sum: UInt128, urgent: Bool) {
        outbox.sendResult(.with {
            $0.thread = UInt32(index)
            $0.attempt = id
            $0.sum = Clustertop_V1_Sum(sum)
            $0.processed = processed.load(ordering: .relaxed)
        }, urgent: urgent)
    }
}
