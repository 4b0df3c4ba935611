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
final class Outbox: Sendable {
    private let continuation = Mutex<AsyncStream<WorkerMessage>.Continuation?>(nil)
    /// Results sent, for the worker's periodic summary.
    let results = Atomic<Int>(0)

    func attach(_ continuation: AsyncStream<WorkerMessage>.Continuation?) {
        self.continuation.withLock { $0 = continuation }
    }

    func send(_ message: WorkerMessage) {
        continuation.withLock { _ = $0?.yield(message) }
    }

    /// Ends the current request stream, which ends the call.
    func finish() {
        continuation.withLock { $0?.finish() }
    }
}

/// One compute thread of `cluster-top worker`: sums the attempts the coordinator assigns,
/// sub-block by sub-block, and between sub-blocks looks at its inbox with one relaxed load, as
/// the coordinator's own worker threads look at their control epoch.
final class RemoteThread: Sendable {
    let index: Int
    private let inbox = Mutex<[ThreadCommand]>([])
    private let pending = Atomic<Int>(0)
    private let signal = DispatchSemaphore(value: 0)
    private let outbox: Outbox
    private let subBlockSize = Atomic<Int64>(1 << 16)
    /// Published for heartbeats: the attempt held (0 for none), elements done in it, and
    /// elements ever summed.
    let attempt = Atomic<UInt64>(0)
    let done = Atomic<Int64>(0)
    let processed = Atomic<UInt64>(0)

    init(index: Int, outbox: Outbox) {
        self.index = index
        self.outbox = outbox
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

    /// An attempt the coordinator queued for this thread.
    private struct Queued {
        let attempt: UInt64, first: Int64, last: Int64, speed: Double
    }

    private func run() {
        // Attempts sent ahead, run in order; only this thread touches the queue.
        var queue: [Queued] = []
        while true {
            if !queue.isEmpty {
                let next = queue.removeFirst()
                if !compute(next, queue: &queue) { return }
                continue
            }
            switch take() {
            case let .assign(attempt, first, last, speed):
                queue.append(Queued(attempt: attempt, first: first, last: last, speed: speed))
            case .quit:
                return
            case .check, .proceed, .hold, .abandon, .reset:
                continue  // about an attempt that is already over
            }
        }
    }

    private func take() -> ThreadCommand {
        while true {
            if let command = poll() { return command }
            signal.wait()
        }
    }

    private func poll() -> ThreadCommand? {
        let command = inbox.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        if command != nil { pending.subtract(1, ordering: .relaxed) }
        return command
    }

    private enum Control { case proceed, drop, quit }

    /// Sums one attempt and sends its result. False when the thread must quit.
    private func compute(_ task: Queued, queue: inout [Queued]) -> Bool {
        let id = task.attempt
        attempt.store(id, ordering: .relaxed)
        done.store(0, ordering: .relaxed)
        defer {
            attempt.store(0, ordering: .relaxed)
            done.store(0, ordering: .relaxed)
        }
        let subBlock = subBlockSize.load(ordering: .relaxed)
        var sum: UInt128 = 0
        var next = task.first, last = task.last, speed = task.speed
        var count: Int64 = 0
        var owedSleep: Int64 = 0
        while true {
            if pending.load(ordering: .acquiring) != 0 {
                switch control(id, position: next, sum: sum, last: &last, speed: &speed, queue: &queue) {
                case .proceed: break
                case .drop: return true
                case .quit: return false
                }
            }
            let blockLast = last - next < subBlock ? last : next + subBlock - 1
            let started = speed < 1 ? MonotonicClock.nanoseconds() : 0
            sum &+= SumOfSquaresKernel.sum(next, blockLast)
            count += blockLast - next + 1
            done.store(count, ordering: .relaxed)
            processed.store(processed.load(ordering: .relaxed) &+ UInt64(blockLast - next + 1), ordering: .relaxed)
            if blockLast == last {
                sendResult(id, sum: sum)
                return true
            }
            next = blockLast + 1
            if speed < 1 {
                // Sleep in proportion to the time worked, in slices of at least a millisecond;
                // a command ends the sleep early.
                owedSleep += Int64(Double(MonotonicClock.nanoseconds() - started) * (1 / speed - 1))
                if owedSleep >= 1_000_000 {
                    let before = MonotonicClock.nanoseconds()
                    _ = signal.wait(timeout: .now() + .nanoseconds(Int(owedSleep)))
                    owedSleep = max(-10_000_000, owedSleep - Int64(MonotonicClock.nanoseconds() - before))
                    if pending.load(ordering: .relaxed) != 0 { signal.signal() }  // keep the wake for take()
                }
            }
        }
    }

    /// Reads the inbox between two sub-blocks of attempt `id`. New attempts join the queue;
    /// an Abandon for a queued one removes it.
    private func control(_ id: UInt64, position: Int64, sum: UInt128, last: inout Int64, speed: inout Double,
                         queue: inout [Queued]) -> Control {
        var stopped = false
        while true {
            guard let command = stopped ? take() : poll() else { return .proceed }
            switch command {
            case let .assign(attempt, first, newLast, newSpeed):
                queue.append(Queued(attempt: attempt, first: first, last: newLast, speed: newSpeed))
            case .check(let attempt) where attempt == id && !stopped:
                outbox.send(.with {
                    $0.checkIn = .with {
                        $0.thread = UInt32(index)
                        $0.attempt = id
                        $0.position = position
                        $0.sum = Clustertop_V1_Sum(sum)
                    }
                })
                stopped = true  // until the coordinator answers; Hold means stay stopped
            case let .proceed(attempt, newLast, newSpeed) where attempt == id && stopped:
                // The coordinator never moves the end before our position; if it ever did,
                // summing nothing more is the only safe reading.
                last = max(newLast, position - 1)
                speed = newSpeed
                if last < position {
                    sendResult(id, sum: sum)
                    return .drop
                }
                stopped = false
            case .abandon(let attempt):
                if attempt == id { return .drop }
                queue.removeAll { $0.attempt == attempt }
            case .reset:
                queue.removeAll()
                return .drop
            case .quit:
                return .quit
            case .check, .proceed, .hold:
                continue  // a Hold keeps us stopped; the rest are about other attempts
            }
        }
    }

    private func sendResult(_ id: UInt64, sum: UInt128) {
        outbox.send(.with {
            $0.result = .with {
                $0.thread = UInt32(index)
                $0.attempt = id
                $0.sum = Clustertop_V1_Sum(sum)
                $0.processed = processed.load(ordering: .relaxed)
            }
        })
        outbox.results.add(1, ordering: .relaxed)
    }
}
