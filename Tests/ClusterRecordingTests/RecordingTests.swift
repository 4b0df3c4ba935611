import ClusterDashboard
import ClusterEngine
import ClusterRecording
import ClusterTestSupport
import Foundation
import Testing

@Suite("Record and replay")
struct RecordingTests {
    static func temporary() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-recording-\(UUID().uuidString).jsonl").path
    }

    /// A live run with a kill, a restart and two jobs, recorded frame by frame; every frame the
    /// feed made, in order.
    static func recordRun(into path: String) throws -> [ClusterFrame] {
        // The first chunk passes; the others are held until the kill is done.
        let gate = KernelGate(passing: { lo, _ in lo <= 1_000_000 })
        let cluster = gate.cluster(workers: 3)
        defer {
            gate.open()
            cluster.shutdown()
        }
        let writer = try RecordingWriter(path: path, header: RecordingHeader(cores: 2, command: "test"))
        defer { writer.close() }
        let feed = ClusterFeed(cluster: cluster)
        var frames: [ClusterFrame] = []
        func frame(caption: String? = nil) {
            let frame = feed.next(timeline: true, caption: caption)
            writer.append(frame)
            frames.append(frame)
        }
        frame()
        let job = cluster.submit(try JobSpec(lo: 1, hi: 40_000_000, chunkSize: 1_000_000))
        #expect(gate.waitUntilHolding(3))
        frame(caption: "three held")
        let held = try #require(cluster.snapshot().workers.first { $0.id == WorkerID(2) }?.assignment)
        #expect(cluster.kill(WorkerID(2)))
        frame(caption: "worker 2 killed on chunk \(held.chunk)")
        #expect(cluster.restart(WorkerID(2)))
        frame()
        gate.open()
        while cluster.summary(of: job) == nil { frame() }
        let second = cluster.submit(try JobSpec(lo: 5, hi: 9_000_004, chunkSize: 500_000))
        _ = try #require(cluster.waitForJob(second, timeout: 600))
        frame()
        #expect(writer.failure == nil)
        return frames
    }

    @Test("every frame replays as the live run made it, forwards and seeking back; the final frame draws cell for cell the same in every view at 120×40")
    func replayEqualsLive() throws {
        let path = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let live = try Self.recordRun(into: path)
        let recording = try Recording(path: path)
        #expect(recording.cutShort == nil)
        try #require(recording.frameCount == live.count)
        for i in live.indices { #expect(recording.frame(at: i) == live[i], "frame \(i)") }
        // Seeking: backwards, across keyframes, and to the kill.
        for i in [live.count - 1, 0, live.count / 2, 1, live.count - 2] { #expect(recording.frame(at: i) == live[i], "frame \(i)") }
        let kill = try #require(recording.markedFrames.first { i in live[i].events.last { $0.sequence > (i > 0 ? live[i - 1].events.last?.sequence ?? 0 : 0) && { if case .workerKilled = $0.kind { true } else { false } }($0) } != nil })
        #expect(recording.frame(at: kill) == live[kill])
        #expect(live[kill].caption?.hasPrefix("worker 2 killed") == true)
        // The final frame, drawn from the live feed's and from the recording's, in every view.
        let final = recording.frame(at: recording.frameCount - 1)
        for panel in DashboardPanel.allCases {
            var state = ViewState()
            state.panel = panel
            func render(_ frame: ClusterFrame) -> CellBuffer {
                DashboardView.render(DashboardInput(frame: frame, state: state, width: 120, height: 40,
                                                    capabilities: Capabilities(unicode: true, color: true), cores: 2)).buffer
            }
            #expect(render(final) == render(live[live.count - 1]), "\(panel)")
        }
        #expect(final.finishedJobs.count == 2 && final.finishedJobs.allSatisfy(\.verified))
    }

    @Test("a recording cut short mid-line replays up to its last whole frame and says where it ends")
    func cutShort() throws {
        let path = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let live = try Self.recordRun(into: path)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        let lines = data.split(separator: UInt8(ascii: "\n"))
        // The header and one line per frame: at least the five the run always makes.
        try #require(lines.count == live.count + 1 && live.count >= 5)
        // Cut in the middle of the last frame's line, however many frames the run made.
        let last = lines.count - 1
        let keep = lines.prefix(last).reduce(0) { $0 + $1.count + 1 } + lines[last].count / 2
        data = data.prefix(keep)
        let recording = try Recording(data: data, name: "cut")
        #expect(recording.frameCount == live.count - 1)
        #expect(recording.cutShort?.contains("cut short") == true, "\(recording.cutShort ?? "")")
        for i in 0..<recording.frameCount { #expect(recording.frame(at: i) == live[i]) }
    }

    @Test("what is not a recording, or of a newer format, or has no whole frame, is refused in one line")
    func refusals() throws {
        func refusal(_ text: String) -> String? {
            do { _ = try Recording(data: Data(text.utf8), name: "f"); return nil } catch { return error.description }
        }
        #expect(refusal("")?.contains("is not a cluster-top recording") == true)
        #expect(refusal("{\"type\":\"progress\"}\n")?.contains("is not a cluster-top recording") == true)
        #expect(refusal("\u{0}\u{1}binary")?.contains("is not a cluster-top recording") == true)
        #expect(refusal("{\"format\":\"cluster-top recording\",\"version\":9,\"cores\":2,\"command\":\"x\"}\n")?.contains("newer than this cluster-top reads") == true)
        #expect(refusal("{\"format\":\"cluster-top recording\",\"version\":1,\"cores\":2,\"command\":\"x\"}\n")?.contains("holds no whole frame") == true)
        // A forged frame that patches rows that are not there: the frames before it still play.
        let forged = """
            {"format":"cluster-top recording","version":1,"cores":2,"command":"x"}
            {"t":0.5}
            {"t":0.6,"w":{"c":[{"i":7,"p":1}]}}

            """
        let recording = try Recording(data: Data(forged.utf8), name: "forged")
        #expect(recording.frameCount == 1 && recording.cutShort?.contains("does not follow") == true)
    }
}

/// Forged and damaged recordings, made from a real one: a replay refuses or plays them, and
/// never crashes drawing what it plays.
@Suite("Forged recordings")
struct ForgedRecordingTests {

    @Test("400 recordings with numbers replaced by extremes (negative, Int64.max, 1e308, nan, 2¹²⁸−1) or bytes cut: each is refused in one line or plays, and every frame it plays draws in every view")
    func forgeries() throws {
        let path = RecordingTests.temporary()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try RecordingTests.recordRun(into: path)
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let numbers = original.ranges(of: /-?\d+(\.\d+)?(e-?\d+)?/)
        try #require(numbers.count > 100)
        let extremes = ["-1", "0", "9223372036854775807", "-9223372036854775808", "1e308", "-1e308", "\"nan\"", "\"inf\"",
                        "340282366920938463463374607431768211455", "18446744073709551615", "0.5", "1024"]
        // Seeded: the same forgeries on every run.
        var rng = SplitMix64(state: 42)
        var refused = 0, played = 0
        for round in 0..<400 {
            var text = original
            // Replace from the back, so earlier ranges stay valid.
            let picks = (0..<Int.random(in: 1...3, using: &rng)).map { _ in numbers[Int.random(in: 0..<numbers.count, using: &rng)] }
            for range in picks.sorted(by: { $0.lowerBound > $1.lowerBound }) {
                guard range.upperBound <= text.endIndex else { continue }
                text.replaceSubrange(range, with: extremes[Int.random(in: 0..<extremes.count, using: &rng)])
            }
            if round % 10 == 9 { text = String(text.prefix(Int.random(in: 0..<text.count, using: &rng))) }
            let recording: Recording
            do {
                recording = try Recording(data: Data(text.utf8), name: "forged \(round)")
            } catch {
                #expect(!error.description.contains("\n") && !error.description.isEmpty)
                refused += 1
                continue
            }
            played += 1
            let panel = DashboardPanel.allCases[round % DashboardPanel.allCases.count]
            for index in 0..<recording.frameCount {
                var state = ViewState()
                state.panel = panel
                let frame = recording.frame(at: index)
                _ = DashboardView.render(DashboardInput(frame: frame, state: state, width: 80, height: 24,
                                                        capabilities: Capabilities(unicode: true, color: true), cores: 2))
            }
        }
        #expect(refused + played == 400)
        print("forged recordings: \(played) played, \(refused) refused")
    }
}
