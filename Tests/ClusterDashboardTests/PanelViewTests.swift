@testable import ClusterEngine
import Foundation
import Testing
@testable import ClusterDashboard

@Suite("Timeline and speedup panels")
struct PanelViewTests {
    /// Job 1 runs from t=10 to now (t=20) on two workers; the lanes are 72 cells for 10 s.
    func timelineFrame(capabilities: Capabilities = .full, width: Int = 80) throws -> DashboardFrame {
        var state = ViewState()
        state.panel = .timeline
        let segments = [
            Fixtures.segment(1, chunk: 0, 10, 13),
            Fixtures.segment(1, chunk: 1, 13, 16),
            Fixtures.segment(1, chunk: 9, 4, 6, job: 0),  // another job: not drawn
            Fixtures.segment(1, chunk: 4, 16, nil),
            Fixtures.segment(2, chunk: 2, 10, 12, .killed),
            Fixtures.segment(2, chunk: 2, 12, 15, origin: .redo(lostBy: WorkerID(1))),
            Fixtures.segment(2, chunk: 3, 15, 18, origin: .split(from: WorkerID(1))),
        ]
        let snapshot = Fixtures.snapshot(workers: [Fixtures.worker(1), Fixtures.worker(2)], job: try Fixtures.job(), time: 20)
        return Fixtures.render(snapshot, state: state, width: width, capabilities: capabilities,
                               timeline: Fixtures.timeline(now: 20, segments: segments, jobStart: 10))
    }

