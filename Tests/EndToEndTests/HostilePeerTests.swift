import ClusterEngine
import ClusterNet
import ClusterTestSupport
import Foundation
import Synchronization
import Testing

/// The real `serve` against peers that break things the way they were found to: connections
/// reset mid-handshake by a port scanner, worker processes killed with SIGKILL mid-chunk, a
/// reader of standard output that goes away. None of them may stop the coordinator or lose its job.
@Suite("Hostile peers", .serialized)
struct HostilePeerTests {
    static let token = "hostile-peer-token-0123"

    /// Runs Tests/Tools/reset-connections.py: `count` connections to `port`, each reset.
    static func resetConnections(port: Int, count: Int, mode: String) throws -> BinaryProcess.Result {
        let script = BinaryProcess.repository.appendingPathComponent("Tests/Tools/reset-connections.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "127.0.0.1", "\(port)", "\(count)", mode]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return BinaryProcess.Result(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: "")
    }

    @Test("a peer that resets its connection never stops serve: 1,000 TLS handshakes, or 200 plain-text HTTP/2 prefaces with --insecure; then a worker joins and the job ends verified",
          arguments: [false, true])
    func resetConnections(insecure: Bool) throws {
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--token", Self.token, "--workers", "0",
                                          "--headless", "--await-workers", "1", "--range", "1...1_000_000"]
                                         + (insecure ? ["--insecure"] : []))
        let port = try #require(serve.listeningPort(), "\(serve.output)")
        let count = insecure ? 200 : 1_000
        let resets = try Self.resetConnections(port: port, count: count, mode: insecure ? "h2" : "tls")
        #expect(resets.stdout.contains("reset \(count) connections"), "\(resets.stdout)\n\(serve.output)")
        #expect(serve.process.isRunning, "serve stopped: \(serve.output)")

        let check = insecure ? ["--insecure"] : ["--fingerprint", try #require(serve.fingerprint())]
        let worker = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--token", Self.token, "--threads", "1"] + check)
        #expect(worker.status == 0, "\(worker.stdout)\(worker.stderr)")
        #expect(serve.exitStatus(within: 60) == 0, "\(serve.output)")
        #expect(serve.output.contains("[verified]"))
    }

