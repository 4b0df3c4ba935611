import ClusterEngine

/// An attempt the session sent a remote thread: its id and the elements it covers (a split may
/// move the last one).
struct SentAttempt: Equatable {
    let id: AttemptID
    var elements: ClosedRange<Int64>
}

/// What the coordinator knows of one remote thread: the attempts it sent, in the order the
/// thread runs them (the first is the one it works on, the rest wait in its queue), and where
/// that first one stands. Each case carries what it needs and nothing else, so a thread cannot
/// be both released and parked, or held without having stopped.
enum RemoteThreadState: Equatable {
    /// Nothing of ours to run: it waits for an assignment.
    case idle
    /// Working on `attempts[0]`; `checking`: a Check is on its way, so another is not sent.
    case running([SentAttempt], checking: Bool)
    /// It checked in: stopped at `position` with `sum` of the attempt's elements before it, and
    /// waits for Proceed or Abandon. `held`: it was told to hold (paused). `lapsed`: its lease
    /// had lapsed while it ran, so its attempt is no longer its own.
    case parked([SentAttempt], position: Int64, sum: UInt128, held: Bool, lapsed: Bool)
    /// Its lease lapsed while it ran `attempts[0]`: left to finish, so its late result is fenced
    /// off and counted rather than silently lost.
    case lapsed([SentAttempt])
    /// Released: nothing more is sent to it.
    case released

    /// The attempts sent, in the order the thread runs them.
    var attempts: [SentAttempt] {
        switch self {
        case .idle, .released: []
        case .running(let attempts, _), .parked(let attempts, _, _, _, _), .lapsed(let attempts): attempts
        }
    }

    /// The attempt it works on.
    var running: AttemptID? { attempts.first?.id }

    var isReleased: Bool { self == .released }

    /// The running attempt is over (done, or abandoned): the next queued one runs now.
    mutating func finishRunning() {
        guard !isReleased else { return }
        let rest = Array(attempts.dropFirst())
        self = rest.isEmpty ? .idle : .running(rest, checking: false)
    }

    /// The same state with its attempts replaced (more queued, or some taken back).
    mutating func setAttempts(_ attempts: [SentAttempt]) {
        switch self {
        case .idle: if !attempts.isEmpty { self = .running(attempts, checking: false) }
        case .running(_, let checking): self = attempts.isEmpty ? .idle : .running(attempts, checking: checking)
        case .parked(_, let position, let sum, let held, let lapsed):
            self = .parked(attempts, position: position, sum: sum, held: held, lapsed: lapsed)
        case .lapsed: self = attempts.isEmpty ? .idle : .lapsed(attempts)
        case .released: break
        }
    }
}
