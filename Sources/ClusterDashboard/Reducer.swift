import ClusterEngine

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
        if state.showHelp, action != .quit, action != .redraw {
            state.showHelp = false  // any other key closes the help overlay
            return []
        }
        guard let action else { return [] }
        return perform(action, on: &state, snapshot: snapshot, pageSize: max(1, pageSize))
    }

    /// The worker the selection points at: the chosen one, or else the first.
    public static func selectedIndex(_ state: ViewState, in snapshot: ClusterSnapshot) -> Int? {
        guard !snapshot.workers.isEmpty else { return nil }
        if let id = state.selectedWorker, let i = snapshot.workers.firstIndex(where: { $0.id == id }) { return i }
        return 0
    }

    private static func perform(_ action: DashboardAction, on state: inout ViewState,
                                snapshot: ClusterSnapshot, pageSize: Int) -> [EngineCommand] {
        let workers = snapshot.workers
        let index = selectedIndex(state, in: snapshot)
        let selected = index.map { workers[$0] }
        // The order the arrows move in: the grid's (by host), or the table's.
        let order = state.panel == .grid ? GridView.groups(snapshot).flatMap(\.members) : Array(workers.indices)
        let position = index.flatMap { order.firstIndex(of: $0) }
        func select(_ i: Int) {
            guard !order.isEmpty else { return }
            state.selectedWorker = workers[order[min(max(0, i), order.count - 1)]].id
        }
        func say(_ text: String, error: Bool = true) {
            state.status = StatusMessage(text: text, isError: error, since: snapshot.time)
        }
        switch action {
        case .selectPrevious: select((position ?? 0) - 1)
        case .selectNext: select((position ?? -1) + 1)
        case .selectPageUp: select((position ?? 0) - pageSize)
        case .selectPageDown: select((position ?? 0) + pageSize)
        case .selectFirst: select(0)
        case .selectLast: select(order.count - 1)
        case .addWorker:
            return [.addWorker]
        case .removeWorker:
            guard let w = selected else { say("no worker selected"); return [] }
            if w.state == .removed { say("\(w.id) is already removed"); return [] }
            if w.isLeaving { say("\(w.id) is already leaving after its chunk"); return [] }
            return [.remove(w.id)]
        case .togglePause:
            guard let w = selected else { say("no worker selected"); return [] }
            switch w.state {
            case .paused, .pausing: return [.resume(w.id)]
            case .running, .idle:
                if w.isLeaving { say("\(w.id) is leaving; it cannot be paused"); return [] }
                return [.pause(w.id)]
            case .dead: say("\(w.id) is dead: press r to restart it"); return []
            case .removed: say("\(w.id) is removed"); return []
            }
        case .togglePauseAll:
            let active = workers.filter { ($0.state == .running || $0.state == .idle) && !$0.isLeaving }
            if !active.isEmpty { return active.map { .pause($0.id) } }
            return workers.filter { $0.state == .paused || $0.state == .pausing }.map { .resume($0.id) }
        case .killWorker:
            guard let w = selected else { say("no worker selected"); return [] }
            if w.state == .dead || w.state == .removed { say("\(w.id) is already \(w.state.rawValue)"); return [] }
            return [.kill(w.id)]
        case .restartWorker:
            guard let w = selected else { say("no worker selected"); return [] }
            guard w.state == .dead else { say("\(w.id) is \(w.state.rawValue), not dead: only dead workers restart"); return [] }
            return [.restart(w.id)]
        case .restartAllDead:
            let dead = workers.filter { $0.state == .dead }
            if dead.isEmpty { say("no dead workers") }
            return dead.map { .restart($0.id) }
        case .throttleWorker:
            guard let w = selected, w.state != .removed else { say("no live worker selected"); return [] }
            let next = throttleSteps.first { $0 < w.speed - 1e-9 } ?? throttleSteps[0]
            return [.setSpeed(w.id, next)]
        case .fullSpeedAll:
            return workers.filter { $0.state != .removed && $0.speed < 1 }.map { .setSpeed($0.id, 1) }
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
            state.quitRequested = true
        case .redraw:
            state.fullRedrawRequested = true
        }
        return []
    }

    private static func editPrompt(_ state: inout ViewState, key: Key, snapshot: ClusterSnapshot) -> [EngineCommand] {
        guard var prompt = state.prompt else { return [] }
        switch key {
        case .escape:
            state.prompt = nil
            return []
        case .enter:
            do {
                let (lo, hi) = try InputParsing.range(prompt.text)
                let spec = try JobSpec(lo: lo, hi: hi, chunkSize: state.nextChunkSize, schedule: state.nextSchedule)
                state.prompt = nil
                let running = snapshot.job.map { !$0.status.isFinished } ?? false
                state.status = StatusMessage(
                    text: running ? "job queued: it starts when the current one finishes" : "job started",
                    isError: false, since: snapshot.time)
                return [.submit(spec)]
            } catch let error as InputError {
                prompt.error = error.description
            } catch let error as JobSpecError {
                prompt.error = error.description
            } catch {
                prompt.error = "\(error)"
            }
        case .backspace:
            if !prompt.text.isEmpty { prompt.text.removeLast() }
            prompt.error = nil
        case .character(let c) where c.isASCII && !c.isNewline && prompt.text.count < promptLimit:
            prompt.text.append(c)
            prompt.error = nil
        case .control("l"):
            state.fullRedrawRequested = true
        default:
            break
        }
        state.prompt = prompt
        return []
    }
}
