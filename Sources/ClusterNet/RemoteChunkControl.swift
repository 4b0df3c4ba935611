import ClusterEngine
import ClusterProtocol

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
