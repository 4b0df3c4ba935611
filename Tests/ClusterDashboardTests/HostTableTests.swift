import Testing
@testable import ClusterEngine
@testable import ClusterDashboard

/// The worker table with many machines: a row per host that folds its threads, keys that act on a
/// whole host, sort and filter, followed by the timeline.
@Suite("Hosts, sort and filter in the table")
struct HostTableTests {
    /// Two local threads, then `hosts` laptops "student-1"… with two threads each; host h's
    /// threads sum at h × 0.1 G/s.
    static func classroom(hosts: Int = 30) -> [WorkerSnapshot] {
        var workers = [Fixtures.worker(1), Fixtures.worker(2)]
        for h in 1...hosts {
            for t in 0..<2 {
                var w = Fixtures.worker(workers.count + 1, throughput: Double(h) * 1e8, chunksDone: h)
                w.remote = RemoteWorkerInfo(host: "student-\(h)", pid: Int32(1000 + h), thread: t)
                workers.append(w)
            }
        }
        return workers
    }

    static func press(_ keys: [Key], _ state: inout ViewState, _ snapshot: ClusterSnapshot) -> [EngineCommand] {
        keys.flatMap { Reducer.reduce(&state, key: $0, snapshot: snapshot, pageSize: 10) }
    }

    static func type(_ text: String) -> [Key] { text.map { Key.character($0) } }

    @Test("30 laptops × 2 threads at 80×24: a row per host, folded, each with its threads' count and rate")
    func foldedHosts() throws {
        let snapshot = Fixtures.snapshot(workers: Self.classroom(), job: try Fixtures.job())
        var state = ViewState()
        // The first frame says how many rows fit; the loop feeds that back, as here.
        state.tableCapacity = Fixtures.render(snapshot, state: state).tableCapacity
        #expect(state.tableCapacity < 92)
        let lines = Fixtures.render(snapshot, state: state).buffer.lines
        // local first, then students in name order, each folded into one row.
        let hostLines = lines.filter { $0.contains("▸") }
        #expect(hostLines.count >= 8, "\(lines.joined(separator: "\n"))")
        #expect(hostLines[0].contains("local") && hostLines[0].contains("2 threads"))
        #expect(hostLines[1].contains("student-1 ") && hostLines[1].contains("200M/s"))
        #expect(hostLines[2].contains("student-2 ") && hostLines[2].contains("400M/s"))
        #expect(!lines.contains { $0.contains("student-1:1001/0") }, "threads of a folded host are not listed")
        #expect(lines.contains { $0.contains("more rows") }, "\(lines.joined(separator: "\n"))")
        // Everything fits at 200×120: every host unfolds.
        let tall = Fixtures.render(snapshot, state: ViewState(), width: 200, height: 120)
        #expect(tall.buffer.lines.filter { $0.contains("▾") }.count == 31)
        #expect(tall.buffer.contains("student-30:1030/1"))
    }

    @Test("keys on a host's row act on all its threads; Enter and → unfold it, ← folds it from a thread")
    func hostKeys() throws {
        var workers = Self.classroom(hosts: 3)
        workers[5] = { var w = Fixtures.worker(6, .paused); w.remote = workers[5].remote; return w }()
        let snapshot = Fixtures.snapshot(workers: workers, job: try Fixtures.job())
        var state = ViewState()
        state.tableCapacity = 3  // too few for every thread: hosts start folded
        // Down from the local row onto student-1's.
        #expect(Self.press([.down], &state, snapshot).isEmpty)
        #expect(state.selectedHost == .remote("student-1"))
        #expect(Self.press([.character("p")], &state, snapshot) == [.pause(WorkerID(3)), .pause(WorkerID(4))])
        #expect(Self.press([.character("k")], &state, snapshot) == [.kill(WorkerID(3)), .kill(WorkerID(4))])
        #expect(Self.press([.character("t")], &state, snapshot) == [.setSpeed(WorkerID(3), 0.5), .setSpeed(WorkerID(4), 0.5)])
        #expect(Self.press([.character("d")], &state, snapshot) == [.remove(WorkerID(3)), .remove(WorkerID(4))])
        #expect(Self.press([.character("r")], &state, snapshot).isEmpty)
        #expect(state.status?.text == "student-1: no dead thread to restart")
        // student-2 has one paused thread and one running: p resumes the paused one, as P does.
        #expect(Self.press([.down, .character("p")], &state, snapshot) == [.resume(WorkerID(6))])
        // Unfold student-2, step onto its first thread: keys act on that thread alone.
        _ = Self.press([.right], &state, snapshot)
        #expect(state.hostExpanded[.remote("student-2")] == true)
        _ = Self.press([.down], &state, snapshot)
        #expect(state.selectedHost == nil && state.selectedWorker == WorkerID(5))
        #expect(Self.press([.character("k")], &state, snapshot) == [.kill(WorkerID(5))])
        let unfolded = Fixtures.render(snapshot, state: state, width: 120, height: 30).buffer
        #expect(unfolded.contains("student-2:1002/0") && !unfolded.contains("student-1:1001/0"))
        // ← on a thread folds its host and puts the selection on the host's row.
        _ = Self.press([.left], &state, snapshot)
        #expect(state.hostExpanded[.remote("student-2")] == false && state.selectedHost == .remote("student-2"))
        // Enter toggles.
        _ = Self.press([.enter], &state, snapshot)
        #expect(state.hostExpanded[.remote("student-2")] == true)
    }

