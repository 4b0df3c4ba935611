import ClusterTestSupport
import Foundation
import Testing

/// `--record` and `cluster-top replay` as a person uses them: a headless run with a kill recorded
/// to a file, then played back on the dashboard in a real terminal, and headless.
@Suite("Replay in a real terminal", .serialized,
       .enabled(if: TmuxSession.isAvailable || TmuxSession.isRequired, "tmux is not installed"))
struct ReplayTests {
    let binary = BinaryProcess.url.path

    /// Records a script's run: two workers held mid-chunk at a gate, worker 2 killed and
    /// restarted while held, then the gate opened and the job run to the end.
    static func recordRun() throws -> String {
        let recording = JournalCrashTests.temporary("recording") + ".jsonl"
        let script = JournalCrashTests.temporary("script")
        defer { try? FileManager.default.removeItem(atPath: script) }
        try """
            workers 2
            chunk-size 1_000_000
            submit 1...60_000_000
            at 1s kill 2
            caption worker 2 was killed
            restart 2
            wait
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let gate = RemoteWorkerProcessTests.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let run = try BackgroundBinary(["--script", script, "--headless", "--record", recording],
                                       environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
        // The kill lands while both workers are held mid-chunk, however fast the machine.
        #expect(run.waitFor("worker 2 restarted", timeout: 300) != nil, "\(run.output)")
        // The recording holds the kill's frame and one after it before the job may end, so the
        // kill and the job's end are two frames to jump between.
        #expect(eventually(within: 300) {
            let lines = ((try? String(contentsOfFile: recording, encoding: .utf8)) ?? "").split(separator: "\n")
            guard let kill = lines.firstIndex(where: { $0.contains("\"workerKilled\"") }) else { return false }
            return lines.count > kill + 1
        })
        try FileManager.default.removeItem(atPath: gate)
        #expect(run.exitStatus(within: 300) == 0, "\(run.output)")
        return recording
    }

    @Test("a recorded run replays on the dashboard: ] jumps to the kill and pauses there, keys that would change the cluster say read only, every view draws, End shows the job verified, q restores the terminal")
    func replayOnDashboard() throws {
        let recording = try Self.recordRun()
        defer { try? FileManager.default.removeItem(atPath: recording) }
        let tmux = try TmuxSession(width: 120, height: 40)
        try tmux.type("'\(binary)' replay '\(recording)' --paused")
        var screen = try tmux.waitUntil { $0.contains("REPLAY") && $0.contains("0:00 /") }
        #expect(screen.contains("Space play"), "\(screen)")
        // ] until the kill, one jump at a time (each waits for its frame): each jump pauses on
        // the frame of its event.
        while !screen.contains("worker 2 killed") {
            let before = screen
            try tmux.press("]")
            screen = try tmux.waitUntil { $0 != before }
        }
        #expect(screen.contains("REPLAY ‖"), "a jump pauses:\n\(screen)")
        try tmux.press("k")
        try tmux.waitFor("replay: read only")
        try tmux.press("a")
        #expect(try tmux.screen().contains("replay: read only"))
        // Every view draws from the recording: v goes round them (grid, timeline, speedup, jobs).
        var previous = try tmux.screen()
        // (The jobs view, paused at the kill, has no finished job to compare yet.)
        for marker in ["CLUSTER  2 workers", "time │", "SPEEDUP", "JOBS COMPARED"] {
            try tmux.press("v")
            let shown = try tmux.waitUntil { $0 != previous && $0.contains(marker) }
            #expect(shown.contains("REPLAY"), "\(shown)")
            previous = shown
        }
        // Home and End as tmux sends them (ESC [ 1 ~, ESC [ 4 ~): the two ends of the run.
        try tmux.press("v", "End")
        screen = try tmux.waitUntil { $0.contains("VERIFIED") }
        // The script's caption was recorded with the frames.
        #expect(screen.contains("worker 2 was killed"), "\(screen)")
        try tmux.press("Home")
        screen = try tmux.waitUntil { $0.contains("REPLAY ‖ 1×  0:00 /") }
        #expect(!screen.contains("VERIFIED"), "\(screen)")
        try tmux.press("q")
        #expect(try tmux.expectTerminalRestored() == 0)
    }

    @Test("headless replay prints the job's summary and the jobs table; a truncated recording plays to its last whole frame and says so; what is not a recording exits 65 in one line")
    func headlessAndDamaged() throws {
        let recording = try Self.recordRun()
        defer { try? FileManager.default.removeItem(atPath: recording) }
        let whole = try BinaryProcess.run(["replay", recording, "--headless"])
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(whole.stdout.contains("[verified]") && whole.stdout.contains("1...60,000,000"), "\(whole.stdout)")
        // Cut in the middle of its last line, as kill -9 mid-write leaves it.
        let data = try Data(contentsOf: URL(fileURLWithPath: recording))
        let lastStart = try #require(data.dropLast().lastIndex(of: UInt8(ascii: "\n"))) + 1
        try data.prefix(lastStart + (data.count - lastStart) / 2).write(to: URL(fileURLWithPath: recording))
        let cut = try BinaryProcess.run(["replay", recording, "--headless"])
        #expect(cut.status == 0, "\(cut.stderr)")
        #expect(cut.stderr.contains("the recording ends early: cut short"), "\(cut.stderr)")
        let notOne = JournalCrashTests.temporary("not-a-recording")
        defer { try? FileManager.default.removeItem(atPath: notOne) }
        try "hello\n".write(toFile: notOne, atomically: true, encoding: .utf8)
        let refused = try BinaryProcess.run(["replay", notOne])
        #expect(refused.status == 65)
        #expect(refused.stderr.split(separator: "\n").count == 1 && refused.stderr.contains("is not a cluster-top recording"), "\(refused.stderr)")
        let missing = try BinaryProcess.run(["replay", notOne + "-missing"])
        #expect(missing.status == 65 && missing.stderr.contains("cannot read the recording"), "\(missing.stderr)")
    }

    @Test("the dashboard says REC while --record writes, and REC STOPPED as soon as a write fails (a pipe whose reader left); the run goes on, and its exit says why, with status 74")
    func recordingBadge() throws {
        let limit = JournalCrashTests.temporary("limit"), fifo = JournalCrashTests.temporary("fifo")
        defer { for path in [limit, limit + ".summed", fifo] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(mkfifo(fifo, 0o600) == 0)
        // Held at its start, so the job cannot end before the reader has gone.
        try JournalCrashTests.setLimit(0, in: limit)
        let reader = try KeptRunTests.startReader("/bin/cat", [fifo])
        // SIGKILL: a child may inherit the test process's blocked SIGTERM.
        defer { if reader.isRunning { kill(reader.processIdentifier, SIGKILL) } }
        let tmux = try TmuxSession(width: 100, height: 30)
        try tmux.type("CLUSTER_TOP_TEST_KERNEL='limit:\(limit)' '\(binary)' --range 1...10_000_000 --chunk-size 1_000_000 --record '\(fifo)'; echo status=$?")
        var screen = try tmux.waitUntil { $0.contains(" REC ") && $0.contains("1...10,000,000") }
        #expect(!screen.contains("REC STOPPED"), "\(screen)")
        kill(reader.processIdentifier, SIGKILL)
        reader.waitUntilExit()
        screen = try tmux.waitUntil(timeout: 300) { $0.contains(" REC STOPPED ") }
        try JournalCrashTests.setLimit(Int64.max, in: limit)
        screen = try tmux.waitUntil(timeout: 300) { $0.contains("VERIFIED") }
        #expect(screen.contains(" REC STOPPED "), "the badge stays:\n\(screen)")
        try tmux.press("q")
        screen = try tmux.waitUntil(timeout: 60) { $0.contains("status=") }
        // The line is longer than the terminal is wide: read it unwrapped.
        #expect(screen.replacingOccurrences(of: "\n", with: "").contains("cluster-top: the recording '\(fifo)' stopped early: Broken pipe"),
                "\(screen)")
        #expect(screen.contains("status=74"), "\(screen)")
    }
}

/// `serve --record`: a coordinator's recording holds the worker processes that joined it, and
/// never the token.
@Suite("Recording a coordinator")
struct ServeRecordingTests {
    @Test("serve --record with a worker process joined: the replay names its host, its job is verified, and the recording does not hold the token")
    func serveRecorded() throws {
        let recording = JournalCrashTests.temporary("serve-recording") + ".rec"
        defer { try? FileManager.default.removeItem(atPath: recording) }
        let token = "recorded-coordinator-token-7f3a"
        let serve = try BackgroundBinary(["serve", "--headless", "--listen", "127.0.0.1:0", "--token", token, "--workers", "0",
                                          "--range", "1...2_000_000_000", "--chunk-size", "100_000_000", "--record", recording])
        defer { serve.signal(SIGKILL) }
        let said = try #require(serve.waitFor("--join", timeout: 120), "\(serve.output)")
        let join = try #require(said.firstMatch(of: /--join (127\.0\.0\.1:\d+\/[0-9a-z-]+)/))
        // Held at a gate until the coordinator has seen both threads, however fast the kernel.
        let gate = RemoteWorkerProcessTests.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let worker = try BackgroundBinary(["worker", "--join", String(join.1), "--threads", "2", "--name", "lab-7"],
                                          environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
        defer { worker.signal(SIGKILL) }
        #expect(eventually(within: 300) { serve.output.components(separatedBy: "joined from lab-7").count >= 3 }, "\(serve.output)")
        try FileManager.default.removeItem(atPath: gate)
        #expect(serve.exitStatus(within: 300) == 0, "\(serve.output)")
        let replay = try BinaryProcess.run(["replay", recording, "--headless"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("2 on lab-7") && replay.stdout.contains("[verified]"), "\(replay.stdout)")
        let file = try String(contentsOfFile: recording, encoding: .utf8)
        #expect(!file.contains(token), "the recording holds the token")
        #expect(file.split(separator: "\n").first?.contains("--token <token>") == true)
    }
}
