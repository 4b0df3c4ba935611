/// How an attempt's work came to its worker: the one word for it from the work pool to the
/// timeline and the dashboard.
public enum AttemptOrigin: Sendable, Equatable, Hashable {
    /// A chunk taken from the queue for the first time.
    case fresh
    /// A redo of work lost when worker `lostBy` crashed, was killed or went silent.
    case redo(lostBy: WorkerID)
    /// The unprocessed part of worker `from`'s chunk, split off by work stealing.
    case split(from: WorkerID)

    public var isRedo: Bool { if case .redo = self { true } else { false } }
    public var isSplit: Bool { if case .split = self { true } else { false } }
}
