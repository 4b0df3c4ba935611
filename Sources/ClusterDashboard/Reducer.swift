import ClusterModel

/// Key handling as a pure state transition: (view state, key, snapshot) → new view state and the
/// engine commands to carry out. No terminal and no engine needed to test it.
public enum Reducer {
    /// Speeds `t` steps through, fastest first.
    public static let throttleSteps: [Double] = [1, 0.5, 0.25, 0.1, 0.02]
    static let promptLimit = 80
    /// Lines of the event log per [ or ].
    static let logScrollStep = 5

    public static func reduce(_ state: inout ViewState, key: Key, snapshot: ClusterSnapshot,
                              pageSize: Int) -> [EngineCommand] {
        if key == .resize { return [] }
        if state.prompt != nil { return editPrompt(&state, key: key, snapshot: snapshot) }
        let action = KeyMap.action(for: key)
        // An overlay takes every key: it is what the person is looking at.
        if state.confirmingQuit != nil {
            state.confirmingQuit = nil
            if key == .character("y") || key == .character("Y") { state.quitRequested = true }
            return []
        }
        if state.showHelp, action != .redraw {
            state.showHelp = false  // any key closes the help overlay, q included
            return []
        }
        guard let action else { return [] }
        return perform(action, on: &state, snapshot: snapshot, pageSize: max(1, pageSize))
    }

    /// Rows the wheel moves the selection by, per notch.
    static let wheelStep = 3

    /// A click or a turn of the wheel on `target`, what the last frame drew where it landed.
    public static func click(_ state: inout ViewState, _ event: MouseEvent, on target: ClickTarget?,
                             snapshot: ClusterSnapshot, pageSize: Int) -> [EngineCommand] {
        // A prompt waits for its text; the help overlay closes on a click as on a key.
        if state.prompt != nil { return [] }
        if state.showHelp || state.confirmingQuit != nil {
            state.showHelp = false
            state.confirmingQuit = nil
            return []
        }
        func act(_ action: DashboardAction) -> [EngineCommand] {
            perform(action, on: &state, snapshot: snapshot, pageSize: max(1, pageSize))
        }
        switch event.kind {
        case .wheelUp, .wheelDown:
            let up = event.kind == .wheelUp
            if target == .eventLog { return act(up ? .logOlder : .logNewer) }
            return (0..<wheelStep).flatMap { _ in act(up ? .selectPrevious : .selectNext) }
        case .press:
            switch target {
            case .worker(let id):
                state.selectedWorker = id
                state.selectedHost = nil
            case .host(let key, let first):
                // A click on the selected host's row folds or unfolds it.
                if state.selectedHost == key { return act(.toggleHost) }
                state.selectedHost = key
                state.selectedWorker = first
            case .action(let action):
                return act(action)
            case .eventLog, nil:
                break
            }
            return []
        }
    }