    func lane(_ frame: DashboardFrame, worker: Int) throws -> [Character] {
        // The label is the worker number, right-aligned, after a selection marker or a space.
        let line = try #require(frame.buffer.lines.first {
            $0.count > 7 && !$0.contains("ID") && String($0.prefix(7).dropFirst(2)).trimmingCharacters(in: .whitespaces) == "\(worker)"
        })
        return Array(line.dropFirst(7))
    }

    @Test("at 80 columns the legend explains every glyph on screen: a backup and the attempt it fenced off")
    func legendForBackups() throws {
        var state = ViewState()
        state.panel = .timeline
        let segments = [
            Fixtures.segment(1, chunk: 0, 10, 18, .superseded),
            Fixtures.segment(2, chunk: 1, 10, 14),
            Fixtures.segment(2, chunk: 0, 14, 18, origin: .backup(of: WorkerID(1))),
        ]
        let snapshot = Fixtures.snapshot(workers: [Fixtures.worker(1), Fixtures.worker(2)], job: try Fixtures.job(), time: 20)
        for capabilities in [Capabilities.full, Capabilities(unicode: false, color: false)] {
            let frame = Fixtures.render(snapshot, state: state, width: 80, capabilities: capabilities,
                                        timeline: Fixtures.timeline(now: 20, segments: segments, jobStart: 10))
            let header = try #require(frame.buffer.lines.first { $0.contains("WHOLE JOB") })
            let unicode = capabilities.unicode
            for word in [unicode ? "▚ backup" : "b backup", unicode ? "× fenced off" : "f fenced off"] {
                #expect(header.contains(word), "\(header)")
            }
            #expect(try lane(frame, worker: 1).contains(unicode ? "×" : "f"))
            #expect(try lane(frame, worker: 2).contains(unicode ? "▚" : "b"))
        }
    }

    @Test("a lane per worker: each chunk a segment, shaded by its fate, on a labelled time axis")
    func timelineLanes() throws {
        let frame = try timelineFrame()
        let lines = frame.buffer.lines
        let header = try #require(lines.first { $0.contains("WHOLE JOB") })
        for word in ["█▇ done", "▒ running", "┄ paused", "✗ killed", "▓ redone", "░ stolen/split"] {
            #expect(header.contains(word), "\(header)")
        }
        // 7.2 cells a second from t=10: worker 1 did chunk 0 (full blocks), then chunk 1 (the
        // alternate shade, so the boundary shows), and is running chunk 4 from 16 s on.
        let one = try lane(frame, worker: 1)
        #expect(one.count == 72)
        #expect(one[0..<21].allSatisfy { $0 == "█" })
        #expect(one[22..<43].allSatisfy { $0 == "▇" })
        #expect(one[44..<72].allSatisfy { $0 == "▒" })
        // Worker 2: killed at once (the kill wins the cell it shares), redid the chunk, then took
        // a stolen piece, then nothing.
        let two = try lane(frame, worker: 2)
        #expect(two[0..<15].allSatisfy { $0 == "✗" })
        #expect(two[15..<36].allSatisfy { $0 == "▓" })
        #expect(two[36..<58].allSatisfy { $0 == "░" })
        #expect(two.count == 58 || two[58...].allSatisfy { $0 == " " })
        // The axis: 2 s ticks from the job's start.
        let axis = try #require(lines.first { $0.contains("time") })
        for label in ["│0s", "│2s", "│4s", "│8s"] { #expect(axis.contains(label)) }
        // Colors follow the fate.
        let y = try #require(lines.firstIndex { $0.hasPrefix("     2 ✗") })
        #expect(frame.buffer[7, y].style.color == .red)
        #expect(frame.buffer[7 + 20, y].style.color == .magenta)
        #expect(frame.buffer[7 + 40, y].style.color == .cyan)
    }

    @Test("the timeline without Unicode or color still tells every fate apart")
    func timelinePlain() throws {
        let frame = try timelineFrame(capabilities: .plain)
        #expect(frame.buffer.lines.allSatisfy { $0.allSatisfy(\.isASCII) })
        let one = try lane(frame, worker: 1), two = try lane(frame, worker: 2)
        #expect(one.first == "#" && one[30] == "=" && one.last == ">")
        #expect(two.first == "x" && two[17] == "r" && two[40] == "s")
    }

    @Test("many workers: the lanes scroll with the selection")
    func timelineScrolls() throws {
        var state = ViewState()
        state.panel = .timeline
        state.selectedWorker = WorkerID(40)
        let workers = (1...40).map { Fixtures.worker($0) }
        let segments = (1...40).map { Fixtures.segment($0, chunk: Int64($0), 10, nil) }
        let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job(), time: 20), state: state,
                                    timeline: Fixtures.timeline(now: 20, segments: segments, jobStart: 10))
        let lines = frame.buffer.lines
        #expect(lines.contains { $0.hasPrefix(" ▶  40 ▒") })
        #expect(!lines.contains { $0.hasPrefix("     1 ") })
        #expect(lines.contains { $0.contains("more workers") && $0.contains("above") })
        #expect(lines.contains { $0.contains("time") && $0.contains("│0s") })
    }

    /// A 60 s job of 20,000 attempts: workers 2 to 4 run 9 ms chunks back to back from 0 s; worker
    /// 1, the straggler, starts its only chunk at 0.5 s and is still on it. The engine kept only
    /// the last 4,096 attempts exactly.
    func longJob(width: Int, zoom: TimelineView.Zoom = .wholeJob, removed: Bool = false) throws -> DashboardFrame {
        var segments: [TimelineSegment] = []
        for n in 0..<19_999 {
            let worker = 2 + n % 3, start = Double(n / 3) * 0.009
            segments.append(Fixtures.segment(worker, chunk: Int64(n + 1), start, start + 0.009))
        }
        segments.append(Fixtures.segment(1, chunk: 0, 0.5, nil))
        let kept = Array(segments.suffix(4_096))
        let completeFrom = segments[segments.count - 4_097].end!
        var timeline = Fixtures.timeline(now: 60, segments: segments, jobStart: 0)
        timeline = TimelineSnapshot(now: 60, segments: kept, whole: timeline.whole, jobStart: 0, segmentsCompleteFrom: completeFrom)
        var state = ViewState()
        state.panel = .timeline
        state.timelineZoom = zoom
        let workers = (1...4).map { Fixtures.worker($0, removed && $0 == 4 ? .removed : .running) }
        return Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job(), time: 60), state: state,
                               width: width, timeline: timeline)
    }

    @Test("a job of 20,000 attempts: the axis starts at the job's start and the straggler's first chunk at 0.5 s shows")
    func wholeJob() throws {
        // 192 lane cells for 60 s: 0.3125 s each, so 0.5 s falls in the second cell.
        let frame = try longJob(width: 200)
        let one = try lane(frame, worker: 1)
        #expect(one[0] == " " && one[1] == "▒" && one.last == "▒", "\(frame.buffer)")
        #expect(try lane(frame, worker: 2).prefix(191).allSatisfy { $0 == "█" })
        let axis = try #require(frame.buffer.lines.first { $0.contains("time") })
        #expect(axis.hasPrefix("  time │0s"), "\(axis)")
        #expect(axis.contains("│30s") && axis.contains("│50s"))
        #expect(frame.buffer.lines.contains { $0.contains("WHOLE JOB") })
    }

    @Test("zoomed in, the timeline shows the last 10 seconds exactly, on the job's clock")
    func recentSeconds() throws {
        let frame = try longJob(width: 200, zoom: .recent)
        #expect(frame.buffer.lines.contains { $0.contains("LAST 10 S") })
        let axis = try #require(frame.buffer.lines.first { $0.contains("time") })
        #expect(axis.hasPrefix("  time │50s") && axis.contains("│59s"), "\(axis)")
        #expect(try lane(frame, worker: 2).allSatisfy { $0 == "█" })
        #expect(try lane(frame, worker: 1).allSatisfy { $0 == "▒" })
    }

    @Test("removed workers' lanes collapse into one; paused stretches show as paused")
    func removedAndPaused() throws {
        var state = ViewState()
        state.panel = .timeline
        let segments = [Fixtures.segment(1, chunk: 0, 10, nil), Fixtures.segment(2, chunk: 1, 10, 12),
                        Fixtures.segment(3, chunk: 2, 10, 14), Fixtures.segment(4, chunk: 3, 14, 15, .killed)]
        let timeline = Fixtures.timeline(now: 20, segments: segments, jobStart: 10, pauses: [(1, 15, 20)])
        let workers = [Fixtures.worker(1, .paused), Fixtures.worker(2), Fixtures.worker(3, .removed), Fixtures.worker(4, .removed)]
        for capabilities in [Capabilities.full, .plain] {
            let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job(), time: 20), state: state,
                                        capabilities: capabilities, timeline: timeline)
            let lines = frame.buffer.lines
            let paused: Character = capabilities.unicode ? "┄" : "-", running: Character = capabilities.unicode ? "▒" : ">"
            let one = try lane(frame, worker: 1)
            #expect(one[10] == running && one[60] == paused && one.last == paused, "\(frame.buffer)")
            #expect(!lines.contains { $0.hasPrefix("     3 ") || $0.hasPrefix("     4 ") })
            let gone = try #require(lines.first { $0.hasPrefix("  gone ") }, "\(frame.buffer)")
            // Worker 3's chunk, then worker 4's kill, in one lane.
            let cells = Array(gone.dropFirst(7))
            #expect(cells[5] == (capabilities.unicode ? "█" : "#") && cells[32] == (capabilities.unicode ? "✗" : "x"))
            #expect(gone.contains("2 removed workers"))
            let header = try #require(lines.first { $0.contains("WHOLE JOB") })
            #expect(header.contains(capabilities.unicode ? "┄ paused" : "- paused") && header.contains(capabilities.unicode ? "█▇ done" : "#= done"))
        }
    }

    @Test("removed workers that did nothing in the shown job take no lane")
    func idleRemovedWorkers() throws {
        var state = ViewState()
        state.panel = .timeline
        let timeline = Fixtures.timeline(now: 20, segments: [Fixtures.segment(1, chunk: 0, 10, nil)], jobStart: 10)
        let workers = [Fixtures.worker(1), Fixtures.worker(2, .removed), Fixtures.worker(3, .removed)]
        let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job(), time: 20), state: state,
                                    timeline: timeline)
        #expect(!frame.buffer.lines.contains { $0.hasPrefix("  gone") }, "\(frame.buffer)")
        #expect(frame.buffer.lines.contains { $0.contains("time") && $0.contains("│0s") })
    }

    func snapshot(running: Int, perWorker: Double, at time: Double, throttled: Bool = false) throws -> ClusterSnapshot {
        let workers = (1...running).map { Fixtures.worker($0, speed: throttled && $0 == 1 ? 0.5 : 1, throughput: perWorker) }
        return Fixtures.snapshot(workers: workers, job: try Fixtures.job(), time: time)
    }

    @Test("the speedup tracker averages each worker count once it has settled, and skips throttled frames")
    func tracker() throws {
        var tracker = SpeedupTracker()
        // 1 worker at 2 G/s, then 2 workers at 2 G/s each, then 4 workers sharing 4 G/s.
        for step in 0..<30 { tracker.record(try snapshot(running: 1, perWorker: 2e9, at: Double(step) / 10)) }
        for step in 30..<60 { tracker.record(try snapshot(running: 2, perWorker: step < 45 ? 1e9 : 2e9, at: Double(step) / 10)) }
        for step in 60..<90 { tracker.record(try snapshot(running: 4, perWorker: 1e9, at: Double(step) / 10)) }
        for step in 90..<120 { tracker.record(try snapshot(running: 3, perWorker: 5e9, at: Double(step) / 10, throttled: true)) }
        let points = tracker.sortedPoints
        #expect(points.map(\.workers) == [1, 2, 4])
        #expect(points.map(\.throughput) == [2e9, 4e9, 4e9])  // the unsettled 1 G/s frames never count
        #expect(tracker.baseThroughput == 2e9)
    }

    @Test("the speedup panel shows measured against ideal, with the cores marked")
    func speedupPanel() throws {
        var tracker = SpeedupTracker()
        for (i, (workers, total)) in [(1, 2e9), (2, 4e9), (4, 4e9)].enumerated() {
            for step in 0..<20 {
                tracker.record(try snapshot(running: workers, perWorker: total / Double(workers), at: Double(i * 20 + step) / 10))
            }
        }
        var state = ViewState()
        state.panel = .speedup
        let frame = Fixtures.render(try snapshot(running: 4, perWorker: 1e9, at: 6), state: state, speedup: tracker, cores: 2)
        let lines = frame.buffer.lines
        #expect(lines.contains { $0.contains("WORKERS") && $0.contains("SPEEDUP") && $0.contains("ideal, 2 cores") })
        let one = try #require(lines.first { $0.hasPrefix("        1") })
        let two = try #require(lines.first { $0.hasPrefix("        2") })
        let four = try #require(lines.first { $0.hasPrefix("        4") })
        #expect(one.contains("2.00G/s") && one.contains("1.00×") && one.contains("100.0%"))
        #expect(two.contains("4.00G/s") && two.contains("2.00×") && two.contains("100.0%"))
        #expect(four.contains("4.00G/s") && four.contains("2.00×") && four.contains("50.0%"))
        // The rule at the core count sits between 2 and 4 workers.
        let rule = try #require(lines.firstIndex { $0.contains("2 cores: more workers than this share them") })
        #expect(lines.firstIndex(of: two)! < rule && rule < lines.firstIndex(of: four)!)
        // At 4 workers the bar reaches half the ideal mark, which sits at the right end.
        let bar = four.split(separator: "%", maxSplits: 1)[1].drop { $0 == " " }
        #expect(bar.last == "│")
        let filled = bar.filter { $0 == "█" }.count
        #expect(abs(Double(filled) / Double(bar.count) - 0.5) < 0.05)
    }

    @Test("with 4 workers and no one-worker rate measured, the panel shows throughput and no speedup figure")
    func speedupWithoutBaseline() throws {
        var tracker = SpeedupTracker()
        for step in 0..<30 { tracker.record(try snapshot(running: 4, perWorker: 1.1e9, at: Double(step) / 10)) }
        for step in 30..<60 { tracker.record(try snapshot(running: 3, perWorker: 1.44e9, at: Double(step) / 10)) }
        #expect(tracker.baseThroughput == nil)
        var state = ViewState()
        state.panel = .speedup
        let frame = Fixtures.render(try snapshot(running: 3, perWorker: 1.44e9, at: 6), state: state, speedup: tracker, cores: 2)
        let lines = frame.buffer.lines
        let four = try #require(lines.first { $0.hasPrefix("        4") })
        #expect(four.contains("4.40G/s") && !four.contains("×") && !four.contains("%"), "\(frame.buffer)")
        #expect(!lines.joined().contains("×"), "no speedup figure anywhere")
        #expect(lines.contains { $0.contains("No speedup yet: it needs one worker measured alone. Press m") })
    }

    @Test("while the curve is measured, the panel says how far it has come")
    func speedupMeasuring() throws {
        var state = ViewState()
        state.panel = .speedup
        state.speedupMeasuring = SpeedupProgress(workers: 3, upTo: 4)
        let frame = Fixtures.render(try snapshot(running: 3, perWorker: 1e9, at: 6), state: state, cores: 2)
        #expect(frame.buffer.lines.contains { $0.contains("Measuring the curve: 3 of 4 workers") })
    }

    @Test("a measurement moves on once each count has been measured for a second")
    func measurementSteps() throws {
        var tracker = SpeedupTracker()
        var measurement = SpeedupMeasurement(upTo: 3)
        #expect(measurement.counts == [1, 2, 3] && measurement.wanted == 1)
        // 1.5 s to settle, then a second of samples.
        for step in 0...24 { tracker.record(try snapshot(running: 1, perWorker: 2e9, at: Double(step) / 10)) }
        var moved = measurement.advance(tracker)
        #expect(!moved, "measured for 0.9 s only")
        tracker.record(try snapshot(running: 1, perWorker: 2e9, at: 2.5))
        moved = measurement.advance(tracker)
        #expect(moved && measurement.wanted == 2)
        for step in 30...60 { tracker.record(try snapshot(running: 2, perWorker: 2e9, at: Double(step) / 10)) }
        for step in 61...91 { tracker.record(try snapshot(running: 3, perWorker: 1.3e9, at: Double(step) / 10)) }
        moved = measurement.advance(tracker)
        #expect(moved && measurement.wanted == nil)
    }

    @Test("the jobs panel compares every finished job: seconds, against the best run of the range, splits, re-queues, backups")
    func jobsPanel() throws {
        func summary(_ id: Int, _ schedule: SchedulePolicy, _ seconds: Double, verified: Bool = true, split: Int64 = 0) throws -> JobSummary {
            // Job 1 ran the scalar kernel; K switched job 4's kernel while it ran. Job 3 backed
            // up two attempts at its tail, one of which finished first.
            JobSummary(id: JobID(id), spec: try JobSpec(lo: 1, hi: 12_000_000_000, chunkSize: 100_000_000, schedule: schedule),
                       total: 1, closedForm: "1", verified: verified, elapsed: seconds, chunksRequeued: id == 2 ? 1 : 0,
                       chunksSplit: split, chunksStolen: 0, staleResults: 0, acceptedChunks: nil,
                       backupsStarted: id == 3 ? 2 : 0, backupsWon: id == 3 ? 1 : 0,
                       kernel: id == 1 ? .scalar : id == 4 ? nil : .avx2)
        }
        var state = ViewState()
        state.panel = .jobs
        let jobs = [try summary(1, .static, 3.0), try summary(2, .dynamic, 1.2), try summary(3, .stealing, 1.1, split: 4),
                    try summary(4, .dynamic, 1.5, verified: false)]
        let frame = DashboardView.render(DashboardInput(
            snapshot: Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()), events: [], state: state,
            width: 80, height: 24, capabilities: .full, finishedJobs: jobs))
        let lines = frame.buffer.lines
        let header = try #require(lines.firstIndex { $0.contains("SCHEDULE") && $0.contains("VS BEST") && $0.contains("RANGE") }, "\(frame.buffer)")
        #expect(lines[header + 1].contains("static") && lines[header + 1].contains("3.000") && lines[header + 1].contains("2.73×"))
        #expect(lines[header + 2].contains("dynamic") && lines[header + 2].contains("verified"), "\(frame.buffer)")
        #expect(lines[header + 3].contains("stealing") && lines[header + 3].contains("1.00×") && lines[header + 3].contains("12G     4"))
        // At 80 columns the table is compact, and the chunk and range still read whole.
        #expect(lines[header].contains("RESULT   CHUNK RANGE   SPLIT"), "\(lines[header])")
        #expect(lines[header + 1].contains("verified  100M 1...12G "), "\(frame.buffer)")
        // Wide enough, the full table: splits and re-queues in their place, the range in full.
        let full = DashboardView.render(DashboardInput(
            snapshot: Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()), events: [], state: state,
            width: 130, height: 24, capabilities: .full, finishedJobs: jobs)).buffer.lines
        #expect(full[header + 2].contains("  0       1  verified") && full[header + 2].hasSuffix("1...12,000,000,000"), "\(full[header + 2])")
        #expect(lines[header + 3].contains("verified"))
        #expect(lines[header].contains("KERNEL") && lines[header + 1].contains("scalar") && lines[header + 2].contains("avx2"))
        #expect(lines[header + 4].contains("MISMATCH") && lines[header + 4].contains("mixed"))
        #expect(frame.buffer[4, header + 4].style.color == .red)
        // Wider, the backups at the tail show after the result: started, and how many won.
        let wide = DashboardView.render(DashboardInput(
            snapshot: Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()), events: [], state: state,
            width: 120, height: 24, capabilities: .full, finishedJobs: jobs)).buffer.lines
        #expect(wide[header].contains("RESULT      BACKUP  CHUNK"), "\(wide[header])")
        #expect(wide[header + 2].contains("verified         0"), "\(wide[header + 2])")
        #expect(wide[header + 3].contains("verified  2, 1 won"), "\(wide[header + 3])")
        // With no backup in any job, no column for them.
        let none = Array(jobs.prefix(2))
        let plain = DashboardView.render(DashboardInput(
            snapshot: Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()), events: [], state: state,
            width: 120, height: 24, capabilities: .full, finishedJobs: none)).buffer.lines
        #expect(plain[header].contains("RESULT    CHUNK") && !plain[header].contains("BACKUP"), "\(plain[header])")
        let empty = Fixtures.render(Fixtures.snapshot(workers: [], job: nil), state: state)
        #expect(empty.buffer.lines.contains { $0.contains("No job has finished yet") })
    }

    @Test("PEAK shows each summing local worker's rate against one core's calibrated peak for the running kernel")
    func peakColumn() throws {
        var snapshot = Fixtures.snapshot(workers: [Fixtures.worker(1, throughput: 1.5e9), Fixtures.worker(2, .paused, throughput: 1e9)],
                                         job: try Fixtures.job())
        snapshot.kernel = .scalar
        let peaks = KernelPeaks(rates: [.scalar: 2e9, .avx2: 8e9])
        func render(_ peaks: KernelPeaks?, width: Int = 100) -> [String] {
            DashboardView.render(DashboardInput(snapshot: snapshot, events: [], state: ViewState(), width: width, height: 24,
                                                capabilities: .full, cores: 2, kernelPeaks: peaks)).buffer.lines
        }
        var lines = render(peaks)
        let header = try #require(lines.firstIndex { $0.contains("RATE") })
        #expect(lines[header].contains("PEAK"))
        #expect(lines[header + 1].contains("1.50G/s   75%"), "\(lines[header + 1])")
        #expect(!lines[header + 2].contains("%  ") && lines[header + 2].contains("paused"))
        // Another kernel, another yardstick; none measured, no column.
        snapshot.kernel = .avx2
        lines = render(peaks)
        #expect(lines[header + 1].contains("1.50G/s   19%"), "\(lines[header + 1])")
        #expect(!render(nil)[header].contains("PEAK"))
        #expect(render(peaks, width: 60)[header].contains("RATE"))  // still fits, narrowest first to go
    }

    @Test("the speedup panel ends with one core's peak and how close the local workers run to it")
    func peakLine() throws {
        var snapshot = Fixtures.snapshot(workers: [Fixtures.worker(1, throughput: 1.5e9), Fixtures.worker(2, throughput: 1.5e9),
                                                   Fixtures.worker(3, .idle, throughput: 0)], job: try Fixtures.job())
        snapshot.kernel = .avx2
        var state = ViewState()
        state.panel = .speedup
        let frame = DashboardView.render(DashboardInput(
            snapshot: snapshot, events: [], state: state, width: 100, height: 24, capabilities: .full, cores: 2,
            kernelPeaks: KernelPeaks(rates: [.scalar: 1e9, .avx2: 2e9, .sse2: 1.5e9, .avx512: 4e9])))
        // The running kernel's peak, then every other variant's from the fastest down.
        #expect(frame.buffer.lines.contains {
            $0.contains("Now 75% of 2 cores' peak. One core's peak: avx2 2.00G/s; avx512 4.00G, sse2 1.50G, scalar 1.00G.")
        }, "\(frame.buffer)")
    }

    @Test("one core's peak is raised when a worker here beats it, so PEAK never reads over 100%; remote and stopped workers do not count; 1 core's peak reads so")
    func peakRaised() throws {
        var remote = Fixtures.worker(3, throughput: 9e9)
        remote.remote = RemoteWorkerInfo(host: "big-box", pid: 1, thread: 0)
        var snapshot = Fixtures.snapshot(workers: [Fixtures.worker(1, throughput: 2.3e9), Fixtures.worker(2, .paused, throughput: 4e9),
                                                   remote], job: try Fixtures.job())
        snapshot.kernel = .avx2
        let measured = KernelPeaks(rates: [.scalar: 1e9, .avx2: 2e9])
        let raised = measured.raised(by: snapshot)
        #expect(raised[.avx2] == 2.3e9 && raised[.scalar] == 1e9)
        #expect(raised.raised(by: Fixtures.snapshot(workers: [Fixtures.worker(1, throughput: 1e9)], job: nil)) == raised, "never lowered")
        let lines = DashboardView.render(DashboardInput(snapshot: snapshot, events: [], state: ViewState(), width: 100, height: 24,
                                                        capabilities: .full, cores: 1, kernelPeaks: raised)).buffer.lines
        let row = try #require(lines.first { $0.contains("2.30G/s") })
        #expect(row.contains("100%"), "\(row)")
        var state = ViewState()
        state.panel = .speedup
        var alone = Fixtures.snapshot(workers: [Fixtures.worker(1, throughput: 2.3e9)], job: try Fixtures.job())
        alone.kernel = .avx2
        let speedup = DashboardView.render(DashboardInput(snapshot: alone, events: [], state: state, width: 100, height: 24,
                                                          capabilities: .full, cores: 2, kernelPeaks: raised)).buffer
        #expect(speedup.contains("Now 100% of 1 core's peak."), "\(speedup.lines.joined(separator: "\n"))")
    }

    @Test("the event log scrolls back through what it keeps, and says so")
    func logScrollback() throws {
        let events = Fixtures.events((1...40).map { ClusterEventKind.workerAdded(WorkerID($0)) })
        var state = ViewState()
        state.logScroll = 5
        let snapshot = Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job())
        var frame = Fixtures.render(snapshot, events: events, state: state)
        var lines = frame.buffer.lines
        #expect(lines.contains { $0.contains("events (5 newer below: ] newer, [ older)") }, "\(frame.buffer)")
        #expect(lines.contains { $0.hasSuffix("worker 35 added") } && !lines.contains { $0.hasSuffix("worker 36 added") })
        #expect(frame.logScroll == 5)
        // Past the oldest kept: it stops there.
        state.logScroll = 1_000
        frame = Fixtures.render(snapshot, events: events, state: state)
        lines = frame.buffer.lines
        #expect(lines.contains { $0.hasSuffix("worker 1 added") } && frame.logScroll < 40)
        #expect(!lines.contains { $0.contains("[ older") && !$0.contains("newer") })
    }

    @Test("a caption gets its own bold line under the header; the table moves down one")
    func caption() throws {
        var state = ViewState()
        state.caption = "Lesson 2: static slices wait for the straggler"
        let frame = Fixtures.render(Fixtures.snapshot(workers: [Fixtures.worker(1)], job: try Fixtures.job()), state: state)
        #expect(frame.buffer.lines[5].contains("Lesson 2: static slices wait for the straggler"))
        #expect(frame.buffer[3, 5].style.bold && frame.buffer[3, 5].style.reverse)
        #expect(frame.buffer.lines[6].contains("STATE"))
    }
}


