/// Where a worker is in its life, as one value, so that no impossible mix (a removed worker that
/// is leaving, a paused one whose lease was lost) can be written down.
///
/// `pausing` and `paused` are two facts, not one: a pause is asked for at once, but the worker is
/// `paused` only once its thread has really stopped (a local thread at its next sub-block, a
/// remote one when its check-in arrives). From then on its position does not move.
enum WorkerPhase: Equatable {
    case idle
    case running
    /// Asked to pause; its thread has not stopped yet.
    case pausing
    /// Its thread stands still, holding its attempt (if any) where it stopped.
    case paused
    /// Removal was asked for while it held an attempt: it finishes that, then leaves.
    case leaving
    case dead(Death)
    case removed

    enum Death: Equatable {
        /// Killed by a controller: a simulated crash.
        case killed
        /// A remote worker not heard from within its lease. It comes back when heard from.
        case leaseLost
    }

    /// Asked to stop or stopped: it will not finish its attempt on its own.
    var isStopping: Bool { self == .pausing || self == .paused }

    var isDead: Bool { if case .dead = self { true } else { false } }

    /// Takes part in a new job's schedule (gets a slice of it).
    var takesNewWork: Bool { !isDead && self != .removed && self != .leaving }

    /// The public view of the phase.
    var state: WorkerState {
        switch self {
        case .idle: .idle
        case .running, .leaving: .running
        case .pausing: .pausing
        case .paused: .paused
        case .dead: .dead
        case .removed: .removed
        }
    }

    var leaseLost: Bool { self == .dead(.leaseLost) }
}

/// The phase rules of the controls, as pure functions: the phase after each control, or nil when
/// the control does not apply. `holdingAttempt` says whether the worker has an attempt now.
extension WorkerPhase {
    /// A worker with an attempt is `pausing` until its thread stops; one without is stopped.
    func afterPause(holdingAttempt: Bool) -> WorkerPhase? {
        guard self == .idle || self == .running else { return nil }
        return holdingAttempt ? .pausing : .paused
    }

    func afterResume(holdingAttempt: Bool) -> WorkerPhase? {
        guard isStopping else { return nil }
        return holdingAttempt ? .running : .idle
    }

    /// A simulated crash; a dead or removed worker cannot die again.
    var afterKill: WorkerPhase? { isDead || self == .removed ? nil : .dead(.killed) }

    /// A dead worker comes back idle, however it died.
    var afterRestart: WorkerPhase? { isDead ? .idle : nil }

    /// A worker with an attempt finishes it first (a paused one is resumed to do so).
    func afterRemove(holdingAttempt: Bool) -> WorkerPhase? {
        guard self != .removed, self != .leaving else { return nil }
        return holdingAttempt ? .leaving : .removed
    }

    /// Its thread stands still (between sub-blocks or attempts): a pause asked for is now a fact.
    var whenThreadStops: WorkerPhase { self == .pausing ? .paused : self }
}
