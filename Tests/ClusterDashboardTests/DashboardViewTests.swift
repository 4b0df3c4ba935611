@testable import ClusterEngine
import Testing
@testable import ClusterDashboard

@Suite("Dashboard rendering")
struct DashboardViewTests {
    @Test("80x24: header, worker rows with bars, running total, log and footer are all visible")
    func standardSize() throws {
        let workers = [Fixtures.worker(1), Fixtures.worker(2, .paused, done: 250), Fixtures.worker(3, .dead, chunk: nil),
                       Fixtures.worker(4, .idle, chunk: nil), Fixtures.worker(5, .removed, chunk: nil)]
        let events = Fixtures.events([
            .jobStarted(JobID(1), lo: 1, hi: 100_000),
            .workerKilled(WorkerID(3), chunk: 17), .chunkRequeued(chunk: 17, from: WorkerID(3)),
            .chunkRedistributed(chunk: 17, from: WorkerID(3), to: WorkerID(1)),
        ])
        let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job()), events: events)
        let lines = frame.buffer.lines
        #expect(lines.count == 24 && frame.buffer.width == 80)
        #expect(lines[0].contains("cluster-top") && lines[0].contains("1...100,000") && lines[0].contains("RUNNING"))
        #expect(lines[0].contains("chunk 1,000") && lines[0].contains("dynamic"))
        #expect(lines[1].contains("elapsed 0:12") && lines[1].contains("40.0%"))
        #expect(lines[2].contains("throughput 7.50G/s"))  // 5 fixture workers at 1.5G/s
        #expect(lines[2].contains("1 paused") && lines[2].contains("1 dead"))
        #expect(lines[3].contains("total 123,456,789"))
        #expect(lines[3].hasPrefix(" Σx² total"), "the screen says what is summed: \(lines[3])")
        #expect(lines[4].contains("40/100 done") && lines[4].contains("1 re-queued") && lines[4].contains("2 stale"))
        #expect(lines[5].contains("STATE") && lines[5].contains("RATE") && lines[5].contains("SHARE"))
        // One row per worker with its state in words; the running one has a bar at 50%.
        let row1 = try #require(lines.first { $0.contains("   1 running") })
        #expect(row1.contains("█") && row1.contains("50%") && row1.contains("#7") && row1.contains("1.50G/s"))
        #expect(lines.contains { $0.contains("   2 paused") && $0.contains("25%") })
        #expect(lines.contains { $0.contains("   3 dead") && $0.contains("crashed") })
        #expect(lines.contains { $0.contains("   4 idle") })
        // The removed worker's row collapses into a count.
        #expect(!lines.contains { $0.contains("   5 removed") })
        #expect(lines.contains { $0.contains("1 removed worker: gone") })
        #expect(lines.contains { $0.contains("job 1 started: 1...100,000") })
        // The kill and its redistribution are one log line.
        #expect(lines.contains { $0.contains("worker 3 killed; chunk 17 re-queued → worker 1") })
        #expect(!lines.contains { $0.contains("chunk 17 re-queued from") })
        #expect(lines[23].contains("Help") && lines[23].contains("Quit") && lines[23].contains("Kill"))
        // Every row fits the width exactly: nothing wraps.
        #expect(lines.allSatisfy { $0.count <= 80 })
    }

    @Test("the selected row is highlighted and marked")
    func selection() throws {
        var state = ViewState()
        state.selectedWorker = WorkerID(2)
        let frame = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1), Fixtures.worker(2)], job: try Fixtures.job()),
                                    state: state)
        let rowY = try #require(frame.buffer.lines.firstIndex { $0.contains("   2 running") })
        #expect(frame.buffer[1, rowY].character == "▶")
        // Highlighted outside its bar (the bar keeps its meaning; see "The selected row").
        #expect(frame.buffer[8, rowY].style.reverse)
        #expect(!frame.buffer[8, rowY - 1].style.reverse)
    }

    @Test("narrower than a range column: the selected worker's chunk range gets its own line")
    func selectionDetail() throws {
        var state = ViewState()
        state.selectedWorker = WorkerID(2)
        let workers = [Fixtures.worker(1), Fixtures.worker(2, chunk: 9, done: 250, redo: true)]
        let narrow = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job()), state: state)
        #expect(!narrow.buffer.line(5).contains("RANGE"))
        let detail = narrow.buffer.lines.first { $0.contains("▶ worker 2:") } ?? ""
        #expect(detail == " ▶ worker 2: chunk #9 (redo), 25.0% of 9,001...10,000, attempt 200")
        let wide = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job()), state: state,
                                   width: 200, height: 60)
        #expect(!wide.buffer.contains("▶ worker 2: chunk"))
        #expect(wide.buffer.contains("9,001...10,000"))  // in the RANGE column instead
    }

    @Test("remote workers: a WHERE column with host:pid/thread, lease and departure in words, joins in the log")
    func remoteRows() throws {
        func remote(_ worker: WorkerSnapshot, thread: Int, leaseLost: Bool = false) -> WorkerSnapshot {
            var worker = worker
            worker.remote = RemoteWorkerInfo(host: "lab-7", pid: 4242, thread: thread, kernel: "avx2")
            worker.leaseLost = leaseLost
            return worker
        }
        let workers = [Fixtures.worker(1), remote(Fixtures.worker(2, done: 750), thread: 0),
                       remote(Fixtures.worker(3, .dead, chunk: nil), thread: 1, leaseLost: true),
                       remote(Fixtures.worker(4, .removed, chunk: nil), thread: 2)]
        let events = Fixtures.events([
            .remoteWorkerJoined(WorkerID(2), host: "lab-7", pid: 4242, thread: 0, kernel: "avx2"),
            .leaseExpired(WorkerID(3), chunk: 17, silence: 1.25),
            .remoteWorkerRefused(peer: "10.0.0.9:5555", reason: "wrong token"),
        ])
        var state = ViewState()
        state.selectedWorker = WorkerID(2)
        let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job()), events: events, state: state)
        let lines = frame.buffer.lines
        let header = try #require(lines.first { $0.contains("STATE") })
        let whereX = try #require(header.range(of: "WHERE")).lowerBound.utf16Offset(in: header)
        func row(_ id: Int) throws -> String { try #require(lines.first { $0.contains("   \(id) ") && $0.count > 40 }) }
        // Each row names its place in the WHERE column, aligned under the header.
        for (id, place) in [(1, "local"), (2, "lab-7:4242/0"), (3, "lab-7:4242/1")] {
            let line = try row(id)
            #expect(line.range(of: place)?.lowerBound.utf16Offset(in: line) == whereX, "\(line)")
        }
        #expect(try row(2).contains("75%") && row(2).contains("#7"))
        #expect(try row(3).contains("lease lost: no heartbeat"))
        // Each host has a row over its threads, its name under WHERE; the departed are a count.
        let hostRow = try #require(lines.first { $0.contains("lab-7 ") && $0.contains("2 threads") }, "\(frame.buffer)")
        #expect(hostRow.range(of: "lab-7")?.lowerBound.utf16Offset(in: hostRow) == whereX)
        #expect(hostRow.contains("mixed") && hostRow.contains("▾"))
        #expect(lines.contains { $0.contains("1 removed worker: gone") })
        // The selected remote worker's detail line says where it runs, and with which kernel.
        #expect(frame.buffer.contains("▶ worker 2 on lab-7 (pid 4242, thread 0, avx2 kernel): chunk #7"))
        #expect(frame.buffer.contains("worker 2 joined from lab-7 (pid 4242, thread 0, avx2 kernel)"))
        #expect(frame.buffer.contains("worker 3 lease expired: silent for 1250 ms; chunk 17 re-queued"))
        #expect(frame.buffer.contains("worker from 10.0.0.9:5555 refused: wrong token"))
        #expect(lines.allSatisfy { $0.count <= 80 })
        // A long host name is shortened, never the pid and thread that tell rows apart.
        let long = RemoteWorkerInfo(host: "build-runner-0123456789abcdef.internal.example", pid: 31337, thread: 12)
        #expect(DashboardView.placeLabel(long, width: 20, glyphs: .unicode) == "build-runn…:31337/12")
        #expect(DashboardView.placeLabel(long, width: 20, glyphs: .ascii) == "build-runn~:31337/12")
        // Without remote workers there is no WHERE column at all.
        let local = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()))
        #expect(!local.buffer.contains("WHERE"))
    }

    @Test("200x60 uses the room: wider bars, a range column, more log lines")
    func largeSize() throws {
        let events = Fixtures.events((1...30).map { .workerAdded(WorkerID($0)) })
        let frame = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()),
                                    events: events, width: 200, height: 60)
        let lines = frame.buffer.lines
        #expect(lines[5].contains("RANGE"))
        let row = try #require(lines.first { $0.contains("   1 running") })
        #expect(row.contains("7,001...8,000"))
        #expect(row.filter { $0 == "█" }.count >= 40)
        #expect(lines.filter { $0.contains("added") }.count == 30)
    }

    @Test("a too-small terminal says its size and the size needed", arguments: [(40, 10), (59, 30), (100, 15)])
    func tooSmall(width: Int, height: Int) throws {
        let frame = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()),
                                    width: width, height: height)
        #expect(frame.buffer.contains("Terminal too small"))
        #expect(frame.buffer.contains("current \(width)×\(height), needs at least 60×16"))
        #expect(frame.buffer.contains("press q to quit"))
    }

    @Test("ASCII mode uses only ASCII, and bars and states stay readable")
    func asciiMode() throws {
        let workers = [Fixtures.worker(1, done: 750), Fixtures.worker(2, .dead, chunk: nil)]
        let events = Fixtures.events([.workerKilled(WorkerID(2), chunk: 3), .chunkRedistributed(chunk: 3, from: WorkerID(2), to: WorkerID(1))])
        var state = ViewState()
        state.showHelp = false
        let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job(status: .verified)),
                                    events: events, capabilities: .plain)
        let text = frame.buffer.lines.joined(separator: "\n")
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(text.contains("VERIFIED ok"))
        let row = try #require(frame.buffer.lines.first { $0.contains("   1 running") })
        #expect(row.contains("###") && row.contains("75%"))
        #expect(text.contains("worker 2 killed; chunk 3 re-queued -> worker 1"))
    }

    @Test("monochrome mode has no colors but still marks states with attributes")
    func monochrome() throws {
        let workers = [Fixtures.worker(1), Fixtures.worker(2, .dead, chunk: nil)]
        let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job()), capabilities: .plain)
        #expect(frame.buffer.cells.allSatisfy { $0.style.color == .default })
        let deadY = try #require(frame.buffer.lines.firstIndex { $0.contains("   2 dead") })
        let x = frame.buffer.line(deadY).range(of: "dead")!.lowerBound.utf16Offset(in: frame.buffer.line(deadY))
        #expect(frame.buffer[x, deadY].style.reverse)
        let runningY = try #require(frame.buffer.lines.firstIndex { $0.contains("   1 running") })
        #expect(frame.buffer[9, runningY].style.bold)
        // Colors on: the same dead state is red.
        let colored = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job()))
        #expect(colored.buffer[x, deadY].style.color == .red)
    }

    @Test("100 workers: the list scrolls to the selection and says how many are hidden")
    func scrolling() throws {
        let workers = (1...100).map { Fixtures.worker($0) }
        var state = ViewState()
        state.selectedWorker = WorkerID(60)
        let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job()), state: state)
        #expect(frame.workerRows == 12)  // 24 rows - 5 header - table header - detail - log title - footer - 3 log
        let lines = frame.buffer.lines
        #expect(lines.contains { $0.contains("  60 running") })
        #expect(!lines.contains { $0.contains("   1 running") })
        #expect(frame.scrollOffset == 48)  // worker 60 on the last visible row
        #expect(lines.contains { $0.contains("88 more workers: ↑ 48 above, ↓ 40 below") })
    }

    @Test("the help overlay lists every key from the key table")
    func help() throws {
        var state = ViewState()
        state.showHelp = true
        let frame = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()),
                                    state: state, width: 100, height: 30)
        #expect(frame.buffer.contains("cluster-top keys"))
        for row in KeyMap.helpRows {
            #expect(frame.buffer.contains(row.keys + String(repeating: " ", count: 3)) || frame.buffer.contains(row.keys),
                    "missing key \(row.keys)")
            #expect(frame.buffer.contains(String(row.description.prefix(30))), "missing \(row.description)")
        }
    }

    @Test("at 80×24 the help shows every key, and nothing of the dashboard shows around it")
    func helpCoversTheScreen() throws {
        var state = ViewState()
        state.showHelp = true
        let frame = Fixtures.render(Fixtures.snapshot(workers: (1...30).map { Fixtures.worker($0) }, job: try Fixtures.job()),
                                    state: state, width: 80, height: 24)
        let lines = frame.buffer.lines
        let box = try #require(lines.firstIndex { $0.contains("cluster-top keys") })
        let left = try #require(lines[box].firstIndex { $0 != " " }).utf16Offset(in: lines[box])
        for (y, line) in lines.enumerated() {
            #expect(line.prefix(left).allSatisfy { $0 == " " }, "row \(y) shows the dashboard left of the box:\n\(frame.buffer)")
        }
        #expect(!lines.contains { $0.contains("more: enlarge the window") }, "\(frame.buffer)")
        // Every description whole, none cut.
        for row in KeyMap.helpRows { #expect(frame.buffer.contains(row.description), "cut: \(row.description)") }
    }

    @Test("ASCII mode is ASCII everywhere: the help's arrows spelled out, a caption's and the log's, nothing left that a C locale drops")
    func asciiEverywhere() throws {
        var state = ViewState(caption: "Lesson 5: scalar → sse2 → avx2 → avx512 × 2 cores…")
        state.showHelp = true
        let events = Fixtures.events([.chunkRedistributed(chunk: 3, from: WorkerID(2), to: WorkerID(1))])
        let snapshot = Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job())
        let help = Fixtures.render(snapshot, events: events, state: state, capabilities: .plain).buffer
        #expect(help.lines.joined().unicodeScalars.allSatisfy { $0.isASCII }, "\(help)")
        #expect(help.contains("100% -> 50% -> 25%"), "\(help)")
        state.showHelp = false
        let screen = Fixtures.render(snapshot, events: events, state: state, width: 100, capabilities: .plain).buffer
        #expect(screen.lines.joined().unicodeScalars.allSatisfy { $0.isASCII }, "\(screen)")
        #expect(screen.contains("scalar -> sse2 -> avx2 -> avx512 x 2 cores..."), "\(screen)")
    }

    @Test("text that does not fit is cut with an ellipsis, and the header's note is left out whole")
    func ellipsis() throws {
        let frame = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job(total: 123_456_789_012_345)),
                                    width: 60, height: 20)
        let total = try #require(frame.buffer.lines.first { $0.contains("total") })
        #expect(!total.contains("(checked against the closed f"), "\(total)")
        #expect(total.contains("(checked at the end)") || !total.contains("("), "\(total)")
    }

    @Test("a running job with nothing moving says PAUSED or STALLED instead of RUNNING")
    func stalledJob() throws {
        let paused = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1, .paused)], job: try Fixtures.job()))
        #expect(paused.buffer.line(0).contains("PAUSED") && !paused.buffer.line(0).contains("RUNNING"))
        let dead = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1, .dead, chunk: nil)], job: try Fixtures.job()))
        #expect(dead.buffer.line(0).contains("STALLED: no live worker"))
        // Idle workers at a job's very start are about to take chunks: not a stall.
        let starting = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1, .idle, chunk: nil),
                                                                   Fixtures.worker(2, .dead, chunk: nil)], job: try Fixtures.job()))
        #expect(starting.buffer.line(0).contains("STARTING") && !starting.buffer.line(0).contains("STALLED"))
        // A coordinator before its first laptop: waiting, not stalled.
        var waiting = try Fixtures.job(done: 0)
        waiting.waitsForWorkers = true
        let before = Fixtures.render(Fixtures.snapshot(workers: [], job: waiting))
        #expect(before.buffer.line(0).contains("WAITING FOR WORKERS") && !before.buffer.line(0).contains("STALLED"))
    }

    @Test("verified and mismatch are shown in the header and the total line")
    func finishedStates() throws {
        let verified = Fixtures.render(Fixtures.snapshot(workers: [], job: try Fixtures.job(status: .verified, total: 333_338_333_350_000, done: 100)))
        #expect(verified.buffer.line(0).contains("VERIFIED ✓"))
        #expect(verified.buffer.line(3).contains("total 333,338,333,350,000  = closed form ✓"))
        #expect(verified.buffer.line(1).contains("100.0%") && verified.buffer.line(1).contains("ETA done"))
        // 100,000 elements in the fixture's 12.5 s.
        #expect(verified.buffer.line(2).contains("throughput 8.00k/s average"))
        let mismatch = Fixtures.render(Fixtures.snapshot(workers: [], job: try Fixtures.job(status: .mismatch, total: 5, done: 100)))
        #expect(mismatch.buffer.line(0).contains("MISMATCH ✗"))
        #expect(mismatch.buffer.line(3).contains("≠ closed form 333,338,333,350,000"))
    }

    @Test("the prompt replaces the footer and shows its error")
    func prompt() throws {
        var state = ViewState()
        state.prompt = JobPrompt(text: "1..5", error: "range '1..5' must be written LO...HI")
        let frame = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()), state: state)
        #expect(frame.buffer.line(23).contains("New job LO...HI:  1..5_"))
        #expect(frame.buffer.line(22).contains("must be written LO...HI"))
    }

    @Test("bars have sub-cell resolution with block glyphs", arguments: [(0.0, "····"), (0.5, "██··"), (0.55, "██▏·"), (1.0, "████")])
    func bars(fraction: Double, expected: String) {
        #expect(Widgets.bar(fraction, width: 4, glyphs: .unicode) == expected)
    }
}