    @Test("o sorts hosts and their threads by rate; the timeline's lanes follow the order")
    func sortByRate() throws {
        let snapshot = Fixtures.snapshot(workers: Self.classroom(hosts: 4), job: try Fixtures.job())
        var state = ViewState()
        _ = Self.press([.character("o"), .character("o")], &state, snapshot)
        #expect(state.sort == .rate && state.status?.text == "sorted by rate, fastest first")
        let lines = Fixtures.render(snapshot, state: state, width: 120, height: 40).buffer.lines
        // local's threads sum 3 G/s, then student-4 (0.8), student-3, …
        let hosts = lines.filter { $0.contains("▾") }.map { line in
            ["local", "student-1 ", "student-2 ", "student-3 ", "student-4 "].first { line.contains($0) } ?? "?"
        }
        #expect(hosts == ["local", "student-4 ", "student-3 ", "student-2 ", "student-1 "])
        #expect(lines.contains { $0.contains("RATE▼") })
        // The arrows walk the rows in that order: local, its threads, then student-4.
        _ = Self.press([.home, .down, .down, .down], &state, snapshot)
        #expect(state.selectedHost == .remote("student-4"))
        // The timeline lists the lanes in the same order.
        state.panel = .timeline
        let table = WorkerTable(snapshot, state)
        #expect(table.ordered.map { snapshot.workers[$0].id.rawValue } == [1, 2, 9, 10, 7, 8, 5, 6, 3, 4])
    }

    @Test("/ filters the table, the grid and the timeline by host or state; Esc clears it")
    func filter() throws {
        var workers = Self.classroom(hosts: 12)
        workers[4] = { var w = Fixtures.worker(5, .paused); w.remote = workers[4].remote; return w }()  // student-2
        let snapshot = Fixtures.snapshot(workers: workers, job: try Fixtures.job())
        var state = ViewState()
        _ = Self.press([.character("/")] + Self.type("student-1") + [.enter], &state, snapshot)
        // student-1, student-10, student-11 and student-12 match, 8 threads.
        #expect(state.filter?.text == "student-1" && state.prompt == nil)
        #expect(state.status?.text == "filter \"student-1\": 8 of 26 workers (Esc clears)")
        let frame = Fixtures.render(snapshot, state: state, width: 120, height: 40).buffer
        #expect(frame.contains("student-10") && frame.contains("student-12") && !frame.contains("student-2 "))
        #expect(!frame.lines.contains { $0.contains("local ") && $0.contains("2 threads") })
        #expect(frame.contains("filter \"student-1\": 8 of 26 workers (Esc clears)"))
        state.panel = .grid
        #expect(GridView.groups(snapshot, filter: state.filter).map(\.name) == ["student-1", "student-10", "student-11", "student-12"])
        // By state: only the paused thread, in every view.
        _ = Self.press([.character("/")] + Array(repeating: .backspace, count: 9) + Self.type("pa") + [.enter], &state, snapshot)
        #expect(WorkerTable(snapshot, state).ordered == [4])
        state.panel = .workers
        // Nothing matches: said so, not an empty table.
        _ = Self.press([.character("/"), .backspace, .backspace] + Self.type("zz") + [.enter], &state, snapshot)
        #expect(Fixtures.render(snapshot, state: state).buffer.contains("no worker matches \"zz\""))
        #expect(state.status?.isError == true)
        _ = Self.press([.escape], &state, snapshot)
        #expect(state.filter == nil && WorkerTable(snapshot, state).matching == 26)
    }

