/// What a stretch of a worker's lane shows on the timeline, in increasing order of precedence:
/// when one cell covers several stretches, the rarer one wins, so a kill, a split or a redo is
/// never merged away however short it was.
public enum TimelineMark: UInt8, Sendable, Comparable, CaseIterable, Codable {
    case empty = 0
    /// An accepted attempt; neighbouring chunks alternate between the two, so that boundaries
    /// show where a cell covers one chunk.
    case done, doneAlternate
    /// An accepted attempt of a worker going at under half the job's pace (a straggler): drawn
    /// apart, so a slow lane does not look as busy as a fast one.
    case slow
    case inFlight
    /// The worker was paused (holding its attempt, or idle).
    case paused
    /// A chunk lost by a killed worker, done again.
    case redo
    /// Work stealing: a split-off remainder, an attempt that was split, or one handed over.
    case stolen
    /// A backup attempt: a copy of an attempt far behind, run at the tail of a job.
    case backup
    /// An attempt fenced off because the other of its backup pair finished first.
    case superseded
    /// A killed worker's lost attempt.
    case killed

    public static func < (a: TimelineMark, b: TimelineMark) -> Bool { a.rawValue < b.rawValue }

    /// Two stretches shown as one cell: the rarer wins; two different done chunks make plain
    /// `done`, since a cell that covers several chunks shows no boundary.
    public static func merged(_ a: TimelineMark, _ b: TimelineMark) -> TimelineMark {
        if a != b, a.isDone, b.isDone { return .done }
        return max(a, b)
    }

    public var isDone: Bool { self == .done || self == .doneAlternate }

    /// How a finished or running attempt shows.
    public init(outcome: TimelineSegment.Outcome, origin: AttemptOrigin, wasSplit: Bool, chunk: Int64) {
        switch outcome {
        // Lost with its worker, however it was lost: ✗ on the timeline.
        case .killed, .leaseLost, .disconnected: self = .killed
        case .handedOver: self = .stolen
        // Refused or beaten, its sum was never added: fenced off, on the timeline.
        case .superseded, .refused: self = .superseded
        case .inFlight, .done:
            if origin.isBackup { self = .backup }
            else if origin.isSplit || wasSplit { self = .stolen }
            else if origin.isRedo { self = .redo }
            else if outcome == .inFlight { self = .inFlight }
            else { self = chunk % 2 == 0 ? .done : .doneAlternate }
        }
    }
}

/// The whole of one job's lanes in bounded memory: `columns` cells per worker from the job's
/// start. When the job outgrows them, neighbouring cells merge (`TimelineMark.merged`) and each
/// covers twice the time, so memory stays O(workers × columns) however many attempts ran, the
/// axis starts at the job's start, and rare marks survive.
public struct JobTimeline: Sendable, Equatable {
    public static let columns = 1024
    /// The first cell's duration; it doubles as the job grows.
    static let finestCellNanos: UInt64 = 1_000_000

    public let job: JobID
    /// When the job started, in the engine's clock.
    public let startNanos: UInt64
    /// How long each cell covers.
    public private(set) var cellNanos: UInt64 = JobTimeline.finestCellNanos
    /// One per worker that did something in the job. The engine paints each worker on its row's
    /// lane (`paint(_:worker:lane:from:to:)`), found without hashing once per chunk; a lane whose
    /// worker's row was given to another is empty and is taken by the next.
    public private(set) var lanes: [[TimelineMark]] = []
    /// Whose each lane is (`departedLane`: nobody's).
    private var owners: [WorkerID] = []
    /// Each worker's lane in `lanes`, for the views.
    private var laneOfWorker: [WorkerID: Int] = [:]
    /// What the workers whose rows were freed did, merged into one lane: it still counts.
    public private(set) var departed: [TimelineMark] = []
    /// How many workers' lanes were merged into `departed`.
    public private(set) var departedCount = 0

    public init(job: JobID, startNanos: UInt64) {
        self.job = job
        self.startNanos = startNanos
    }

    /// Paints `mark` over `from...to` on `worker`'s lane, merging with what is there; a worker
    /// without one takes the first free lane.
    public mutating func paint(_ mark: TimelineMark, worker: WorkerID, from: UInt64, to: UInt64) {
        let lane = laneOfWorker[worker] ?? owners.firstIndex(of: Self.departedLane) ?? owners.count
        paint(mark, worker: worker, lane: lane, from: from, to: to)
    }

    /// Paints `mark` over `from...to` on lane `lane`, which is `worker`'s from now on: the
    /// engine's lanes are its rows, and a row's earlier worker, if it had this lane, is retired.
    public mutating func paint(_ mark: TimelineMark, worker: WorkerID, lane index: Int, from: UInt64, to: UInt64) {
        guard mark != .empty, index >= 0 else { return }
        let begin = from &- startNanos, end = max(begin, to &- startNanos)
        // Times before the start (an attempt of a previous job) wrap around: ignore them.
        guard begin < UInt64(Int64.max), end < UInt64(Int64.max) else { return }
        while end / cellNanos >= UInt64(Self.columns) { coarsen() }
        if index >= owners.count {
            owners += Array(repeating: Self.departedLane, count: index + 1 - owners.count)
            lanes += Array(repeating: [], count: index + 1 - lanes.count)
        }
        if owners[index] != worker {
            if owners[index] != Self.departedLane { retire(owners[index]) }
            if let old = laneOfWorker[worker] { retire(worker, from: old) }
            owners[index] = worker
            laneOfWorker[worker] = index
        }
        if lanes[index].isEmpty { lanes[index] = Array(repeating: .empty, count: Self.columns) }
        // The cells the stretch overlaps; its end is exclusive, so a chunk that ends where the
        // next begins does not spill into the next one's cell.
        let last = end > begin ? (end - 1) / cellNanos : begin / cellNanos
        for x in Int(begin / cellNanos)...Int(last) {
            lanes[index][x] = TimelineMark.merged(lanes[index][x], mark)
        }
    }

