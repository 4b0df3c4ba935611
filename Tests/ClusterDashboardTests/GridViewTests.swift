import Testing
@testable import ClusterEngine
@testable import ClusterDashboard

/// The cluster grid, read from cell buffers: every worker on the screen, grouped by host, its
/// state told by glyph as well as colour.
@Suite("Cluster grid")
struct GridViewTests {
    /// `hosts` remote hosts of `threads` threads each after `local` local threads; states cycle
    /// through running, paused, dead and idle every fourth worker when `mixed`.
    func cluster(local: Int, hosts: Int = 0, threads: Int = 2, mixed: Bool = false) throws -> ClusterSnapshot {
        var workers: [WorkerSnapshot] = []
        let states: [WorkerState] = [.running, .paused, .dead, .idle]
        for i in 0..<(local + hosts * threads) {
            let state = mixed ? states[i % 4] : .running
            var w = Fixtures.worker(i + 1, state, chunk: state == .idle || state == .dead ? nil : Int64(i),
                                    done: Int64((i * 137) % 1_000))
            if i >= local {
                let r = i - local
                w.remote = RemoteWorkerInfo(host: "student-\(r / threads + 1)", pid: Int32(1000 + r / threads), thread: r % threads)
            }
            workers.append(w)
        }
        return Fixtures.snapshot(workers: workers, job: try Fixtures.job())
    }

    func grid(_ snapshot: ClusterSnapshot, width: Int = 80, height: Int = 24, capabilities: Capabilities = .full,
              selected: Int? = nil) -> CellBuffer {
        var state = ViewState()
        state.panel = .grid
        state.selectedWorker = selected.map { WorkerID($0) }
        return Fixtures.render(snapshot, state: state, width: width, height: height, capabilities: capabilities).buffer
    }

    /// Cells of the grid (under its header row, above the selection lines) whose glyph is `glyph`.
    func count(_ glyph: Character, in buffer: CellBuffer, rows: ClosedRange<Int>) -> Int {
        rows.reduce(0) { total, y in total + (0..<buffer.width).filter { buffer[$0, y].character == glyph }.count }
    }

    func gridRows(_ buffer: CellBuffer) -> ClosedRange<Int> {
        let header = buffer.lines.firstIndex { $0.contains("CLUSTER") }!
        let selection = buffer.lines.firstIndex { $0.hasPrefix(" ▶ worker") || $0.hasPrefix(" > worker") }!
        return (header + 1)...(selection - 1)
    }

    @Test("300 local workers at 80×24: every one has a cell, none is left below the screen")
    func threeHundredAt80x24() throws {
        let snapshot = try cluster(local: 300)
        let buffer = grid(snapshot)
        let rows = gridRows(buffer)
        let shown = Glyphs.unicode.spark.reduce(0) { $0 + count($1, in: buffer, rows: rows) }
        #expect(shown == 300, "\(buffer)")
        #expect(buffer.lines.contains { $0.contains("300 workers on 1 host") })
        #expect(!buffer.lines.contains { $0.contains("more worker") }, "no scroll note: all are shown")
    }

