import ClusterModel

/// The selection: which worker keys act on, in the panel shown, and the order the arrows move in.
extension Reducer {
    /// The worker the selection points at, always one the panel shown shows: the chosen one if
    /// it is shown, else the shown one nearest it (a filter or a fold hid it), or the panel's
    /// first when nothing was chosen. Nil when the panel shows no worker: keys that act on a
    /// worker then say so instead of acting on one out of sight.
    public static func selectedIndex(_ state: ViewState, in snapshot: ClusterSnapshot) -> Int? {
        selectedIndex(state, in: snapshot, table: WorkerTable(snapshot, state))
    }

    static func selectedIndex(_ state: ViewState, in snapshot: ClusterSnapshot, table: WorkerTable) -> Int? {
        let shown = shownWorkers(state, snapshot, table: table)
        guard let first = shown.first else { return nil }
        guard let id = state.selectedWorker, let chosen = snapshot.workers.firstIndex(where: { $0.id == id }) else {
            return first
        }
        if shown.contains(chosen) { return chosen }
        // The nearest by id (the snapshot is in id order); of two as near, the later one.
        return shown.min { (abs($0 - chosen), $0 < chosen ? 1 : 0) < (abs($1 - chosen), $1 < chosen ? 1 : 0) }
    }

    /// The workers the panel shown lets one select, in its order: the table's rows (a folded
    /// host's row standing for its threads), the grid's cells, the timeline's lanes (which the
    /// speedup and jobs panels' selection line follows too). The filter applies to all.
    static func shownWorkers(_ state: ViewState, _ snapshot: ClusterSnapshot, table: WorkerTable) -> [Int] {
        switch state.panel {
        case .workers:
            var shown: [Int] = []
            for (at, row) in table.rows.enumerated() {
                switch row {
                case .host(let g):
                    // Folded (no thread's row follows): the host's row stands for its threads.
                    let next = at + 1 < table.rows.count ? table.rows[at + 1] : nil
                    if case .worker = next {} else { shown += table.groups[g].members }
                case .worker(let i): shown.append(i)
                case .departed: break
                }
            }
            return shown
        case .grid: return GridView.groups(snapshot, filter: state.filter).flatMap(\.members)
        default: return table.ordered
        }
    }

    /// The order the arrows move in, in the panel shown: the table's rows (hosts and workers),
    /// the grid's cells, or the timeline's lanes.
    enum Stop: Equatable {
        case host(HostKey, first: Int)
        case worker(Int)
    }

    static func stops(_ state: ViewState, _ snapshot: ClusterSnapshot, table: WorkerTable) -> [Stop] {
        switch state.panel {
        case .workers:
            return table.rows.compactMap { row in
                switch row {
                case .host(let g): return .host(table.groups[g].key, first: table.groups[g].members[0])
                case .worker(let i): return .worker(i)
                case .departed: return nil
                }
            }
        case .grid: return GridView.groups(snapshot, filter: state.filter).flatMap(\.members).map(Stop.worker)
        default: return table.ordered.map(Stop.worker)
        }
    }
}
