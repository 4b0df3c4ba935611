import Synchronization

/// A budget of messages (or bytes of them) read from the network but not yet handled. A reader
/// takes its share before it hands a message on and waits while the budget is spent; the
/// session gives the share back once the message is handled. So a peer that sends faster than
/// its session can handle, or sends big messages, is held back by TCP's flow control instead of
/// growing the coordinator's memory: one budget per session, and one for all of them.
final class MessageBudget: Sendable {
    let limit: Int

    private struct Waiter {
        let id: UInt64
        let amount: Int
        /// Resumed with true when granted, false when its task was cancelled.
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var used = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    init(limit: Int) { self.limit = limit }

    /// In use now.
    var used: Int { state.withLock { $0.used } }

    /// Takes `amount`, waiting (in order of arrival) until it fits; one bigger than the whole
    /// budget waits until nothing else is taken. False if the task was cancelled first: then
    /// nothing was taken.
    func take(_ amount: Int) async -> Bool {
        let id = state.withLock { s -> UInt64? in
            if s.waiters.isEmpty, fits(amount, s.used) {
                s.used += amount
                return nil
            }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let cancelled = state.withLock { s -> Bool in
                    if Task.isCancelled { return true }
                    s.waiters.append(Waiter(id: id, amount: amount, continuation: continuation))
                    return false
                }
                if cancelled { continuation.resume(returning: false) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> Waiter? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: false)
        }
    }

    /// Gives `amount` back, and lets waiting readers in, in order, while they fit.
    func give(_ amount: Int) {
        let granted = state.withLock { s -> [Waiter] in
            s.used = max(0, s.used - amount)
            var granted: [Waiter] = []
            while let first = s.waiters.first, fits(first.amount, s.used) {
                s.used += first.amount
                granted.append(s.waiters.removeFirst())
            }
            return granted
        }
        for waiter in granted { waiter.continuation.resume(returning: true) }
    }

    private func fits(_ amount: Int, _ used: Int) -> Bool { used == 0 || used + amount <= limit }
}

/// One session's share of the budgets: what its reader has taken for messages not yet handled,
/// so the session can give back, when it ends, what it never got to handle.
final class SessionIntake: Sendable {
    let shared: MessageBudget
    let own: MessageBudget
    private let held = Mutex<(messages: Int, bytes: Int)>((0, 0))

    init(shared: MessageBudget, own: MessageBudget) {
        self.shared = shared
        self.own = own
    }

    /// Takes `message`'s share of both budgets, waiting while either is spent. False if the
    /// reader was cancelled first (nothing is then taken).
    func admit(_ message: WorkerMessage) async -> Bool {
        let bytes = MessageLimits.estimatedBytes(of: message)
        guard await own.take(1) else { return false }
        guard await shared.take(bytes) else {
            own.give(1)
            return false
        }
        held.withLock { $0.messages += 1; $0.bytes += bytes }
        return true
    }

    /// `message`, admitted before, has been taken off the queue: its share goes back.
    func handled(_ message: WorkerMessage) {
        let bytes = MessageLimits.estimatedBytes(of: message)
        held.withLock { $0.messages -= 1; $0.bytes -= bytes }
        own.give(1)
        shared.give(bytes)
    }

    /// The session is over: what its unhandled messages held goes back.
    func giveAllBack() {
        let (messages, bytes) = held.withLock { h in
            defer { h = (0, 0) }
            return h
        }
        if messages > 0 { own.give(messages) }
        if bytes > 0 { shared.give(bytes) }
    }
}
