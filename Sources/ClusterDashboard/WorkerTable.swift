import ClusterEngine

/// The machine a worker runs on: this one, or a remote one by the name it gave. Keyed apart from
/// host names, so a remote machine called "local" is not merged with this one's threads.
public enum HostKey: Hashable, Sendable {
    case local
    case remote(String)

    init(_ worker: WorkerSnapshot) { self = worker.remote.map { .remote($0.host) } ?? .local }

    public var name: String {
        switch self {
        case .local: return "local"
        case .remote(let host): return host
        }
    }
}

/// The order of the table's rows, the grid's hosts and the timeline's lanes (`o` cycles it).
public enum WorkerSort: String, CaseIterable, Sendable {
    case id, host, rate, state, chunks

    public var next: WorkerSort {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }

    /// How the status line and the table's header say it.
    public var label: String {
        switch self {
        case .id: return "id"
        case .host: return "host"
        case .rate: return "rate, fastest first"
        case .state: return "state, dead and paused first"
        case .chunks: return "chunks done, most first"
        }
    }

    /// The table column it sorts, marked in the header.
    var column: String {
        switch self {
        case .id: return "ID"
        case .host: return "WHERE"
        case .rate: return "RATE"
        case .state: return "STATE"
        case .chunks: return "CHUNKS"
        }
    }

    /// States that need a person's eye first.
    static func severity(_ w: WorkerSnapshot) -> Int {
        switch w.state {
        case .dead: return 0
        case .paused, .pausing: return 1
        case .idle: return 2
        case .running: return w.isLagging ? 3 : w.isLeaving ? 4 : 5
        case .removed: return 6
        }
    }
}

/// A filter typed after `/`: a worker matches when its host's name contains the text or its state
/// starts with it ("pa" finds paused and pausing; "lag" finds stragglers), ignoring case.
public struct WorkerFilter: Equatable, Sendable {
    public let text: String

    public init?(_ text: String) {
        let trimmed = text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()
        guard !trimmed.isEmpty else { return nil }
        self.text = String(trimmed)
    }

    func matches(_ w: WorkerSnapshot) -> Bool {
        let needle = text.lowercased()
        let state = w.isLeaving ? "leaving" : w.state.rawValue
        return HostKey(w).name.lowercased().contains(needle) || state.hasPrefix(needle)
            || (w.isLagging && w.isSumming && "lagging".hasPrefix(needle))
    }
}

/// The worker table's rows. With workers on more than one machine, each host gets a row of its
/// own (its threads' total rate, chunk progress and states) that expands to its threads, as htop's
/// tree does; hosts start collapsed when their threads' rows would not fit. Removed workers are
/// one row, a count. Rows follow the chosen sort and filter.
struct WorkerTable {
    enum Row: Equatable {
        /// Index into `groups`.
        case host(Int)
        /// Index into the snapshot's workers.
        case worker(Int)
        /// How many workers were removed (among those the filter lets through).
        case departed(Int)
    }

    let rows: [Row]
    /// The hosts, sorted and filtered, when the table groups by host; else empty.
    let groups: [GridView.Group]
    /// The live workers the filter lets through, in the sort's order, hosts' threads together
    /// when grouped: the timeline's lanes.
    let ordered: [Int]
    /// Workers the filter lets through, and all workers (both counting the removed).
    let matching: Int, total: Int
    var isGrouped: Bool { !groups.isEmpty }

