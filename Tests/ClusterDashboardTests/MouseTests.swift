import Testing
@testable import ClusterEngine
@testable import ClusterDashboard

/// Clicks and the wheel act on what the frame drew where they land.
@Suite("The mouse")
struct MouseTests {
    static func click(_ state: inout ViewState, _ frame: DashboardFrame, x: Int, y: Int, _ kind: MouseEvent.Kind = .press,
                      snapshot: ClusterSnapshot) -> [EngineCommand] {
        Reducer.click(&state, MouseEvent(kind, x: x, y: y), on: frame.clicks.target(x: x, y: y), snapshot: snapshot,
                      pageSize: frame.workerRows)
    }

    @Test("a click on a row selects its worker or host; a second click on a host folds or unfolds it")
    func tableRows() throws {
        let snapshot = Fixtures.snapshot(workers: HostTableTests.classroom(hosts: 3), job: try Fixtures.job())
        var state = ViewState()
        var frame = Fixtures.render(snapshot, state: state, width: 120, height: 30)
        let y5 = try #require(frame.buffer.lines.firstIndex { $0.contains("student-2:1002/0") })
        #expect(Self.click(&state, frame, x: 40, y: y5, snapshot: snapshot).isEmpty)
        #expect(state.selectedWorker == WorkerID(5) && state.selectedHost == nil)
        let hostY = try #require(frame.buffer.lines.firstIndex { $0.contains("student-3 ") && $0.contains("2 threads") })
        _ = Self.click(&state, frame, x: 3, y: hostY, snapshot: snapshot)
        #expect(state.selectedHost == .remote("student-3") && state.selectedWorker == WorkerID(7))
        frame = Fixtures.render(snapshot, state: state, width: 120, height: 30)
        _ = Self.click(&state, frame, x: 3, y: hostY, snapshot: snapshot)
        #expect(state.hostExpanded[.remote("student-3")] == false)
        // On the host's row, p (and a click on the footer's Pause) pauses its threads.
        frame = Fixtures.render(snapshot, state: state, width: 120, height: 30)
        let footer = try #require(frame.buffer.lines.last)
        let pause = try #require(footer.range(of: "pPause")).lowerBound.utf16Offset(in: footer)
        #expect(Self.click(&state, frame, x: pause + 1, y: 29, snapshot: snapshot) == [.pause(WorkerID(7)), .pause(WorkerID(8))])
        // A click where nothing is does nothing.
        let before = state
        #expect(Self.click(&state, frame, x: 50, y: 1, snapshot: snapshot).isEmpty && state == before)
    }

    @Test("a click on a grid cell selects that worker; the wheel moves the selection, or scrolls the log under it")
    func gridAndWheel() throws {
        let snapshot = Fixtures.snapshot(workers: (1...300).map { Fixtures.worker($0) }, job: try Fixtures.job())
        var state = ViewState()
        state.panel = .grid
        let events = Fixtures.events((1...40).map { .workerAdded(WorkerID($0)) })
        let frame = Fixtures.render(snapshot, events: events, state: state)
        // The cell of worker 77: find it through the map, then click it.
        let cell = try #require(frame.clicks.regions.first { $0.target == .worker(WorkerID(77)) })
        _ = Self.click(&state, frame, x: cell.x.lowerBound, y: cell.y, snapshot: snapshot)
        #expect(state.selectedWorker == WorkerID(77))
        #expect(Fixtures.render(snapshot, events: events, state: state).buffer.contains("▶ worker 77"))
        _ = Self.click(&state, frame, x: cell.x.lowerBound, y: cell.y, .wheelDown, snapshot: snapshot)
        #expect(state.selectedWorker == WorkerID(80))
        let logY = try #require(frame.buffer.lines.lastIndex { $0.contains("worker 40 added") })
        _ = Self.click(&state, frame, x: 10, y: logY, .wheelUp, snapshot: snapshot)
        #expect(state.logScroll == Reducer.logScrollStep && state.selectedWorker == WorkerID(80))
    }

    @Test("the help overlay closes on a click, which reaches nothing under it; the prompt ignores clicks")
    func overlays() throws {
        let snapshot = Fixtures.snapshot(workers: (1...4).map { Fixtures.worker($0) }, job: try Fixtures.job())
        var state = ViewState()
        state.showHelp = true
        let frame = Fixtures.render(snapshot, state: state)
        #expect(frame.clicks.regions.isEmpty)
        _ = Self.click(&state, frame, x: 10, y: 7, snapshot: snapshot)
        #expect(!state.showHelp && state.selectedWorker == nil)
        state.prompt = JobPrompt()
        let withPrompt = Fixtures.render(snapshot, state: state)
        _ = Self.click(&state, withPrompt, x: 10, y: 7, snapshot: snapshot)
        #expect(state.selectedWorker == nil && state.prompt != nil)
    }
}
