import Foundation
import Testing
import ClusterTestSupport
@testable import ClusterDashboard
import ClusterTerminal
@testable import ClusterEngine

@Suite("Key handling")
struct ReducerTests {
    let workers = [Fixtures.worker(1), Fixtures.worker(2, .paused), Fixtures.worker(3, .dead, chunk: nil),
                   Fixtures.worker(4, .removed, chunk: nil), Fixtures.worker(5, .idle, chunk: nil, speed: 0.5)]
    var snapshot: ClusterSnapshot { Fixtures.snapshot(workers: workers, job: nil) }

    func press(_ keys: Key..., state: inout ViewState) -> [EngineCommand] {
        keys.flatMap { Reducer.reduce(&state, key: $0, snapshot: snapshot, pageSize: 2) }
    }

    func selecting(_ id: Int) -> ViewState {
        var state = ViewState()
        state.selectedWorker = WorkerID(id)
        return state
    }

    @Test("arrows, paging, Home and End move the selection and stop at the ends")
    func selection() {
        var state = ViewState()
        #expect(press(.down, state: &state).isEmpty)
        #expect(state.selectedWorker == WorkerID(2))
        _ = press(.up, .up, .up, state: &state)
        #expect(state.selectedWorker == WorkerID(1))
        _ = press(.pageDown, state: &state)
        #expect(state.selectedWorker == WorkerID(3))
        _ = press(.end, state: &state)
        #expect(state.selectedWorker == WorkerID(5))
        _ = press(.down, state: &state)
        #expect(state.selectedWorker == WorkerID(5))
        _ = press(.home, state: &state)
        #expect(state.selectedWorker == WorkerID(1))
    }

    @Test("a and + add a worker")
    func add() {
        var state = ViewState()
        #expect(press(.character("a"), state: &state) == [.addWorker])
        #expect(press(.character("+"), state: &state) == [.addWorker])
    }

    @Test("p and Space pause a running worker and resume a paused one; dead ones are refused with a hint")
    func pause() {
        var state = selecting(1)
        #expect(press(.character("p"), state: &state) == [.pause(WorkerID(1))])
        state = selecting(2)
        #expect(press(.character(" "), state: &state) == [.resume(WorkerID(2))])
        state = selecting(3)
        #expect(press(.character("p"), state: &state).isEmpty)
        #expect(state.status?.text.contains("press r to restart") == true)
    }

    @Test("P resumes every paused worker when any is paused (3 paused among 37 idle: resume), and pauses every active one when none is")
    func pauseAll() {
        var state = ViewState()
        #expect(press(.character("P"), state: &state) == [.resume(WorkerID(2))], "worker 2 is paused")
        let mixed = Fixtures.snapshot(workers: (1...40).map { Fixtures.worker($0, $0 <= 3 ? .paused : .idle, chunk: nil) }, job: nil)
        #expect(Reducer.reduce(&state, key: .character("P"), snapshot: mixed, pageSize: 1) == (1...3).map { .resume(WorkerID($0)) })
        let nonePaused = Fixtures.snapshot(workers: [Fixtures.worker(1), Fixtures.worker(2, .dead, chunk: nil),
                                                     Fixtures.worker(3, .idle, chunk: nil)], job: nil)
        #expect(Reducer.reduce(&state, key: .character("P"), snapshot: nonePaused, pageSize: 1) == [.pause(WorkerID(1)), .pause(WorkerID(3))])
    }

    @Test("k and F9 kill the selected worker; r restarts a dead one; R restarts all dead")
    func killAndRestart() {
        var state = selecting(1)
        #expect(press(.character("k"), state: &state) == [.kill(WorkerID(1))])
        #expect(press(.function(9), state: &state) == [.kill(WorkerID(1))])
        #expect(press(.character("r"), state: &state).isEmpty)
        #expect(state.status?.isError == true)
        state = selecting(3)
        #expect(press(.character("r"), state: &state) == [.restart(WorkerID(3))])
        #expect(press(.character("k"), state: &state).isEmpty)
        #expect(press(.character("R"), state: &state) == [.restart(WorkerID(3))])
    }