@Suite("The header's recording badge")
struct RecordingBadgeTests {
    @Test("REC while recording, REC STOPPED with the reason on the status line once a write failed, nothing otherwise; the job's status keeps its place")
    func badge() throws {
        let snapshot = Fixtures.snapshot(workers: [Fixtures.worker(1), Fixtures.worker(2)], job: try Fixtures.job())
        var state = ViewState()
        #expect(!Fixtures.render(snapshot, state: state).buffer.lines[0].contains("REC"))
        Reducer.receive(&state, .recording(.on), at: 20)
        #expect(state.status == nil, "starting to record says nothing but the badge")
        var title = Fixtures.render(snapshot, state: state).buffer.lines[0]
        #expect(title.hasSuffix(" REC  RUNNING"), "\(title)")
        Reducer.receive(&state, .recording(.stopped, reason: "No space left on device"), at: 21)
        let frame = Fixtures.render(snapshot, state: state)
        title = frame.buffer.lines[0]
        #expect(title.hasSuffix(" REC STOPPED  RUNNING"), "\(title)")
        #expect(state.status?.isError == true)
        #expect(frame.buffer.lines.contains { $0.contains("the recording stopped: No space left on device; it replays up to here") },
                "\(frame.buffer.lines.joined(separator: "\n"))")
    }
}

