/// How an attempt's work came to its worker: the one word for it from the work pool to the
/// timeline and the dashboard.
public enum AttemptOrigin: Sendable, Equatable, Hashable {
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

// One short string in a recording, which holds one per attempt: "fresh", "redo:3", "split:3", "backup:3".
extension AttemptOrigin: Codable {
    /// The origin as a recording writes it.
    public var recordedText: String {
        switch self {
        case .fresh: "fresh"
        case .redo(let w): "redo:\(w.rawValue)"
        case .split(let w): "split:\(w.rawValue)"
        case .backup(let w): "backup:\(w.rawValue)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        let parts = text.split(separator: ":", maxSplits: 1)
        let worker = parts.count == 2 ? Int(parts[1]).map(WorkerID.init) : nil
        switch (parts.first, worker) {
        case ("fresh", nil) where parts.count == 1: self = .fresh
        case ("redo", let w?): self = .redo(lostBy: w)
        case ("split", let w?): self = .split(from: w)
        case ("backup", let w?): self = .backup(of: w)
        default: throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an attempt's origin: \(text)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(recordedText)
    }
}