    @Test("d and - remove the selected worker; a removed one is never the selection (no row shows it), the nearest shown one is")
    func remove() {
        var state = selecting(1)
        #expect(press(.character("d"), state: &state) == [.remove(WorkerID(1))])
        #expect(press(.character("-"), state: &state) == [.remove(WorkerID(1))])
        state = selecting(4)
        #expect(Reducer.selectedIndex(state, in: snapshot).map { snapshot.workers[$0].id } == WorkerID(5))
        #expect(press(.character("d"), state: &state) == [.remove(WorkerID(5))])
        #expect(state.selectedWorker == WorkerID(5), "the selection is what the keys acted on")
    }

    @Test("t cycles the selected worker's speed down and back to full; T restores everyone")
    func throttle() {
        var state = selecting(1)
        #expect(press(.character("t"), state: &state) == [.setSpeed(WorkerID(1), 0.5)])
        state = selecting(5)
        #expect(press(.character("t"), state: &state) == [.setSpeed(WorkerID(5), 0.25)])
        let slowest = Fixtures.snapshot(workers: [Fixtures.worker(1, speed: 0.02)], job: nil)
        #expect(Reducer.reduce(&state, key: .character("t"), snapshot: slowest, pageSize: 1) == [.setSpeed(WorkerID(1), 1)])
        #expect(press(.character("T"), state: &state) == [.setSpeed(WorkerID(5), 1)])
    }

    @Test("? h F1 toggle help; any key closes it without acting, q included")
    func help() {
        var state = ViewState()
        _ = press(.character("?"), state: &state)
        #expect(state.showHelp)
        #expect(press(.character("a"), state: &state).isEmpty)
        #expect(!state.showHelp)
        _ = press(.function(1), state: &state)
        #expect(state.showHelp)
        _ = press(.character("h"), state: &state)
        #expect(!state.showHelp)
        _ = press(.character("h"), .character("q"), state: &state)
        #expect(!state.quitRequested && !state.showHelp, "q closes the help, as the help says any key does")
        _ = press(.character("?"), .function(10), state: &state)
        #expect(!state.quitRequested && !state.showHelp)
        _ = press(.character("q"), state: &state)
        #expect(state.quitRequested, "then q quits")
    }

    /// Two laptops, one of two threads, beside a local worker.
    var classroom: ClusterSnapshot {
        var workers = [Fixtures.worker(1)]
        for (n, (host, pid, thread)) in [("bob-macbook", 7, 0), ("bob-macbook", 7, 1), ("olivia-laptop", 9, 0)].enumerated() {
            var w = Fixtures.worker(2 + n)
            w.remote = RemoteWorkerInfo(host: host, pid: Int32(pid), thread: thread)
            workers.append(w)
        }
        return Fixtures.snapshot(workers: workers, job: nil)
    }

    @Test("q with workers of other machines joined asks first, saying how many: y quits, any other key (q too) stays")
    func quitAsks() {
        var state = ViewState()
        let snapshot = classroom
        func key(_ k: Key) -> [EngineCommand] { Reducer.reduce(&state, key: k, snapshot: snapshot, pageSize: 5) }
        _ = key(.character("q"))
        #expect(!state.quitRequested)
        #expect(state.confirmingQuit?.question == "Quit? 2 worker processes (3 threads) will be released and stop.")
        #expect(key(.character("k")).isEmpty, "the overlay takes the key: nothing is killed")
        #expect(state.confirmingQuit == nil && !state.quitRequested)
        _ = key(.character("q"))
        _ = key(.character("q"))
        #expect(!state.quitRequested, "q twice is not a yes")
        _ = key(.function(10))
        _ = key(.character("y"))
        #expect(state.quitRequested)
        // Only local workers: q quits at once.
        var local = ViewState()
        _ = Reducer.reduce(&local, key: .character("q"), snapshot: self.snapshot, pageSize: 5)
        #expect(local.quitRequested && local.confirmingQuit == nil)
    }