@Suite("Small truths on screen")
struct SmallTruthsTests {
    @Test("the speedup view shows no scroll hint; one hidden worker is 'worker', not 'workers'")
    func scrollHint() throws {
        var state = ViewState()
        state.panel = .speedup
        let many = (1...100).map { Fixtures.worker($0) }
        let speedup = Fixtures.render(Fixtures.snapshot(workers: many, job: try Fixtures.job(), time: 20), state: state)
        #expect(!speedup.buffer.lines.contains { $0.contains("more worker") })
        state.panel = .workers
        var rows = 0
        for count in 1...100 {
            let frame = Fixtures.render(Fixtures.snapshot(workers: Array(many.prefix(count)), job: try Fixtures.job(), time: 20), state: state)
            if frame.buffer.lines.contains(where: { $0.contains(" 1 more worker:") }) { rows = count - 1 }
        }
        #expect(rows > 0, "some count of workers leaves exactly one hidden, and it says 'worker'")
    }

    @Test("idle and paused rows show no rate; with no worker summing the header's throughput is 0")
    func noRateWhenNotSumming() throws {
        let workers = [Fixtures.worker(1, .idle, chunk: nil, throughput: 2e9), Fixtures.worker(2, .paused, throughput: 2e9)]
        let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job(), time: 20), state: ViewState())
        let lines = frame.buffer.lines
        #expect(!lines.contains { $0.contains("2.00G") }, "\(lines.joined(separator: "\n"))")
        #expect(lines.contains { $0.contains(" throughput 0") })
    }

    @Test("a stale result, fencing at work, is not red like a failure")
    func staleIsNotRed() {
        let palette = Palette(capabilities: Capabilities(unicode: true, color: true))
        let stale = palette.event(.staleResultDiscarded(chunk: 1, attempt: AttemptID(2), worker: WorkerID(1)))
        let killed = palette.event(.workerKilled(WorkerID(1), chunk: 1))
        #expect(stale != killed)
        #expect(stale.color != .red)
    }

    @Test("ranges in the event log have grouped digits")
    func groupedRanges() {
        func message(_ kind: ClusterEventKind) -> String { ClusterEvent(sequence: 1, seconds: 0, kind: kind).message }
        #expect(message(.chunkSplit(chunk: 3, from: WorkerID(2), elements: 2_531_586_765...2_600_000_000))
            .contains("2,531,586,765...2,600,000,000"))
        #expect(message(.jobStarted(JobID(1), lo: 1, hi: 220_000_000_000)).hasSuffix("1...220,000,000,000"))
    }
}