    @Test("200 worker processes killed with SIGKILL mid-chunk, one in four with unread data, so its kernel resets the connection: serve outlives them all, and its job ends verified")
    func killedWorkers() throws {
        // Every victim's sub-blocks wait at the gate file: each is mid-chunk when it is killed,
        // and none can finish the job, however fast the kernel.
        let gate = RemoteWorkerProcessTests.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--token", Self.token, "--workers", "0",
                                          "--headless", "--await-workers", "1", "--range", "1...2_000_000_000",
                                          "--chunk-size", "20_000_000"])
        let port = try #require(serve.listeningPort(), "\(serve.output)")
        let fingerprint = try #require(serve.fingerprint())
        let join = ["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", fingerprint, "--token", Self.token, "--threads", "1"]
        for round in 1...200 {
            try? FileManager.default.removeItem(atPath: gate + ".held")
            let victim = try BackgroundBinary(join, environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
            let midChunk = eventually { FileManager.default.fileExists(atPath: gate + ".held") }
            #expect(midChunk, "round \(round): \(victim.output)\n\(serve.output.suffix(2_000))")
            if round % 4 == 0 {
                // Stopped until the coordinator's next message (a Ping) waits unread in its
                // socket: killed then, its kernel answers with a reset, and serve's next write
                // to that connection fails with EPIPE. That is what ended serve with SIGPIPE.
                victim.signal(SIGSTOP)
                #expect(eventually { Self.unreadBytes(from: port) > 0 }, "round \(round): nothing arrived")
            }
            victim.signal(SIGKILL)
            #expect(victim.exitStatus(within: 30) == 137)
            guard midChunk, serve.process.isRunning else {
                Issue.record("round \(round): serve stopped: \(serve.output.suffix(2_000))")
                return
            }
        }
        try FileManager.default.removeItem(atPath: gate)
        let good = try BinaryProcess.run(join.dropLast() + ["2"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(serve.exitStatus(within: 120) == 0, "\(serve.output.suffix(2_000))")
        let output = serve.output
        #expect(output.contains("sum of squares over 1...2000000000 = 2666666668666666667000000000"))
        #expect(output.contains("[verified]"))
        #expect(output.components(separatedBy: "disconnected").count - 1 >= 200, "each victim's loss was seen")
    }

    /// Bytes waiting unread in the established loopback connection to `port` (a worker's side of
    /// its session), from /proc/net/tcp; 0 if there is none. Read to its end: String's reader
    /// stops after the first page, and with many connections in TIME_WAIT the one wanted is
    /// further on.
    static func unreadBytes(from port: Int) -> Int {
        let table = FileHandle(forReadingAtPath: "/proc/net/tcp").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
        let remote = ":" + String(format: "%04X", port)
        var most = 0
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            // sl, local address, remote address, state (01: established), tx_queue:rx_queue, ...
            guard fields.count > 4, fields[2].hasSuffix(remote), fields[3] == "01",
                  let queue = fields[4].split(separator: ":").last, let unread = Int(queue, radix: 16) else { continue }
            most = max(most, unread)
        }
        return most
    }

    @Test("standard output's reader goes away: a headless run ends quietly with 141, as for SIGPIPE, with nothing on stderr")
    func readerGoesAway() throws {
        // A job no test outlives: the run is still printing when `head` has gone.
        let result = try BinaryProcess.runShell(
            "\"$CLUSTER_TOP\" --range 1...10_000_000_000_000 --workers 1 --json --refresh 0.05 | head -n 1; "
            + "echo \"status ${PIPESTATUS[0]}\"")
        let lines = result.stdoutLines
        #expect(lines.count == 2, "\(result.stdout)")
        #expect(lines.first?.hasPrefix("{") == true)
        #expect(lines.last == "status 141")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }
}

extension HostilePeerTests {
    @Test("--retry-for 5 against a listener that never answers: exit 69 once the 5 s are past, no attempt running on past them, with TLS and in plain text",
          arguments: [false, true])
    func retryForHonoured(insecure: Bool) throws {
        // The kernel accepts connections on a listening socket whose owner never reads.
        let (fd, port) = try RemoteWorkerProcessTests.loopbackSocket(listening: true)
        defer { close(fd) }
        let check = insecure ? ["--insecure"] : ["--fingerprint", "sha256:" + String(repeating: "ab", count: 32)]
        let started = ContinuousClock.now
        let worker = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--token", Self.token,
                                            "--threads", "1", "--retry-for", "5"] + check)
        let elapsed = ContinuousClock.now - started
        #expect(worker.status == 69, "\(worker.stderr)")
        // It says how long it tried, as it measured: at least 5 s, and short of the 10 s a
        // single attempt used to hold (its time is now cut to what is left of the window; the
        // margin is for a machine too busy to wake the worker on time, never reached here).
        let tried = try #require(worker.stderr.firstMatch(of: /after trying for ([0-9.]+) s \(--retry-for 5\)/), "\(worker.stderr)")
        let seconds = try #require(Double(tried.1))
        #expect(seconds >= 5 && seconds < 9, "\(worker.stderr)")
        #expect(elapsed < .seconds(60), "only a hang reaches this")
        #expect(worker.stderr.contains("no answer within"), "\(worker.stderr)")
    }
}