    @Test("in the grid with a filter, keys act on a worker the grid shows: the selection moves to the nearest shown one, and with none shown nothing is acted on")
    func gridFilterSelection() {
        var state = ViewState()
        state.panel = .grid
        let snapshot = classroom
        func key(_ k: Key) -> [EngineCommand] { Reducer.reduce(&state, key: k, snapshot: snapshot, pageSize: 5) }
        state.selectedWorker = WorkerID(2)  // on bob-macbook
        _ = key(.character("/"))
        for c in "olivia" { _ = key(.character(c)) }
        _ = key(.enter)
        #expect(Reducer.selectedIndex(state, in: snapshot).map { snapshot.workers[$0].id } == WorkerID(4))
        #expect(key(.character("p")) == [.pause(WorkerID(4))], "olivia's thread, the only one shown, not bob's")
        #expect(state.selectedWorker == WorkerID(4))
        // A filter nothing matches: no key acts on a worker out of sight.
        state.filter = WorkerFilter("paused")
        #expect(Reducer.selectedIndex(state, in: snapshot) == nil)
        #expect(key(.character("k")).isEmpty)
        #expect(state.status?.text == "nothing selected: no worker shown matches \"paused\"")
        // The frame's selection line says the same.
        let frame = Fixtures.render(snapshot, state: state)
        #expect(frame.buffer.contains("nothing selected"), "\(frame.buffer.lines.joined(separator: "\n"))")
    }

    @Test("in the table, a filter that hides the selected worker moves the selection to a shown one, and keys act on it")
    func tableFilterSelection() {
        var state = ViewState()
        let snapshot = classroom
        state.selectedWorker = WorkerID(1)  // local
        state.filter = WorkerFilter("bob")
        let shown = Reducer.selectedIndex(state, in: snapshot).map { snapshot.workers[$0].id }
        #expect(shown == WorkerID(2) || shown == WorkerID(3))
        let commands = Reducer.reduce(&state, key: .character("k"), snapshot: snapshot, pageSize: 5)
        #expect(commands.count == 1 && commands != [.kill(WorkerID(1))], "\(commands)")
        // P, T and R act on every worker the filter shows, and on no other.
        #expect(Reducer.reduce(&state, key: .character("P"), snapshot: snapshot, pageSize: 5) == [.pause(WorkerID(2)), .pause(WorkerID(3))])
    }

    @Test("q and F10 quit; Ctrl-L asks for a full redraw; s switches the next job's schedule")
    func quitRedrawSchedule() {
        var state = ViewState()
        _ = press(.function(10), state: &state)
        #expect(state.quitRequested)
        state = ViewState()
        _ = press(.control("l"), state: &state)
        #expect(state.fullRedrawRequested)
        _ = press(.character("s"), state: &state)
        #expect(state.nextSchedule == .static)
        _ = press(.character("s"), state: &state)
        #expect(state.nextSchedule == .stealing)
        #expect(state.status?.text.contains("stealing") == true)
        _ = press(.character("s"), state: &state)
        #expect(state.nextSchedule == .dynamic)
    }

    @Test("v and Tab cycle the views: workers, grid, timeline, speedup, jobs, and back")
    func cyclePanels() {
        var state = ViewState()
        #expect(state.panel == .workers)
        _ = press(.character("v"), state: &state)
        #expect(state.panel == .grid)
        _ = press(.character("v"), state: &state)
        #expect(state.panel == .timeline)
        _ = press(.control("i"), state: &state)
        #expect(state.panel == .speedup)
        #expect(press(.character("v"), state: &state).isEmpty)
        #expect(state.panel == .jobs)
        _ = press(.character("v"), state: &state)
        #expect(state.panel == .workers)
    }