@Suite("The selected row")
struct SelectedRowTests {
    @Test("a selected worker's 20% bar still reads 20%, in color, monochrome and ASCII",
          arguments: [Capabilities(unicode: true, color: true), Capabilities(unicode: true, color: false),
                      Capabilities(unicode: false, color: false)])
    func barKeepsItsMeaning(capabilities: Capabilities) throws {
        var state = ViewState()
        state.selectedWorker = WorkerID(1)
        // 200 of 1,000 elements done.
        let workers = [Fixtures.worker(1, .paused, done: 200), Fixtures.worker(2, done: 200)]
        let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job(), time: 20), state: state,
                                    width: 120, capabilities: capabilities)
        let buffer = frame.buffer
        let glyphs = Glyphs.for(capabilities)
        let barGlyphs = Set(glyphs.barEighths.dropFirst() + [glyphs.barEmpty])
        /// The cells of the bar on the row of `worker`: the run of bar glyphs from the first full
        /// or empty cell.
        func barCells(worker: Int) throws -> [Cell] {
            let y = try #require(buffer.lines.firstIndex { $0.hasPrefix(" ") && $0.dropFirst(2).hasPrefix("   \(worker) ") })
            let row = (0..<buffer.width).map { buffer[$0, y] }
            guard let start = row.firstIndex(where: { $0.character == glyphs.barEighths[8] || $0.character == glyphs.barEmpty })
            else { return [] }
            return Array(row[start...].prefix { barGlyphs.contains($0.character) })
        }
        let selected = try barCells(worker: 1), other = try barCells(worker: 2)
        #expect(!selected.isEmpty)
        #expect(selected.map(\.character) == other.map(\.character), "the same progress draws the same bar")
        #expect(selected.allSatisfy { !$0.style.reverse }, "the bar is not inverted")
        let full = selected.filter { $0.character == glyphs.barEighths[8] }.count
        #expect(abs(Double(full) / Double(selected.count) - 0.2) < 0.1, "\(full) of \(selected.count) cells full")
        // The rest of the row is highlighted.
        let y = try #require(buffer.lines.firstIndex { $0.hasPrefix(" ") && $0.dropFirst(2).hasPrefix("   1 ") })
        #expect(buffer[3, y].style.reverse && buffer[8, y].style.reverse)
    }
}