extension HostilePeerTests {
    @Test("--status-file on an existing file, an empty folder or a device: one line, exit 64, and each is left as it was")
    func statusFileLeavesOthersAlone() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-status-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let notes = folder.appendingPathComponent("notes").path, empty = folder.appendingPathComponent("empty").path
        try "precious\n".write(toFile: notes, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        var targets = [notes, empty]
        // A device of the test's own (the one /dev/full is), where it may make one: as root.
        let device = folder.appendingPathComponent("full").path
        if getuid() == 0, mknod(device, S_IFCHR | 0o666, makedev(1, 7)) == 0 { targets.append(device) }
        for target in targets {
            let before = try FileManager.default.attributesOfItem(atPath: target)
            let worker = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:1", "--insecure", "--token", Self.token,
                                                "--threads", "1", "--status-file", target])
            #expect(worker.status == 64, "\(target): \(worker.stderr)")
            #expect(worker.stderr.split(separator: "\n").count == 1 && worker.stderr.contains("--status-file: \(target) "),
                    "\(worker.stderr)")
            let after = try FileManager.default.attributesOfItem(atPath: target)
            #expect(after[.systemFileNumber] as? Int == before[.systemFileNumber] as? Int, "\(target) was replaced")
            #expect(after[.type] as? FileAttributeType == before[.type] as? FileAttributeType)
        }
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "precious\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
    }
}

/// `makedev` is a macro in C.
private func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
    dev_t(((major & 0xfffff000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffffff00) << 12) | (minor & 0xff))
}

extension HostilePeerTests {
    @Test("20,000 wrong tokens from one address make a few lines of serve's log, and a worker with the right token from that address joins while they go on")
    func guesser() async throws {
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--insecure", "--token", Self.token, "--workers", "0",
                                          "--headless", "--await-workers", "1", "--range", "1...1_000_000"])
        let port = try #require(serve.listeningPort(), "\(serve.output)")
        let attempts = Counter()
        let total = 20_000
        // Guessing goes on until the worker below has joined and at least `total` guesses were
        // made: how long 20,000 guesses last depends on the machine, so the join is not raced.
        let stop = Atomic<Bool>(false)
        // Sixteen guessers, each a thread with a connection of its own per guess, none waiting
        // more than a fifth of a second for an answer: an impatient guesser goes as fast as it can.
        let guessers = DispatchGroup()
        for _ in 0..<16 {
            guessers.enter()
            Thread {
                defer { guessers.leave() }
                while !stop.load(ordering: .relaxed) {
                    attempts.value.add(1, ordering: .relaxed)
                    _ = RawHTTP2.call(port: port, token: "guess-\(Int.random(in: 0..<1_000_000))", patience: 0.2)
                }
            }.start()
        }
        defer { stop.store(true, ordering: .relaxed) }
        // Once guessing is under way, a worker with the right token, from the same address. It
        // holds its chunk at a gate, so the job outlasts the guessing and its summary line.
        try #require(await eventually { attempts.value.load(ordering: .relaxed) > 1_000 })
        let gate = RemoteWorkerProcessTests.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let worker = try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(port)", "--insecure", "--token", Self.token,
                                           "--threads", "1"], environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
        #expect(serve.waitFor("worker 1 joined") != nil, "\(serve.output.suffix(2_000))")
        // The guessing still goes on after the join: the server answered both at once.
        let atJoin = attempts.value.load(ordering: .relaxed)
        #expect(await eventually(within: 600) { attempts.value.load(ordering: .relaxed) >= max(total, atJoin + 1_000) },
                "guessing stalled after the worker joined")
        stop.store(true, ordering: .relaxed)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            guessers.notify(queue: .global()) { done.resume() }
        }
        let guessed = attempts.value.load(ordering: .relaxed)
        // The guesses since the first line, summed up within the next few seconds.
        #expect(serve.waitFor("(wrong token); each answer there now waits") != nil, "\(serve.output.suffix(2_000))")
        try FileManager.default.removeItem(atPath: gate)
        #expect(serve.exitStatus(within: 60) == 0, "\(serve.output.suffix(2_000))")
        #expect(worker.exitStatus(within: 30) == 0)
        let output = serve.output
        #expect(output.contains("[verified]"))
        // A first line for each address a guess came from (127.0.0.1, or none: it hung up before
        // its call was read), then a line for each every 5 s while the guessing lasted.
        let lines = output.split(separator: "\n").filter { $0.contains("refused") }
        #expect(lines.count * 100 < guessed, "\(lines)")
        #expect(lines.contains { $0.contains("more joins from 127.0.0.1 refused in") }, "\(lines)")
    }
}