@Suite("A worker on a run of chunks, and counts too wide for their column")
struct RunRowTests {
    @Test("a run's row names the chunk its progress has reached and the details say the whole run; a chunk count too wide for its column is shortened, never cut")
    func runRow() throws {
        // Chunks of 1,000: 2,500 of the run's 5,000 elements done is chunk 40 + 2.
        let run = ChunkAssignment(job: JobID(1), chunk: 40, chunkCount: 5, attempt: AttemptID(9), elements: 40_001...45_000,
                                  elementsDone: 2_500, origin: .fresh, wasSplit: false)
        let worker = WorkerSnapshot(id: WorkerID(1), state: .running, isLeaving: false, speed: 1, assignment: run,
                                    elementsProcessed: 1, elementsAccepted: 1, chunksDone: 36_432_805, throughput: 1.5e9)
        let frame = Fixtures.render(Fixtures.snapshot(workers: [worker, Fixtures.worker(2, chunksDone: 679_738)], job: try Fixtures.job()))
        let row = try #require(frame.buffer.lines.first { $0.contains("   1 running") })
        #expect(row.contains("#42 ") && row.contains("50%"), "\(row)")
        #expect(row.hasSuffix(" 36.4M") || row.contains(" 36.4M "), "not the count's last digits: \(row)")
        #expect(!row.contains("432,805"))
        let other = try #require(frame.buffer.lines.first { $0.contains("   2 running") })
        #expect(other.contains(" 680k"), "\(other)")
        #expect(frame.buffer.contains("chunks #40–44, 50.0%"), "\(frame.buffer.lines.joined(separator: "\n"))")
        #expect(run.chunkInProgress(chunkSize: 1_000) == 42 && run.chunkInProgress(chunkSize: nil) == 40)
        #expect(Format.count(679_738, width: 7) == "679,738" && Format.count(36_432_805, width: 6) == "36.4M")
    }