    private static func perform(_ action: DashboardAction, on state: inout ViewState,
                                snapshot: ClusterSnapshot, pageSize: Int) -> [EngineCommand] {
        let workers = snapshot.workers
        // P, T and R act on every worker the filter shows (all of them without one).
        let everyShown = state.filter.map { filter in workers.filter(filter.matches) } ?? workers
        let table = WorkerTable(snapshot, state)
        let index = selectedIndex(state, in: snapshot, table: table)
        let selected = index.map { workers[$0] }
        // In the table, a host's row may hold the selection: keys then act on all its threads.
        let selectedRow = state.panel == .workers ? table.selectedRow(state, snapshot) : nil
        // What keys act on is what the screen shows selected, from now on too.
        if let selected, state.selectedHost == nil || state.panel != .workers { state.selectedWorker = selected.id }
        let host: GridView.Group? = selectedRow.flatMap {
            if case .host(let g) = table.rows[$0] { return table.groups[g] } else { return nil }
        }
        let threads = host.map { $0.members.map { workers[$0] } } ?? []
        let order = stops(state, snapshot, table: table)
        // The table's stops are its rows, the departed count (always last) left out.
        let position = state.panel == .workers ? selectedRow : index.flatMap { order.firstIndex(of: .worker($0)) }
        func select(_ i: Int) {
            guard !order.isEmpty else { return }
            switch order[min(max(0, i), order.count - 1)] {
            case .host(let key, let first):
                state.selectedHost = key
                state.selectedWorker = workers[first].id
            case .worker(let w):
                state.selectedHost = nil
                state.selectedWorker = workers[w].id
            }
        }
        func say(_ text: String, error: Bool = true) {
            state.status = StatusMessage(text: text, isError: error, since: snapshot.time)
        }
        // Keys that act on a worker, when the panel shows none.
        let nothingSelected = state.filter.map { "nothing selected: no worker shown matches \"\($0.text)\"" }
            ?? "no worker selected"
        if let host, let commands = hostCommands(action, host: host.name, threads: threads, say: say) {
            return commands
        }
        switch action {
        case .selectPrevious: select((position ?? 0) - 1)
        case .selectNext: select((position ?? -1) + 1)
        case .selectPageUp: select((position ?? 0) - pageSize)
        case .selectPageDown: select((position ?? 0) + pageSize)
        case .selectFirst: select(0)
        case .selectLast: select(order.count - 1)
        case .expandHost, .collapseHost, .toggleHost:
            guard state.panel == .workers, table.isGrouped else { return [] }
            // On a thread's row, ← folds its host and moves the selection onto the host's row.
            let group = host ?? index.flatMap { i in table.groups.first { $0.members.contains(i) } }
            guard let group, let g = table.groups.firstIndex(where: { $0.key == group.key }) else { return [] }
            let expand = action == .toggleHost ? !table.isExpanded(g) : action == .expandHost
            if host == nil, expand { return [] }
            state.hostExpanded[group.key] = expand
            if !expand {
                state.selectedHost = group.key
                state.selectedWorker = workers[group.members[0]].id
            }
        case .cycleSort:
            state.sort = state.sort.next
            say("sorted by \(state.sort.label)", error: false)
        case .filter:
            state.prompt = JobPrompt(text: state.filter?.text ?? "", purpose: .filter)
        case .clearFilter:
            if state.filter != nil {
                state.filter = nil
                say("filter cleared: every worker shown", error: false)
            }
        case .addWorker:
            return [.addWorker]
        case .removeWorker:
            guard let w = selected else { say(nothingSelected); return [] }
            if w.state == .removed { say("\(w.id) is already removed"); return [] }
            if w.isLeaving { say("\(w.id) is already leaving after its chunk"); return [] }
            return [.remove(w.id)]
        case .togglePause:
            guard let w = selected else { say(nothingSelected); return [] }
            switch w.state {
            case .paused, .pausing: return [.resume(w.id)]
            case .running, .idle:
                if w.isLeaving { say("\(w.id) is leaving; it cannot be paused"); return [] }
                return [.pause(w.id)]
            case .dead: say("\(w.id) is dead: press r to restart it"); return []
            case .removed: say("\(w.id) is removed"); return []
            }
        case .togglePauseAll:
            // As htop's toggles: any paused means resume them all; else pause every active one.
            let paused = everyShown.filter { $0.state == .paused || $0.state == .pausing }
            if !paused.isEmpty { return paused.map { .resume($0.id) } }
            return everyShown.filter { ($0.state == .running || $0.state == .idle) && !$0.isLeaving }.map { .pause($0.id) }
        case .killWorker:
            guard let w = selected else { say(nothingSelected); return [] }
            if w.state == .dead || w.state == .removed { say("\(w.id) is already \(w.state.rawValue)"); return [] }
            return [.kill(w.id)]
        case .restartWorker:
            guard let w = selected else { say(nothingSelected); return [] }
            guard w.state == .dead else { say("\(w.id) is \(w.state.rawValue), not dead: only dead workers restart"); return [] }
            return [.restart(w.id)]
        case .restartAllDead:
            let dead = everyShown.filter { $0.state == .dead }
            if dead.isEmpty { say("no dead workers") }
            return dead.map { .restart($0.id) }
        case .throttleWorker:
            guard let w = selected, w.state != .removed else { say(selected == nil ? nothingSelected : "no live worker selected"); return [] }
            let next = throttleSteps.first { $0 < w.speed - 1e-9 } ?? throttleSteps[0]
            return [.setSpeed(w.id, next)]
        case .fullSpeedAll:
            return everyShown.filter { $0.state != .removed && $0.speed < 1 }.map { .setSpeed($0.id, 1) }
        case .cycleKernel:
            let next = snapshot.kernel.next
            say("kernel \(next) from the next sub-block on, for this machine's workers", error: false)
            return [.setKernel(next)]
        case .cycleSchedule:
            let cycle: [SchedulePolicy] = [.dynamic, .static, .stealing]
            state.nextSchedule = cycle[((cycle.firstIndex(of: state.nextSchedule) ?? 0) + 1) % cycle.count]
            say("new jobs (n) will use the \(state.nextSchedule.label) schedule", error: false)
        case .cyclePanel:
            state.panel = state.panel.next
        case .logOlder:
            state.logScroll += Reducer.logScrollStep
        case .logNewer:
            state.logScroll = max(0, state.logScroll - Reducer.logScrollStep)
        case .measureSpeedup:
            state.speedupMeasureRequested = true
            state.panel = .speedup
        case .zoomTimeline:
            // From any view: the timeline, zoomed the other way.
            if state.panel == .timeline { state.timelineZoom = state.timelineZoom == .wholeJob ? .recent : .wholeJob }
            state.panel = .timeline
        case .newJob:
            state.prompt = JobPrompt()
        case .help:
            state.showHelp.toggle()
        case .quit:
            // Workers of other machines joined: ask first, saying how many would be released.
            // A replay releases nobody.
            if !state.isReplay, let confirmation = QuitConfirmation(snapshot) { state.confirmingQuit = confirmation } else { state.quitRequested = true }
        case .redraw:
            state.fullRedrawRequested = true
        }
        return []
    }