    @Test("a host most of whose threads lag is marked ▼ on its row and named as lagging on the selection line")
    func laggingHost() throws {
        var workers = Self.classroom(hosts: 3)
        for i in [4, 5] { workers[i].isLagging = true }  // student-2's two threads
        workers[6].isLagging = true                      // one of student-3's
        let snapshot = Fixtures.snapshot(workers: workers, job: try Fixtures.job())
        var state = ViewState()
        state.selectedHost = .remote("student-2")
        let lines = Fixtures.render(snapshot, state: state, width: 100, height: 30).buffer.lines
        let host2 = try #require(lines.first { $0.contains("student-2 ") && $0.contains("2 threads") })
        #expect(host2.contains("▼400M/s"))
        // One slow thread of two is not most of them: student-3 does not lag as a host.
        let host3 = try #require(lines.first { $0.contains("student-3 ") && $0.contains("2 threads") })
        #expect(!host3.contains("▼"), "\(host3)")
        #expect(lines.contains { $0.contains("student-2: 2 threads (2 running), 400M/s (lags") })
        // In the grid too, where hosts sit side by side with their rates.
        state.panel = .grid
        let grid = Fixtures.render(snapshot, state: state, width: 100, height: 30).buffer
        #expect(grid.contains("▼400M/s") && !grid.contains("▼200M/s"), "\(grid)")
    }

    @Test("one machine's threads keep the plain table: no host rows, removed ones counted")
    func localOnly() throws {
        let workers = [Fixtures.worker(1), Fixtures.worker(2, .removed, chunk: nil), Fixtures.worker(3, .removed, chunk: nil)]
        let table = WorkerTable(Fixtures.snapshot(workers: workers, job: try Fixtures.job()), ViewState())
        #expect(!table.isGrouped && table.rows == [.worker(0), .departed(2)])
    }

    @Test("with more threads than lanes fit, the timeline gives each host one lane; a kill on one thread shows on it")
    func timelineHostLanes() throws {
        let workers = Self.classroom()
        let snapshot = Fixtures.snapshot(workers: workers, job: try Fixtures.job())
        // Every worker sums one chunk for the first 10 s; student-7's first thread (worker 15)
        // is then killed on its next.
        var segments = workers.map { Fixtures.segment($0.id.rawValue, chunk: Int64($0.id.rawValue), 0, 10) }
        segments.append(Fixtures.segment(15, chunk: 100, 10, 12.5, .killed))
        var state = ViewState()
        state.panel = .timeline
        state.selectedWorker = WorkerID(16)
        let frame = Fixtures.render(snapshot, state: state, timeline: Fixtures.timeline(now: 12.5, segments: segments, jobStart: 0))
        let lines = frame.buffer.lines
        #expect(lines.contains { $0.contains("HOST") && $0.contains("WHOLE JOB") }, "\(frame.buffer)")
        let student7 = try #require(lines.first { $0.contains(" student-7 ") }, "\(frame.buffer)")
        #expect(student7.contains("▶") && student7.contains("█") && student7.contains("✗"))
        let student6 = try #require(lines.first { $0.contains(" student-6 ") })
        #expect(student6.contains("█") && !student6.contains("✗"))
        // Lanes in name order, local first; the page scrolled to the selected host's lane.
        #expect(!lines.contains { $0.contains(" student-1 ") } || lines.firstIndex { $0.contains(" student-1 ") }! < lines.firstIndex { $0.contains(" student-7 ") }!)
        // With room for every thread, a lane each.
        let tall = Fixtures.render(snapshot, state: state, width: 120, height: 80,
                                   timeline: Fixtures.timeline(now: 12.5, segments: segments, jobStart: 0))
        #expect(tall.buffer.lines.contains { $0.contains("ID") && $0.contains("WHOLE JOB") })
        #expect(!tall.buffer.lines.contains { $0.contains(" student-7 ") })
        #expect(lines.contains { $0.contains("19 more hosts") })
    }
}
