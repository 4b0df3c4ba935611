/// How an attempt's work came to its worker: the one word for it from the work pool to the
/// timeline and the dashboard.
public enum AttemptOrigin: Sendable, Equatable, Hashable, Codable {
    /// A chunk taken from the queue for the first time.
    case fresh
    /// A redo of work lost when worker `lostBy` crashed, was killed or went silent.
    case redo(lostBy: WorkerID)
    /// The unprocessed part of worker `from`'s chunk, split off by work stealing.
    case split(from: WorkerID)
    /// A backup of worker `of`'s attempt at the tail of a job, run from scratch alongside it
    /// (MapReduce's backup tasks): the first of the two to hand in wins, the other is fenced off.
    case backup(of: WorkerID)

    public var isRedo: Bool { if case .redo = self { true } else { false } }
    public var isSplit: Bool { if case .split = self { true } else { false } }
    public var isBackup: Bool { if case .backup = self { true } else { false } }
}