    /// `worker`'s row was freed for another: its lane joins the departed lane and its place is
    /// free, so the timeline's memory stays bounded however many workers come and go.
    public mutating func retire(_ worker: WorkerID) {
        guard let index = laneOfWorker[worker] else { return }
        retire(worker, from: index)
    }

    private mutating func retire(_ worker: WorkerID, from index: Int) {
        laneOfWorker[worker] = nil
        owners[index] = Self.departedLane
        if !lanes[index].isEmpty {
            departed = departed.isEmpty ? lanes[index] : zip(departed, lanes[index]).map(TimelineMark.merged)
            departedCount += 1
        }
        lanes[index] = []
    }

    /// Halves the resolution: cell pairs merge into the first half, the second half is empty.
    private mutating func coarsen() {
        cellNanos *= 2
        for i in lanes.indices where !lanes[i].isEmpty { Self.coarsen(&lanes[i]) }
        if !departed.isEmpty { Self.coarsen(&departed) }
    }

    private static func coarsen(_ lane: inout [TimelineMark]) {
        for x in 0..<(columns / 2) { lane[x] = TimelineMark.merged(lane[2 * x], lane[2 * x + 1]) }
        for x in (columns / 2)..<columns { lane[x] = .empty }
    }

    /// Stands for the departed workers (`departed`) where a worker's id is asked for.
    public static let departedLane = WorkerID(0)

    /// The lane of `worker` (or the departed ones', for `departedLane`), or nil if it never did
    /// anything in this job.
    public func lane(of worker: WorkerID) -> [TimelineMark]? {
        if worker == Self.departedLane { return departed.isEmpty ? nil : departed }
        guard let index = laneOfWorker[worker], !lanes[index].isEmpty else { return nil }
        return lanes[index]
    }

    /// A lane cell's index, clamped to just outside the lane before it becomes an Int: times far
    /// from the job's (a forged recording's) must not trap. Inside the lane, unchanged.
    static func cellIndex(_ value: Double) -> Int {
        guard value.isFinite else { return value > 0 ? columns : -1 }
        return Int(min(max(value, -1), Double(columns)))
    }

    /// The marks from `from` to `to` seconds after the job's start on `worker`'s lane, as
    /// `width` screen cells, each the merge of the lane cells it covers.
    public func cells(of worker: WorkerID, from: Double, to: Double, width: Int) -> [TimelineMark] {
        guard width > 0 else { return [] }
        guard let lane = lane(of: worker) else { return Array(repeating: .empty, count: width) }
        let cellSeconds = Double(cellNanos) / 1e9
        let span = max(to - from, 1e-9)
        return (0..<width).map { x in
            let t0 = from + span * Double(x) / Double(width)
            let t1 = from + span * Double(x + 1) / Double(width)
            // A screen cell takes the lane cells whose middle falls inside it, or, when it is
            // narrower than one, the lane cell it starts in.
            var first = Self.cellIndex((t0 / cellSeconds - 0.5).rounded(.up))
            var last = Self.cellIndex((t1 / cellSeconds - 0.5).rounded(.up)) - 1
            if last < first { first = Self.cellIndex((t0 / cellSeconds).rounded(.down)); last = first }
            first = max(0, first)
            last = min(Self.columns - 1, last)
            guard first <= last else { return .empty }
            return lane[first...last].reduce(.empty, TimelineMark.merged)
        }
    }
}

extension JobTimeline {
    /// A timeline's whole state, as a recording keeps it; `init(parts:)` rebuilds the same one.
    public struct Parts: Sendable, Equatable, Codable {
        public var job: JobID
        public var startNanos: UInt64
        public var cellNanos: UInt64
        public var lanes: [[TimelineMark]]
        /// Whose each lane is (`departedLane`: nobody's).
        public var owners: [WorkerID]
        public var departed: [TimelineMark]
        public var departedCount: Int

        public init(job: JobID, startNanos: UInt64, cellNanos: UInt64, lanes: [[TimelineMark]], owners: [WorkerID],
                    departed: [TimelineMark], departedCount: Int) {
            self.job = job
            self.startNanos = startNanos
            self.cellNanos = cellNanos
            self.lanes = lanes
            self.owners = owners
            self.departed = departed
            self.departedCount = departedCount
        }
    }

    public var parts: Parts {
        Parts(job: job, startNanos: startNanos, cellNanos: cellNanos, lanes: lanes, owners: owners,
              departed: departed, departedCount: departedCount)
    }

    /// The timeline `parts` describe. Parts that do not fit together (lanes and owners of
    /// different counts, a lane of another width, a cell of no time) give nil: a recording may
    /// be damaged or forged.
    public init?(parts: Parts) {
        guard parts.lanes.count == parts.owners.count, parts.cellNanos > 0,
              parts.lanes.allSatisfy({ $0.isEmpty || $0.count == Self.columns }),
              parts.departed.isEmpty || parts.departed.count == Self.columns else { return nil }
        self.init(job: parts.job, startNanos: parts.startNanos)
        cellNanos = parts.cellNanos
        lanes = parts.lanes
        owners = parts.owners
        departed = parts.departed
        departedCount = parts.departedCount
        for (index, owner) in parts.owners.enumerated() where owner != Self.departedLane { laneOfWorker[owner] = index }
    }
}