    init(_ snapshot: ClusterSnapshot, _ state: ViewState) {
        let workers = snapshot.workers
        let filter = state.filter
        let passes = { (i: Int) in filter?.matches(workers[i]) ?? true }
        let sort = state.sort
        let keys = workers.map { (host: GridView.NameKey(HostKey($0).name), isLocal: $0.remote == nil) }
        func before(_ a: Int, _ b: Int) -> Bool {
            let x = workers[a], y = workers[b]
            switch sort {
            case .id: break
            case .host:
                if keys[a].isLocal != keys[b].isLocal { return keys[a].isLocal }
                if keys[a].host != keys[b].host { return keys[a].host < keys[b].host }
            case .rate:
                let rx = x.isSumming ? x.throughput : -1, ry = y.isSumming ? y.throughput : -1
                if rx != ry { return rx > ry }
            case .state:
                let sx = WorkerSort.severity(x), sy = WorkerSort.severity(y)
                if sx != sy { return sx < sy }
            case .chunks:
                if x.chunksDone != y.chunksDone { return x.chunksDone > y.chunksDone }
            }
            return x.id < y.id
        }
        total = workers.count
        matching = workers.indices.filter(passes).count
        let departed = workers.indices.filter { workers[$0].state == .removed && passes($0) }.count
        let tail: [Row] = departed > 0 ? [.departed(departed)] : []

        let allGroups = GridView.groups(snapshot)
        // One machine's threads need no host rows: the table stays as it always was.
        guard allGroups.count > 1 || workers.contains(where: { $0.remote != nil }) else {
            groups = []
            ordered = workers.indices.filter { workers[$0].state != .removed && passes($0) }.sorted(by: before)
            rows = ordered.map(Row.worker) + tail
            return
        }
        var shown: [(group: GridView.Group, key: (rate: Double, severity: Int, chunks: Int, firstID: WorkerID))] = []
        for var group in allGroups {
            group.members = group.members.filter(passes).sorted(by: before)
            guard !group.members.isEmpty else { continue }
            let members = group.members.map { workers[$0] }
            let key = (rate: group.rate(in: workers), severity: members.map(WorkerSort.severity).min() ?? 6,
                       chunks: members.reduce(0) { $0 + $1.chunksDone }, firstID: members.map(\.id).min()!)
            shown.append((group, key))
        }
        // Hosts in the sort's order; `groups` already puts local first, then names naturally.
        let position = Dictionary(uniqueKeysWithValues: allGroups.enumerated().map { ($1.key, $0) })
        shown.sort { a, b in
            switch sort {
            case .id: if a.key.firstID != b.key.firstID { return a.key.firstID < b.key.firstID }
            case .host: break
            case .rate: if a.key.rate != b.key.rate { return a.key.rate > b.key.rate }
            case .state: if a.key.severity != b.key.severity { return a.key.severity < b.key.severity }
            case .chunks: if a.key.chunks != b.key.chunks { return a.key.chunks > b.key.chunks }
            }
            return position[a.group.key]! < position[b.group.key]!
        }
        groups = shown.map(\.group)
        ordered = groups.flatMap(\.members)
        // Expanded while every thread's row fits, unless the person said otherwise for a host.
        let fits = groups.count + ordered.count + tail.count <= state.tableCapacity
        var rows: [Row] = []
        for (g, group) in groups.enumerated() {
            rows.append(.host(g))
            if state.hostExpanded[group.key] ?? fits { rows += group.members.map(Row.worker) }
        }
        self.rows = rows + tail
    }

    /// Whether a host's threads are listed under it.
    func isExpanded(_ group: Int) -> Bool {
        guard let at = rows.firstIndex(of: .host(group)), at + 1 < rows.count else { return false }
        if case .worker = rows[at + 1] { return true }
        return false
    }

    /// The row the selection is on: the selected host's, or the selected worker's (its host's
    /// when the host is collapsed), or the first worker's.
    func selectedRow(_ state: ViewState, _ snapshot: ClusterSnapshot) -> Int? {
        if let host = state.selectedHost, let g = groups.firstIndex(where: { $0.key == host }) {
            return rows.firstIndex(of: .host(g))
        }
        if let id = state.selectedWorker, let i = snapshot.workers.firstIndex(where: { $0.id == id }) {
            if let row = rows.firstIndex(of: .worker(i)) { return row }
            if let g = groups.firstIndex(where: { $0.members.contains(i) }) { return rows.firstIndex(of: .host(g)) }
        }
        // Nothing chosen yet: the first worker, as without host rows; its host if folded.
        return rows.firstIndex { if case .worker = $0 { return true } else { return false } }
            ?? rows.firstIndex { if case .host = $0 { return true } else { return false } }
    }
}