    @Test("the chunk line of a job of 97 million chunks ends whole at 80 columns: its counts are shortened, not its end cut")
    func longChunkLine() throws {
        let job = JobSnapshot(
            id: JobID(1), spec: try JobSpec(lo: 1, hi: 400_000_000_000, chunkSize: 4_096), status: .running,
            chunksTotal: 97_656_250, chunksDone: 29_013_410, chunksInFlight: 595, chunksRequeued: 98, chunksRedone: 98,
            chunksSplit: 0, chunksStolen: 0, elementsCompleted: 29_013_410 * 4_096, elementsInFlight: 0,
            runningTotal: 1, elapsed: 3, closedForm: nil)
        let snapshot = ClusterSnapshot(time: 3, job: job, queuedJobs: 0, finishedJobs: 0, workers: [Fixtures.worker(1)],
                                       throughput: 3e10, throughputHistory: [3e10], staleResults: 114, lastEventSequence: 0)
        let line = try #require(Fixtures.render(snapshot).buffer.lines.first { $0.hasPrefix(" chunks ") })
        #expect(line.trimmingCharacters(in: .whitespaces).hasSuffix("114 stale"), "\(line)")
        #expect(line.contains("29.0M/97.7M done") && line.contains("68.6M queued") && line.contains("98 re-queued"), "\(line)")
        // A small job keeps every digit.
        let small = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()))
        #expect(small.buffer.contains("40/100 done"))
    }
}

extension RunRowTests {
    @Test("a chunk line that fills the width exactly keeps every digit (the classroom screenshot's)")
    func exactlyFullChunkLine() throws {
        let job = JobSnapshot(
            id: JobID(1), spec: try JobSpec(lo: 1, hi: 2_000_000_000_000, chunkSize: 4_194_304), status: .running,
            chunksTotal: 476_838, chunksDone: 146_792, chunksInFlight: 40, chunksRequeued: 0, chunksRedone: 0,
            chunksSplit: 0, chunksStolen: 0, elementsCompleted: 146_792 * 4_194_304, elementsInFlight: 0,
            runningTotal: 1, elapsed: 11, closedForm: nil)
        let snapshot = ClusterSnapshot(time: 11, job: job, queuedJobs: 0, finishedJobs: 0, workers: [Fixtures.worker(1)],
                                       throughput: 5e10, throughputHistory: [5e10], staleResults: 0, lastEventSequence: 0)
        let line = try #require(Fixtures.render(snapshot).buffer.lines.first { $0.hasPrefix(" chunks ") })
        #expect(line == " chunks 146,792/476,838 done  40 in flight  330,006 queued  0 re-queued  0 stale", "\(line)")
    }
}