@Suite("Event log lines")
struct EventLogLineTests {
    @Test("who lags reads as one line: machines, then workers, and the median as the table writes rates")
    func laggingLines() {
        let events = Fixtures.events([.laggardsChanged(workers: [WorkerID(3)], hosts: [], median: 1.52e9, running: 4),
                                      .laggardsChanged(workers: [WorkerID(3), WorkerID(9)], hosts: ["leslie", nil], median: 2.04e7, running: 12),
                                      .workersOutnumberCores(workers: 40, cores: 2)])
        #expect(events[0].message == "lagging now: worker 3, under half the median 1.52G/s of 4 running workers")
        #expect(events[1].message == "lagging now: hosts leslie and this machine and workers 3 and 9, under half the median 20M/s of 12 running workers")
        #expect(events[2].message.hasPrefix("more workers than cores take turns on the 2 cores"))
    }

    @Test("a lapsed lease and a dropped connection read as one line each, like a kill")
    func oneLinePerLoss() {
        let w = WorkerID(4), to = WorkerID(1)
        for loss in [ClusterEventKind.leaseExpired(w, chunk: 9, silence: 1.2), .remoteWorkerDisconnected(w, chunk: 9),
                     .workerKilled(w, chunk: 9)] {
            let lines = EventLogLines.lines(from: Fixtures.events([loss, .chunkRequeued(chunk: 9, from: w),
                                                                   .chunkRedistributed(chunk: 9, from: w, to: to)]),
                                            glyphs: .unicode)
            #expect(lines.count == 1, "\(lines.map(\.text))")
            #expect(lines.first?.text.hasSuffix("chunk 9 re-queued → worker 1") == true, "\(lines.map(\.text))")
        }
    }

    @Test("stale results handed in after their job ended are one line per worker, not one per chunk")
    func staleRuns() {
        let four = WorkerID(4), five = WorkerID(5)
        var kinds: [ClusterEventKind] = []
        for chunk in Int64(40)...63 {
            kinds.append(.staleResultDiscarded(chunk: chunk, attempt: AttemptID(UInt64(chunk) + 1), worker: chunk % 3 == 0 ? four : five))
        }
        kinds.append(.jobFinished(JobID(1), verified: true, total: 1, seconds: 2))
        kinds.append(.staleResultDiscarded(chunk: 70, attempt: AttemptID(71), worker: five))
        let lines = EventLogLines.lines(from: Fixtures.events(kinds), glyphs: .unicode).map(\.text)
        #expect(lines.count == 4, "\(lines)")
        #expect(lines[0] == "16 stale results from worker 5 discarded (chunks 40 to 62)", "\(lines)")
        #expect(lines[1] == "8 stale results from worker 4 discarded (chunks 42 to 63)", "\(lines)")
        #expect(lines[3] == "stale result for chunk 70 (attempt 71) from worker 5 discarded", "a single one reads as before")
    }
}