    @Test("z opens the timeline, then zooms between the whole job and the last seconds; m asks for a speedup measurement")
    func zoomAndMeasure() {
        var state = ViewState()
        _ = press(.character("z"), state: &state)
        #expect(state.panel == .timeline && state.timelineZoom == .wholeJob)
        _ = press(.character("z"), state: &state)
        #expect(state.timelineZoom == .recent)
        _ = press(.character("z"), state: &state)
        #expect(state.timelineZoom == .wholeJob)
        #expect(press(.character("m"), state: &state).isEmpty)
        #expect(state.panel == .speedup && state.speedupMeasureRequested)
    }

    @Test("K switches to the next kernel this CPU runs, and says so")
    func cycleKernel() {
        var state = ViewState()
        let commands = press(.character("K"), state: &state)
        let current = KernelVariant.active
        #expect(commands == [.setKernel(current.next)])
        #expect(state.status?.text.hasPrefix("kernel \(current.next) from the next sub-block on") == true)
        // The cycle visits every supported variant once, then comes back.
        var seen: [KernelVariant] = []
        var variant = KernelVariant.best
        repeat {
            seen.append(variant)
            variant = variant.next
        } while variant != KernelVariant.best
        #expect(Set(seen) == Set(KernelVariant.supported) && seen.count == KernelVariant.supported.count)
    }

    @Test("n opens the prompt; typing, Backspace and Enter submit a validated job; Esc cancels")
    func newJob() throws {
        var state = ViewState(nextSchedule: .static, nextChunkSize: 10)
        _ = press(.character("n"), state: &state)
        #expect(state.prompt == JobPrompt())
        // Keys go to the prompt now, not to the key table.
        _ = press(.character("1"), .character("."), .character("."), .character("9"), state: &state)
        #expect(press(.enter, state: &state).isEmpty)
        #expect(state.prompt?.error?.contains("LO...HI") == true)
        _ = press(.backspace, .character("."), .character("9"), .character("9"), state: &state)
        #expect(state.prompt?.text == "1...99")
        #expect(state.prompt?.error == nil)
        let commands = press(.enter, state: &state)
        #expect(commands == [.submit(try JobSpec(lo: 1, hi: 99, chunkSize: 10, schedule: .static))])
        #expect(state.prompt == nil)
        _ = press(.character("n"), .character("5"), .character("."), .character("."), .character("."), .character("1"), .enter, state: &state)
        #expect(state.prompt?.error?.contains("LO must not exceed HI") == true)
        _ = press(.escape, state: &state)
        #expect(state.prompt == nil)
    }

    @Test("commands act on a real cluster: pause freezes, kill re-queues, restart and add work")
    func commandsOnEngine() throws {
        // Both workers are held mid-chunk at the gate, however fast the kernel is.
        let gate = KernelGate()
        let cluster = gate.cluster(workers: 2)
        defer {
            gate.open()
            cluster.shutdown()
        }
        _ = cluster.submit(try JobSpec(lo: 1, hi: 1 << 30, chunkSize: 1 << 24))
        #expect(gate.waitUntilHolding(2))
        var state = ViewState()
        func press(_ key: Key) {
            for command in Reducer.reduce(&state, key: key, snapshot: cluster.snapshot(), pageSize: 5) {
                command.apply(to: cluster)
            }
        }
        press(.character("p"))
        #expect(cluster.snapshot().workers[0].state == .pausing, "asked to pause; its thread is inside a sub-block")
        press(.down)
        press(.character("k"))
        #expect(cluster.snapshot().workers[1].state == .dead)
        #expect(cluster.snapshot().job?.chunksRequeued == 1)
        press(.character("r"))
        #expect(cluster.snapshot().workers[1].state != .dead)
        press(.character("a"))
        #expect(cluster.snapshot().workers.count == 3)
        press(.up)
        press(.character(" "))
        #expect(cluster.snapshot().workers[0].state == .running, "p on a pausing worker resumes it")
        press(.character(" "))
        gate.open()
        #expect(eventually { cluster.snapshot().workers[0].state == .paused }, "paused once its thread stopped")
    }
}