    @Test("20 laptops at 80×24 with names of 14 characters and one of 62: every laptop's throughput still shows, names cut before rates go")
    func longNamesKeepRates() throws {
        var workers: [WorkerSnapshot] = []
        for laptop in 0..<20 {
            let name = laptop == 19 ? "yukihiro-matsumoto-s-laptop-in-the-back-row-of-lecture-hall-42" : "laptop-\(laptop + 10)-abcd"
            for thread in 0..<2 {
                var w = Fixtures.worker(workers.count + 1, throughput: 4.2e8)
                w.remote = RemoteWorkerInfo(host: name, pid: Int32(100 + laptop), thread: thread)
                workers.append(w)
            }
        }
        // As serve shows it: the join on two lines above the grid.
        var state = ViewState(caption: "Join: cluster-top worker --join 192.168.100.200:7070/bxrp-x1p9-4th3-xgc9-n5fg-knrs-cqz0")
        state.panel = .grid
        let buffer = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job()), state: state).buffer
        let rows = gridRows(buffer)
        let rates = rows.reduce(0) { $0 + buffer.line($1).components(separatedBy: "840M/s").count - 1 }
        #expect(rates == 20, "\(buffer)")
        #expect(buffer.contains("yukihiro-ma") && buffer.contains("laptop-28-a"), "\(buffer)")
    }

    @Test("40 remote threads from 20 hosts and 2 local at 80×24: one line per host name, all 42 cells")
    func classroom() throws {
        let snapshot = try cluster(local: 2, hosts: 20, threads: 2, mixed: true)
        let buffer = grid(snapshot)
        let text = buffer.lines.joined(separator: "\n")
        for h in 1...20 { #expect(text.contains("student-\(h) "), "student-\(h) missing:\(buffer)") }
        #expect(text.contains("local"))
        let rows = gridRows(buffer)
        let glyphs: [Character] = Glyphs.unicode.spark + ["‖", "✗", "·"]
        #expect(glyphs.reduce(0) { $0 + count($1, in: buffer, rows: rows) } == 42, "\(buffer)")
        #expect(text.contains("42 workers on 21 hosts"))
    }

    @Test("hosts in name order, numbers as numbers, local threads first")
    func hostOrder() throws {
        // Joined in this order, with a local thread added last.
        let joined = [10, 2, 12, 1, 3, 11, 4, 9, 5, 8, 6, 7]
        var workers = joined.enumerated().map { k, n in
            var w = Fixtures.worker(k + 1)
            w.remote = RemoteWorkerInfo(host: "student-\(n)", pid: Int32(n), thread: 0)
            return w
        }
        workers.append(Fixtures.worker(13))
        // A remote machine that calls itself "local" is its own group, after this one's threads.
        var impostor = Fixtures.worker(14)
        impostor.remote = RemoteWorkerInfo(host: "local", pid: 99, thread: 0)
        workers.append(impostor)
        let snapshot = Fixtures.snapshot(workers: workers, job: try Fixtures.job())
        let groups = GridView.groups(snapshot)
        #expect(groups.map(\.name) == ["local", "local"] + (1...12).map { "student-\($0)" })
        #expect(groups[0].members == [12] && groups[1].members == [13])
        // In the grid the arrows go in its order: local, then student-1, student-2, ...
        var state = ViewState()
        state.panel = .grid
        state.selectedWorker = WorkerID(13)
        var visited: [WorkerID?] = []
        for _ in 0..<3 {
            _ = Reducer.reduce(&state, key: .down, snapshot: snapshot, pageSize: 5)
            visited.append(state.selectedWorker)
        }
        #expect(visited == [WorkerID(14), WorkerID(4), WorkerID(2)])
        _ = Reducer.reduce(&state, key: .home, snapshot: snapshot, pageSize: 5)
        #expect(state.selectedWorker == WorkerID(13), "Home: the grid's first cell")
        #expect(GridView.naturallyBefore("pc-9", "pc-10") && !GridView.naturallyBefore("pc-10", "pc-9"))
        #expect(GridView.naturallyBefore("Ada", "bob") && GridView.naturallyBefore("lab", "lab-1"))
    }

    @Test("each state has its own glyph, so monochrome and ASCII still tell them apart")
    func statesByGlyph() throws {
        let snapshot = try cluster(local: 8, mixed: true)
        for capabilities in [Capabilities.full, Capabilities(unicode: true, color: false), Capabilities.plain] {
            let buffer = grid(snapshot, capabilities: capabilities)
            let rows = gridRows(buffer)
            let paused: Character = capabilities.unicode ? "‖" : "|"
            let dead: Character = capabilities.unicode ? "✗" : "x"
            let idle: Character = capabilities.unicode ? "·" : "."
            #expect(count(paused, in: buffer, rows: rows) == 2, "\(buffer)")
            #expect(count(dead, in: buffer, rows: rows) == 2, "\(buffer)")
            #expect(count(idle, in: buffer, rows: rows) == 2, "\(buffer)")
            let running: [Character] = capabilities.unicode ? Glyphs.unicode.spark : Array("0123456789")
            #expect(running.reduce(0) { $0 + count($1, in: buffer, rows: rows) } == 2, "\(buffer)")
            if !capabilities.color {
                // No colour at all: the glyph is all there is, and it is enough.
                for y in rows { for x in 0..<buffer.width { #expect(buffer[x, y].style.color == .default) } }
            }
        }
    }

    @Test("a running cell's height is its chunk's progress")
    func progressByHeight() throws {
        var workers = [Fixtures.worker(1, done: 0), Fixtures.worker(2, done: 999)]
        workers[0] = Fixtures.worker(1, done: 0)
        let buffer = grid(Fixtures.snapshot(workers: workers, job: try Fixtures.job()))
        let rows = gridRows(buffer)
        #expect(count("▁", in: buffer, rows: rows) == 1, "\(buffer)")
        #expect(count("█", in: buffer, rows: rows) == 1, "\(buffer)")
    }

    @Test("the selected worker is reversed and described, with its host's counts and rate")
    func selection() throws {
        let snapshot = try cluster(local: 2, hosts: 3, threads: 4, mixed: true)
        let buffer = grid(snapshot, width: 100, selected: 7)
        let rows = gridRows(buffer)
        let reversed = rows.flatMap { y in (0..<buffer.width).filter { buffer[$0, y].style.reverse }.map { ($0, y) } }
        #expect(reversed.count == 1, "one cell, the selected one: \(buffer)")
        let text = buffer.lines.joined(separator: "\n")
        #expect(text.contains("▶ worker 7 on student-2 (pid 1001, thread 0)"), "\(buffer)")
        #expect(text.contains("student-2: 4 threads (1 idle, 1 running, 1 paused, 1 dead)"), "\(buffer)")
    }

    @Test("2,000 workers at 80×24: the selected one stays in view and the header says which lines show")
    func scrollsToTheSelection() throws {
        let snapshot = try cluster(local: 2_000)
        let buffer = grid(snapshot, selected: 1_990)
        let rows = gridRows(buffer)
        let reversed = rows.flatMap { y in (0..<buffer.width).filter { buffer[$0, y].style.reverse } }
        #expect(reversed.count == 1, "\(buffer)")
        #expect(buffer.lines.contains { $0.contains("(PgUp/PgDn)") && $0.contains("lines") }, "\(buffer)")
        #expect(buffer.lines.contains { $0.contains("▶ worker 1990") })
    }

    @Test("removed workers leave no cell; a host all of whose workers left leaves no line")
    func departedCollapse() throws {
        var snapshot = try cluster(local: 1, hosts: 2, threads: 2)
        var workers = snapshot.workers
        for i in [1, 2] { workers[i] = Fixtures.worker(i + 1, .removed, chunk: nil) }
        workers[1].remote = RemoteWorkerInfo(host: "student-1", pid: 1000, thread: 0)
        workers[2].remote = RemoteWorkerInfo(host: "student-1", pid: 1000, thread: 1)
        snapshot = Fixtures.snapshot(workers: workers, job: try Fixtures.job())
        let buffer = grid(snapshot)
        let text = buffer.lines.joined(separator: "\n")
        #expect(!text.contains("student-1 "), "\(buffer)")
        #expect(text.contains("3 workers on 2 hosts, 2 gone"), "\(buffer)")
    }

    @Test("a straggler stands out: ▼ before its rate in the table, its cell underlined in the grid")
    func stragglerMarked() throws {
        var workers = [Fixtures.worker(1), Fixtures.worker(2), Fixtures.worker(3, throughput: 0.2e9)]
        workers[2].isLagging = true
        let snapshot = Fixtures.snapshot(workers: workers, job: try Fixtures.job())
        let table = Fixtures.render(snapshot, width: 100, height: 24).buffer
        let row = try #require(table.lines.first { $0.hasPrefix("     3 running") })
        #expect(row.contains("▼200M/s"), "\(table)")
        #expect(!table.lines.contains { $0.hasPrefix("     1 running") && $0.contains("▼") })
        let buffer = grid(snapshot)
        let rows = gridRows(buffer)
        let underlined = rows.flatMap { y in (0..<buffer.width).filter { buffer[$0, y].style.underline && buffer[$0, y].character != " " } }
        #expect(underlined.count == 1, "\(buffer)")
    }

    @Test("the table offers the grid when it cannot show every worker")
    func tableOffersGrid() throws {
        let snapshot = try cluster(local: 40)
        let frame = Fixtures.render(snapshot, width: 120, height: 24)
        #expect(frame.buffer.lines.contains { $0.contains("v: all in the grid") }, "\(frame.buffer)")
        let few = Fixtures.render(try cluster(local: 3), width: 120, height: 24)
        #expect(!few.buffer.lines.contains { $0.contains("grid") })
    }
}

/// The light theme, for white terminals and projectors, read from cell attributes.
@Suite("Light theme")
struct LightThemeTests {
    @Test("COLORFGBG names the background: 7 and 15 are light, anything else or nothing is dark")
    func themeFromEnvironment() {
        #expect(Theme.fromEnvironment("0;15") == .light)
        #expect(Theme.fromEnvironment("0;default;7") == .light)
        #expect(Theme.fromEnvironment("15;0") == .dark)
        #expect(Theme.fromEnvironment(nil) == .dark)
        #expect(Theme.fromEnvironment("garbage") == .dark)
    }

    @Test("the terminal's answer to the background query (OSC 11) names the theme: light above half luminance")
    func themeFromBackgroundReply() {
        #expect(Theme.fromBackgroundReply("\u{1B}]11;rgb:ffff/ffff/ffff\u{1B}\\\u{1B}[?1;2c") == .light)
        #expect(Theme.fromBackgroundReply("\u{1B}]11;rgb:0000/0000/0000\u{07}") == .dark)
        #expect(Theme.fromBackgroundReply("\u{1B}]11;rgb:fd/f6/e3\u{1B}\\") == .light)  // Solarized light, 2 digits
        #expect(Theme.fromBackgroundReply("\u{1B}]11;rgb:1e1e/1e1e/2e2e\u{1B}\\") == .dark)
        #expect(Theme.fromBackgroundReply("\u{1B}[?1;2c") == nil, "only the device attributes: no colour said")
        #expect(Theme.fromBackgroundReply("\u{1B}]11;rgb:zz/00/00") == nil)
        #expect(Theme.environmentTheme(nil) == nil && Theme.environmentTheme("0;15") == .light)
    }

    @Test("no coloured text is bold on a light background (bold colours turn bright), and every state keeps its colour and glyph")
    func noBrightColours() throws {
        let states: [WorkerState] = [.running, .paused, .dead, .idle, .pausing]
        let workers = states.enumerated().map { Fixtures.worker($0.offset + 1, $0.element, chunk: $0.element == .dead ? nil : 7) }
        let snapshot = Fixtures.snapshot(workers: workers, job: try Fixtures.job())
        for panel in [DashboardPanel.workers, .grid] {
            var state = ViewState()
            state.panel = panel
            let light = Fixtures.render(snapshot, state: state, width: 100, height: 30,
                                        capabilities: Capabilities(unicode: true, color: true, theme: .light)).buffer
            let dark = Fixtures.render(snapshot, state: state, width: 100, height: 30, capabilities: .full).buffer
            var coloured = 0, boldInDark = 0
            for y in 0..<light.height {
                for x in 0..<light.width where light[x, y].style.color != .default && !light[x, y].style.reverse {
                    coloured += 1
                    #expect(!light[x, y].style.bold, "bold colour at \(x),\(y): \(light)")
                    // The same cell, the same colour and character as on a dark background.
                    #expect(light[x, y].character == dark[x, y].character && light[x, y].style.color == dark[x, y].style.color)
                    if dark[x, y].style.bold { boldInDark += 1 }
                }
            }
            #expect(coloured > 50 && boldInDark > 10, "the dark theme's bold colours are what the light one drops")
        }
    }

    /// The grid's sizes and modes: 1, 40, 300 and 2,000 workers in hosts of 2 or 8 threads.
    static let sizes: [(workers: Int, local: Int, hosts: Int, threads: Int)] = [(1, 1, 0, 2), (40, 0, 20, 2), (300, 4, 37, 8), (2_000, 0, 250, 8)]
    static let modes: [(name: String, capabilities: Capabilities)] = [
        ("colour", .full), ("monochrome", Capabilities(unicode: true, color: false)), ("ASCII", .plain),
        ("light", Capabilities(unicode: true, color: true, theme: .light)),
    ]

    @Test("every size at 80×24 and 200×60, in each mode: each cell drawn is its worker's glyph in its state's style; all fit or the header says which lines show",
          arguments: [(80, 24), (200, 60)], 0..<4)
    func matrix(window: (Int, Int), mode: Int) throws {
        let (name, capabilities) = Self.modes[mode]
        let palette = Palette(capabilities: capabilities)
        for size in Self.sizes {
            let snapshot = try GridViewTests().cluster(local: size.local, hosts: size.hosts, threads: size.threads, mixed: true)
            let selected = size.workers  // the last: the grid must scroll to it when it does not fit
            var state = ViewState()
            state.panel = .grid
            state.selectedWorker = WorkerID(selected)
            let frame = Fixtures.render(snapshot, state: state, width: window.0, height: window.1, capabilities: capabilities)
            let buffer = frame.buffer
            let what = "\(size.workers) workers, \(window.0)×\(window.1), \(name)"
            #expect(buffer.lines.allSatisfy { $0.count <= window.0 }, "\(what)")
            if !capabilities.unicode { #expect(buffer.lines.joined().allSatisfy { $0.isASCII }, "\(what)") }
            let cells = frame.clicks.regions.filter { if case .worker = $0.target { true } else { false } }
            let shownIDs = Set(cells.map { if case .worker(let id) = $0.target { id } else { WorkerID(0) } })
            if cells.count < size.workers {
                #expect(buffer.lines.contains { $0.contains("lines ") && $0.contains(" of ") }, "\(what): \(buffer)")
            }
            #expect(cells.count == shownIDs.count && shownIDs.contains(WorkerID(selected)), "\(what)")
            if window.0 == 200 || size.workers <= 300 { #expect(cells.count == size.workers, "\(what): all fit") }
            for cell in cells {
                guard case .worker(let id) = cell.target else { continue }
                let w = snapshot.workers[Int(id.rawValue) - 1]
                let drawn = buffer[cell.x.lowerBound, cell.y]
                #expect(drawn.character == GridView.glyph(w, glyphs: Glyphs.for(capabilities), unicode: capabilities.unicode), "\(what)")
                let expected = palette.state(w.state)
                #expect(drawn.style.color == expected.color, "\(what): worker \(id)")
                if id != WorkerID(selected) {
                    #expect(drawn.style.bold == expected.bold && drawn.style.reverse == expected.reverse, "\(what): worker \(id)")
                } else {
                    #expect(drawn.style.reverse != expected.reverse, "\(what): the selected cell stands out")
                }
                if capabilities.theme == .light, drawn.style.color != .default { #expect(!drawn.style.bold, "\(what)") }
            }
            // Grouped by host: every host with a worker shown has its name on screen.
            if size.hosts > 0, window.0 == 200 {
                for h in [1, size.hosts] { #expect(buffer.contains("student-\(h)"), "\(what)") }
            }
        }
    }
}