    /// What a key does on a host's row, to all its threads; nil for keys that do not act on
    /// workers (moving, views, …).
    private static func hostCommands(_ action: DashboardAction, host: String, threads: [WorkerSnapshot],
                                     say: (String, Bool) -> Void) -> [EngineCommand]? {
        func none(_ why: String) -> [EngineCommand] {
            say("\(host): \(why)", true)
            return []
        }
        switch action {
        case .removeWorker:
            let staying = threads.filter { $0.state != .removed && !$0.isLeaving }
            return staying.isEmpty ? none("every thread is already leaving") : staying.map { .remove($0.id) }
        case .togglePause:
            // As P does: any thread paused means resume them; else pause the active ones.
            let paused = threads.filter { $0.state == .paused || $0.state == .pausing }
            if !paused.isEmpty { return paused.map { .resume($0.id) } }
            let active = threads.filter { ($0.state == .running || $0.state == .idle) && !$0.isLeaving }
            return active.isEmpty ? none("no thread to pause or resume") : active.map { .pause($0.id) }
        case .killWorker:
            let live = threads.filter { $0.state != .dead && $0.state != .removed }
            return live.isEmpty ? none("every thread is already dead") : live.map { .kill($0.id) }
        case .restartWorker:
            let dead = threads.filter { $0.state == .dead }
            return dead.isEmpty ? none("no dead thread to restart") : dead.map { .restart($0.id) }
        case .throttleWorker:
            // One step down from the fastest thread, for all: the host slows as one machine.
            let fastest = threads.map(\.speed).max() ?? 1
            let next = throttleSteps.first { $0 < fastest - 1e-9 } ?? throttleSteps[0]
            return threads.map { .setSpeed($0.id, next) }
        default:
            return nil
        }
    }
}
