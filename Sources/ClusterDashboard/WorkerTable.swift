import ClusterModel

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
        // Host names split for natural order only when sorting by host: every frame, every worker.
        let hostKeys = sort == .host ? workers.map { GridView.NameKey(HostKey($0).name) } : []
        // Fields read in place: copying two worker snapshots per comparison cost more than the sort.
        func before(_ a: Int, _ b: Int) -> Bool {
            switch sort {
            case .id: break
            case .host:
                let localA = workers[a].remote == nil, localB = workers[b].remote == nil
                if localA != localB { return localA }
                if hostKeys[a] != hostKeys[b] { return hostKeys[a] < hostKeys[b] }
            case .rate:
                let ra = workers[a].isSumming ? workers[a].throughput : -1, rb = workers[b].isSumming ? workers[b].throughput : -1
                if ra != rb { return ra > rb }
            case .state:
                let sa = WorkerSort.severity(workers[a]), sb = WorkerSort.severity(workers[b])
                if sa != sb { return sa < sb }
            case .chunks:
                if workers[a].chunksDone != workers[b].chunksDone { return workers[a].chunksDone > workers[b].chunksDone }
            }
            return workers[a].id < workers[b].id
        }
        // The snapshot lists workers in id order already.
        func sorted(_ indices: [Int]) -> [Int] { sort == .id ? indices : indices.sorted(by: before) }
        total = workers.count
        matching = workers.indices.filter(passes).count
        let departed = workers.indices.filter { workers[$0].state == .removed && passes($0) }.count
        let tail: [Row] = departed > 0 ? [.departed(departed)] : []

        let allGroups = GridView.groups(snapshot)
        // One machine's threads need no host rows: the table stays as it always was.
        guard allGroups.count > 1 || workers.contains(where: { $0.remote != nil }) else {
            groups = []
            ordered = sorted(workers.indices.filter { workers[$0].state != .removed && passes($0) })
            rows = ordered.map(Row.worker) + tail
            return
        }
        // Each host's sort key, smaller first, then its place in `groups`' order (local first,
        // then names naturally).
        var shown: [(group: GridView.Group, key: Double, position: Int)] = []
        for (position, var group) in allGroups.enumerated() {
            let members = group.members.filter(passes)
            guard let first = members.first else { continue }
            let key: Double
            switch sort {
            case .id: key = Double(workers[first].id.rawValue)
            case .host: key = 0
            case .rate: key = -members.reduce(0) { workers[$1].isSumming ? $0 + workers[$1].throughput : $0 }
            case .state: key = Double(members.map { WorkerSort.severity(workers[$0]) }.min()!)
            case .chunks: key = -Double(members.reduce(0) { $0 + workers[$1].chunksDone })
            }
            group.members = sorted(members)
            shown.append((group, key, position))
        }
        shown.sort { ($0.key, $0.position) < ($1.key, $1.position) }
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
        // The selected worker as the table shows it (the nearest shown one if the filter hides
        // it): its row, or its folded host's.
        var table = state
        table.panel = .workers
        guard let i = Reducer.selectedIndex(table, in: snapshot, table: self) else { return nil }
        if let row = rows.firstIndex(of: .worker(i)) { return row }
        if let g = groups.firstIndex(where: { $0.members.contains(i) }) { return rows.firstIndex(of: .host(g)) }
        return nil
    }
}
