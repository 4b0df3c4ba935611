import Testing
@testable import ClusterEngine
@testable import ClusterDashboard

/// Every key of `KeyMap`, pressed on a hand-built snapshot with no cluster behind it: the commands
/// the reducer returns are the whole of what a key asks of the engine. A new action fails to
/// compile here until its expectation is written down.
@Suite("Every key, through the reducer")
struct KeyMapWalkTests {
    /// Worker 1 running (selected, as the first shown), 2 paused at half speed, 3 dead.
    static func snapshot() -> ClusterSnapshot {
        Fixtures.snapshot(workers: [Fixtures.worker(1), Fixtures.worker(2, .paused, speed: 0.5),
                                    Fixtures.worker(3, .dead, chunk: nil)],
                          job: try? Fixtures.job())
    }

    /// What pressing a key for `action` from a fresh view state must return, and what it must
    /// leave in the view state.
    static func expected(_ action: DashboardAction, kernel: KernelVariant)
        -> (commands: [EngineCommand], holds: (ViewState) -> Bool) {
        let w1 = WorkerID(1), w2 = WorkerID(2), w3 = WorkerID(3)
        let fresh = ViewState()
        /// Nothing changed but the selection pinned to the worker it stood for (the first shown).
        func unchanged(_ state: ViewState) -> Bool {
            var rest = state
            rest.selectedWorker = nil
            return rest == fresh && (state.selectedWorker ?? w1) == w1
        }
        switch action {
        case .selectPrevious, .selectFirst, .selectPageUp: return ([], { $0.selectedWorker == w1 })
        case .selectNext: return ([], { $0.selectedWorker == w2 })
        case .selectPageDown, .selectLast: return ([], { $0.selectedWorker == w3 })
        // No host rows: one machine's threads keep the plain table.
        case .expandHost, .collapseHost, .toggleHost: return ([], unchanged)
        case .addWorker: return ([.addWorker], unchanged)
        case .removeWorker: return ([.remove(w1)], unchanged)
        case .togglePause: return ([.pause(w1)], unchanged)
        // One is paused: P resumes, as htop's toggles do.
        case .togglePauseAll: return ([.resume(w2)], unchanged)
        case .killWorker: return ([.kill(w1)], unchanged)
        case .restartWorker: return ([], { $0.status?.isError == true })
        case .restartAllDead: return ([.restart(w3)], unchanged)
        case .throttleWorker: return ([.setSpeed(w1, 0.5)], unchanged)
        case .fullSpeedAll: return ([.setSpeed(w2, 1)], unchanged)
        case .cycleKernel: return ([.setKernel(kernel.next)], { $0.status?.isError == false })
        case .cycleSchedule: return ([], { $0.nextSchedule == .static })
        case .cyclePanel: return ([], { $0.panel == .grid })
        case .zoomTimeline: return ([], { $0.panel == .timeline })
        case .logOlder: return ([], { $0.logScroll == Reducer.logScrollStep })
        case .logNewer: return ([], unchanged)
        case .measureSpeedup: return ([], { $0.speedupMeasureRequested && $0.panel == .speedup })
        case .newJob: return ([], { $0.prompt?.purpose == .newJob })
        case .cycleSort: return ([], { $0.sort == WorkerSort.id.next })
        case .filter: return ([], { $0.prompt?.purpose == .filter })
        case .clearFilter: return ([], unchanged)
        case .help: return ([], { $0.showHelp })
        // No worker of another machine joined: q quits at once.
        case .quit: return ([], { $0.quitRequested && $0.confirmingQuit == nil })
        case .redraw: return ([], { $0.fullRedrawRequested })
        }
    }

    @Test("each key of every binding returns exactly its action's commands, with no engine")
    func everyKey() {
        let snapshot = Self.snapshot()
        var walked = 0
        for binding in KeyMap.bindings {
            for key in binding.keys {
                #expect(KeyMap.action(for: key) == binding.action, "\(key) is bound twice")
                var state = ViewState()
                let commands = Reducer.reduce(&state, key: key, snapshot: snapshot, pageSize: 10)
                let (wanted, holds) = Self.expected(binding.action, kernel: snapshot.kernel)
                #expect(commands == wanted, "\(key) (\(binding.action))")
                #expect(holds(state), "\(key) (\(binding.action)) left \(state)")
                walked += 1
            }
        }
        #expect(walked == KeyMap.bindings.reduce(0) { $0 + $1.keys.count })
    }

    @Test("under the help overlay or the quit question, every key only closes it and asks nothing of the engine")
    func overlaysTakeEveryKey() {
        let snapshot = Self.snapshot()
        for binding in KeyMap.bindings where binding.action != .redraw {
            for key in binding.keys {
                var state = ViewState()
                state.showHelp = true
                #expect(Reducer.reduce(&state, key: key, snapshot: snapshot, pageSize: 10).isEmpty, "\(key)")
                #expect(!state.showHelp && !state.quitRequested, "\(key)")
            }
        }
    }
}

@Suite("Every message, through the reducer")
struct ViewMessageTests {
    @Test("what the loop learns reaches the view state only as messages: a refusal, a script's caption and view, a drawn frame")
    func messages() {
        var state = ViewState()
        state.fullRedrawRequested = true
        state.speedupMeasureRequested = true
        Reducer.receive(&state, .say("worker limit reached (1024)", isError: true), at: 12)
        #expect(state.status == StatusMessage(text: "worker limit reached (1024)", isError: true, since: 12))
        Reducer.receive(&state, .script(caption: "Lesson 2", view: .timeline, measuring: SpeedupProgress(workers: 2, upTo: 4)), at: 13)
        #expect(state.caption == "Lesson 2" && state.panel == .timeline && state.speedupMeasuring?.workers == 2)
        // A script step without a caption or a view leaves them; its measurement is over.
        Reducer.receive(&state, .script(caption: nil, view: nil, measuring: nil), at: 14)
        #expect(state.caption == "Lesson 2" && state.panel == .timeline && state.speedupMeasuring == nil)
        Reducer.receive(&state, .speedupMeasureHandled, at: 15)
        #expect(!state.speedupMeasureRequested)
        Reducer.receive(&state, .drawn(scrollOffset: 7, logScroll: 2, tableCapacity: 11), at: 16)
        #expect(state.scrollOffset == 7 && state.logScroll == 2 && state.tableCapacity == 11 && !state.fullRedrawRequested)
    }
}
