import ClusterEngine
import ClusterNet
import Foundation
import Synchronization
import Testing
import ClusterTestSupport

/// Remote workers as people run them: real `cluster-top worker` processes joining a coordinator
/// over loopback. The coordinator is either the real `cluster-top serve`, or a `Coordinator` in
/// this process, where a test can watch the engine and use its control API directly.
@Suite("Remote worker processes", .serialized)
struct RemoteWorkerProcessTests {
    static let token = "test-token-0123456789"

    /// A coordinator in this process, on a free loopback port.
    struct LocalCoordinator {
        let cluster: Cluster
        let coordinator: Coordinator
        let port: Int
        /// Over TLS, as the command line's default, with a certificate made for the test.
        let identity: ServerIdentity

        /// `queueElements`: each thread's queue is that many elements' worth (at most 1,024
        /// attempts), whatever pace it shows.
        init(lease: Duration = .seconds(1), queueElements: Int64? = nil) throws {
            var configuration = ClusterConfiguration()
            configuration.auditsAcceptedChunks = true
            if let queueElements {
                configuration.remoteQueueSeconds = 0
                configuration.remoteQueueElements = queueElements
            }
            cluster = Cluster(configuration: configuration)
            identity = try ServerIdentity.selfSigned()
            coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0),
                                      token: RemoteWorkerProcessTests.token, timing: RemoteTiming(lease: lease), identity: identity)
            port = try coordinator.start().port
        }

        func worker(threads: Int = 1, token: String = RemoteWorkerProcessTests.token,
                    environment: [String: String] = [:]) throws -> BackgroundBinary {
            try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", identity.fingerprint.description,
                                  "--token", token, "--threads", "\(threads)"],
                                 environment: environment)
        }

        /// The id of the remote worker that runs in process `pid`.
        func workerID(pid: Int32) -> WorkerID? {
            var found: WorkerID?
            _ = eventually { found = cluster.snapshot().workers.first { $0.remote?.pid == pid }?.id; return found != nil }
            return found
        }

        func row(_ id: WorkerID) -> WorkerSnapshot { cluster.snapshot().workers[id.rawValue - 1] }

        func stop() {
            cluster.shutdown(timeout: 2)
            coordinator.stop()
        }
    }

    @Test("a coordinator and two worker processes finish a job with the exact, verified total")
    func twoWorkerProcesses() throws {
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--token", Self.token, "--workers", "0",
                                          "--headless", "--await-workers", "2", "--range", "1...300_000_000"])
        let port = try #require(serve.listeningPort())
        let fingerprint = try #require(serve.fingerprint(), "\(serve.output)")
        // Each picks its kernel on its own machine; one is told to run the scalar one. The
        // fingerprint and token come from the environment, as a batch script gives them.
        let workers = try [["--kernel", "scalar"], []].map { kernel in
            try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(port)", "--threads", "1"] + kernel,
                                 environment: ["CLUSTER_TOP_TOKEN": Self.token, "CLUSTER_TOP_FINGERPRINT": fingerprint])
        }
        #expect(serve.exitStatus(within: 120) == 0)
        let output = serve.output
        #expect(output.contains("sum of squares over 1...300000000 = 9000000045000000050000000"))
        #expect(output.contains("[verified]"))
        for (worker, kernel) in zip(workers, [KernelVariant.scalar, .best]) {
            #expect(output.contains("(pid \(worker.pid), thread 0, \(kernel) kernel)"), "each process joined: \(output)")
            #expect(worker.exitStatus(within: 10) == 0)
            #expect(worker.output.contains("released by the coordinator"))
        }
    }

    @Test("a wrong token and a missing token are refused, and the coordinator keeps running")
    func refusedTokens() async throws {
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--token", Self.token, "--workers", "0",
                                          "--headless", "--await-workers", "1", "--range", "1...1000"])
        let port = try #require(serve.listeningPort())
        let fingerprint = try #require(serve.fingerprint())
        let wrong = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", fingerprint,
                                           "--token", "not-the-token", "--threads", "1"])
        #expect(wrong.status == 77)
        #expect(wrong.stderr == "cluster-top: refused by 127.0.0.1:\(port): wrong token: use the token the coordinator printed when it started\n")
        #expect(!wrong.stdout.contains("joined"))

        // The command line insists on a token; the library can leave it out, as a stranger would.
        var strangerOptions = WorkerOptions(coordinator: Endpoint(host: "127.0.0.1", port: port), token: "", threads: 1, retryFor: 60)
        strangerOptions.check = .pinned(try #require(Fingerprint(fingerprint)))
        let stranger = WorkerProcess(options: strangerOptions, say: { _ in })
        let outcome = await DedicatedExecutor().run { await stranger.run() }
        guard case .refused(let reason) = outcome else {
            Issue.record("a worker without a token was not refused: \(outcome)")
            return
        }
        #expect(reason.hasPrefix("no token"))

        #expect(serve.waitFor("refused: no token") != nil)
        #expect(serve.output.contains("refused: wrong token"))
        let good = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", fingerprint,
                                          "--token", Self.token, "--threads", "1"])
        #expect(good.status == 0)
        #expect(serve.exitStatus(within: 30) == 0)
        #expect(serve.output.contains("sum of squares over 1...1000 = 333833500"))
        #expect(serve.output.contains("[verified]"))
    }

    @Test("a worker started before its coordinator retries until it joins; one that never can gives up with exit 69")
    func retriesThenGivesUp() throws {
        let port = try Self.freeLoopbackPort()
        // A worker started first must know the certificate in advance: serve is given one
        // (--tls-cert, --tls-key) instead of making its own.
        let identity = try ServerIdentity.selfSigned()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-tls-\(getpid())-\(port)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        try identity.certificateChainPEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        try identity.privateKeyPEMText.write(toFile: key, atomically: true, encoding: .utf8)
        let early = try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", identity.fingerprint.description,
                                          "--token", Self.token, "--threads", "1", "--retry-for", "60"])
        #expect(early.waitFor("retrying in", timeout: 10) != nil, "\(early.output)")
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:\(port)", "--token", Self.token, "--workers", "0",
                                          "--tls-cert", certificate, "--tls-key", key,
                                          "--headless", "--await-workers", "1", "--range", "1...50_000_000"])
        #expect(serve.exitStatus(within: 60) == 0, "\(serve.output)")
        #expect(serve.output.contains("[verified]"))
        #expect(early.exitStatus(within: 15) == 0)
        #expect(early.output.contains("joined 127.0.0.1:\(port) as worker 1"), "\(early.output)")

        let nowhere = try Self.freeLoopbackPort()
        let late = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(nowhere)", "--token", Self.token, "--retry-for", "0.5"])
        #expect(late.status == 69)
        let lines = late.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("cluster-top: gave up on 127.0.0.1:\(nowhere) after trying for ")
                && lines[0].contains(" s (--retry-for 0.5): "), "\(late.stderr)")
        #expect(late.stdout.contains("retrying in"))
    }

    @Test("a coordinator serves its workers while every thread of Swift concurrency's pool is blocked")
    func servesWithPoolBlocked() throws {
        let local = try LocalCoordinator()
        defer { local.stop() }
        // Tests that wait for a job block a pool thread each (this one too); two at once used
        // to leave the coordinator's sessions no thread to run on, and both jobs hung.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let blocked = BlockedThreads()
        let release = DispatchSemaphore(value: 0)
        for _ in 0..<cores {
            Task.detached {
                blocked.count.add(1, ordering: .relaxed)
                release.wait()
            }
        }
        defer { for _ in 0..<cores { release.signal() } }
        _ = eventually(within: 5) { blocked.count.load(ordering: .relaxed) >= cores - 1 }
        let remote = try local.worker()
        let job = local.cluster.submit(try JobSpec(lo: 1, hi: 200_000_000, chunkSize: 10_000_000))
        let summary = try #require(local.cluster.waitForJob(job, timeout: 60), "\(remote.output)")
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<20))
    }

    @Test("kill -9 of a worker process mid-chunk: the chunk is redone elsewhere and the total stays exact")
    func killNine() throws {
        let local = try LocalCoordinator()
        defer { local.stop() }
        // The victim's sub-blocks wait at a gate file that stays: it is mid-chunk when killed.
        let gate = Self.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let victim = try local.worker(environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
        let victimID = try #require(local.workerID(pid: victim.pid))
        let survivor = try local.worker()
        let survivorID = try #require(local.workerID(pid: survivor.pid))
        let job = local.cluster.submit(try JobSpec(lo: 1, hi: 1_500_000_000, chunkSize: 50_000_000))
        var assignment: ChunkAssignment?
        #expect(eventually { assignment = local.row(victimID).assignment; return assignment != nil })
        let held = try #require(assignment)
        victim.signal(SIGKILL)
        #expect(victim.exitStatus(within: 10) == 137)

        let summary = try #require(local.cluster.waitForJob(job, timeout: 120))
        #expect(summary.verified)
        #expect(summary.chunksRequeued >= 1)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<30), "every chunk counted exactly once")
        let events = local.cluster.events(after: 0).map(\.kind)
        #expect(events.contains(.remoteWorkerDisconnected(victimID, chunk: held.chunk)))
        #expect(events.contains(.chunkRedistributed(chunk: held.chunk, from: victimID, to: survivorID)))
    }

    @Test("SIGSTOP past the lease, then SIGCONT: the chunk was redone and the late work is discarded and counted")
    func frozenWorker() throws {
        let local = try LocalCoordinator(lease: .milliseconds(500))
        defer { local.stop() }
        // The sleeper's sub-blocks wait while the gate file exists: it holds its first attempt
        // until the test lets it go, however fast its kernel.
        let gate = Self.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let sleeper = try local.worker(environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
        let sleeperID = try #require(local.workerID(pid: sleeper.pid))
        let helper = try local.worker()
        _ = try #require(local.workerID(pid: helper.pid))
        let job = local.cluster.submit(try JobSpec(lo: 1, hi: 1_500_000_000, chunkSize: 50_000_000))
        var held: ChunkAssignment?
        #expect(eventually { held = local.row(sleeperID).assignment; return held != nil })
        let attempt = try #require(held)
        sleeper.signal(SIGSTOP)
        let expired = eventually {
            local.cluster.events(after: 0).contains {
                if case .leaseExpired(sleeperID, attempt.chunk, _) = $0.kind { return true }
                return false
            }
        }
        #expect(expired)
        #expect(local.row(sleeperID).leaseLost)
        sleeper.signal(SIGCONT)
        try FileManager.default.removeItem(atPath: gate)
        let fenced = eventually {
            local.cluster.events(after: 0).contains { $0.kind == .staleResultDiscarded(chunk: attempt.chunk, attempt: attempt.attempt, worker: sleeperID) }
        }
        #expect(fenced, "the late work of attempt \(attempt.attempt) was discarded")
        #expect(local.cluster.events(after: 0).contains { $0.kind == .remoteWorkerReturned(sleeperID) })

        let summary = try #require(local.cluster.waitForJob(job, timeout: 120))
        #expect(summary.verified)
        #expect(local.cluster.snapshot().staleResults >= 1)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<30), "the late result was never added")
    }

    @Test("pausing busy remote threads with deep queues keeps the attempts they are on and wastes no finished work")
    func pauseKeepsWork() async throws {
        // Deep queues by elements: sized in time, a thread starved of CPU (a loaded machine) runs
        // at a pace that leaves it one attempt queued, and may finish it before the refill comes;
        // paused then, it holds none. That is right, and not what this test is about. 48 M
        // elements were too few: at the IFMA kernel's speed a thread summed them in 3 ms, before
        // a loaded coordinator's refill came, and was paused holding none (a CI run, 600 s
        // waiting). 1,024 chunks of 16 Mi are a second of one core's work at 18 G/s.
        let local = try LocalCoordinator(queueElements: 1_024 << 24)
        defer { local.stop() }
        let remote = try local.worker(threads: 2)
        let cluster = local.cluster
        try #require(await eventually { cluster.snapshot().workers.count == 2 })
        let ids = cluster.snapshot().workers.map(\.id)
        // 16 Mi elements a chunk: each thread keeps 1,024 queued and holds results back. The job
        // is one no test outlives, so the threads are busy at every pause on any machine.
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000_000_000, chunkSize: 1 << 24))
        try #require(await eventually(within: 30) { (cluster.snapshot().job?.chunksDone ?? 0) >= 20 })
        // Deadlines for a hang only: compute threads run in SCHED_IDLE, and beside the suite's
        // heaviest tests (300 sessions of 256 threads) they waited over a minute for a core.
        // Async, so its waits never hold a thread of Swift concurrency's pool: in one CI run
        // this test sat 600 s in a blocking wait, and the async tests beside it (those 300
        // sessions) crawled for want of a thread.
        for round in 1...3 {
            for id in ids { #expect(cluster.pause(id)) }
            // Each thread stops inside the attempt it is on and keeps it.
            let stopped = await eventually(within: 600) {
                cluster.snapshot().workers.allSatisfy { $0.state == .paused && $0.assignment != nil }
                    && cluster.events(after: 0).filter { $0.kind == .workerPaused(ids[0]) }.count == round
            }
            #expect(stopped, "round \(round): \(cluster.snapshot().workers)")
            // Its process heard Hold for each thread: stopped where the coordinator knows.
            let holds = await eventually(within: 600) { ids.allSatisfy { remote.output.components(separatedBy: "worker \($0.rawValue) paused").count - 1 == round } }
            #expect(holds, "round \(round): \(remote.output)")
            let done = cluster.snapshot().job?.chunksDone ?? 0
            for id in ids { #expect(cluster.resume(id)) }
            // Back at work before the next round: every thread holds an attempt again (one
            // paused between attempts would stop at once, holding none), and chunks are done.
            #expect(await eventually(within: 600) {
                let snapshot = cluster.snapshot()
                return snapshot.workers.allSatisfy { $0.state == .running && $0.assignment != nil }
                    && (snapshot.job?.chunksDone ?? 0) > done
            })
        }
        let snapshot = cluster.snapshot()
        #expect(snapshot.staleResults == 0, "no finished attempt was thrown away")
        #expect(snapshot.job?.chunksRequeued == 0)
        #expect(snapshot.job?.status == .running)
    }

    @Test("a worker process at nice 19, on cores kept busy by other processes, is granted a longer lease and keeps it")
    func niceWorkerKeepsLease() throws {
        let local = try LocalCoordinator(lease: .seconds(1))
        defer { local.stop() }
        // Other programs keep every core busy, at normal priority, for the whole job.
        let busy = try (0..<ProcessInfo.processInfo.activeProcessorCount).map { _ in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "while :; do :; done"]
            // Not the test runner's output: a child left holding it would keep `swift test` waiting.
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        defer {
            // SIGKILL: a child of the test runner may inherit a mask that blocks SIGTERM.
            for process in busy { kill(process.processIdentifier, SIGKILL) }
            for process in busy { process.waitUntilExit() }
        }
        // Its two threads are held mid-chunk at a gate file: the job waits on it while the test
        // watches the lease, however fast the kernel.
        let gate = Self.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let worker = try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(local.port)", "--fingerprint",
                                           local.identity.fingerprint.description, "--token", Self.token,
                                           "--threads", "2"], environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"],
                                          launcher: ["/usr/bin/nice", "-n", "19"])
        try #require(eventually { local.cluster.snapshot().workers.count == 2 }, "\(worker.output)")
        // It yields the CPU to everything else, heartbeats included, and cannot take that back;
        // its Hello says so and the coordinator grants it 5.75 times the lease (its messages
        // arrived up to 1.9 s apart here, with a third busy loop beside the test).
        #expect(eventually { worker.output.contains("lease 5750 ms") }, "\(worker.output)")
        let job = local.cluster.submit(try JobSpec(lo: 1, hi: 2_000_000, chunkSize: 100_000))
        try #require(eventually { FileManager.default.fileExists(atPath: gate + ".held") }, "\(worker.output)")
        func losses() -> [ClusterEventKind] {
            local.cluster.events(after: 0).map(\.kind).filter { if case .leaseExpired = $0 { true } else { false } }
        }
        // Deliberate pacing, since a lease is a time: held for three of its leases, starved by
        // the busy loops, its heartbeats alone must keep it.
        let heldSince = ContinuousClock.now
        _ = eventually(within: 120) { ContinuousClock.now - heldSince > .milliseconds(3 * 5750) || !losses().isEmpty }
        #expect(losses().isEmpty, "the lease lapsed: \(losses())")
        try FileManager.default.removeItem(atPath: gate)
        let summary = try #require(local.cluster.waitForJob(job, timeout: 600), "\(worker.output)")
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<20), "every chunk counted once")
        #expect(losses().isEmpty, "the lease lapsed: \(losses())")
        #expect(summary.chunksRequeued == 0)
    }

    @Test("a coordinator stopped with SIGSTOP after the join: the worker says so, gives the connection up, and rejoins once it runs again, as the same row")
    func silentCoordinator() throws {
        // The worker holds its attempt at a gate file: the job cannot end while the test acts.
        let gate = Self.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--token", Self.token, "--workers", "0",
                                          "--headless", "--await-workers", "1", "--lease", "0.5", "--range", "1...200_000_000"])
        let port = try #require(serve.listeningPort())
        let fingerprint = try #require(serve.fingerprint())
        let worker = try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", fingerprint,
                                           "--token", Self.token, "--threads", "1", "--retry-for", "120"],
                                          environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
        #expect(serve.waitFor("job 1 started") != nil, "\(serve.output)")

        serve.signal(SIGSTOP)
        #expect(worker.waitFor("the coordinator said nothing for 3.0 s (stopped, hung, or cut off?)") != nil, "\(worker.output)")
        serve.signal(SIGCONT)
        #expect(eventually { worker.output.components(separatedBy: "joined 127.0.0.1:\(port) as worker").count == 3 },
                "joined again: \(worker.output)")
        #expect(worker.output.components(separatedBy: "joined 127.0.0.1:\(port) as worker 1 (").count == 3,
                "the same process got its row back: \(worker.output)")

        try FileManager.default.removeItem(atPath: gate)
        #expect(serve.exitStatus(within: 120) == 0, "\(serve.output)")
        #expect(serve.output.contains("[verified]"))
        #expect(worker.exitStatus(within: 30) == 0, "\(worker.output)")
    }

    @Test("worker ids are no lifetime budget: 100 restarts of a 64-thread worker process all join (6,400 threads), and the table keeps its bound")
    func manyRestarts() throws {
        let local = try LocalCoordinator()
        defer { local.stop() }
        for restart in 0..<100 {
            let worker = try local.worker(threads: 64)
            let joined = eventually {
                local.cluster.snapshot().workers.filter { $0.remote?.pid == worker.pid && $0.state != .removed }.count == 64
            }
            #expect(joined, "restart \(restart): \(worker.output)")
            guard joined else { return }
            worker.signal(SIGKILL)
            #expect(worker.exitStatus(within: 30) == 137)
            // Gone from the engine too before the next one starts: at most 64 alive at a time.
            #expect(eventually {
                local.cluster.snapshot().workers.allSatisfy { $0.remote?.pid != worker.pid || $0.state == .removed }
            })
        }
        // Ids grew to 6,400; the table kept its bound, freeing the rows removed longest ago.
        let rows = local.cluster.snapshot().workers
        #expect(rows.count == ClusterConfiguration().maxWorkerRecords && rows.last?.id == WorkerID(6_400))
    }

    @Test("--status-file says connecting while the coordinator is out of reach, joined once in, and is gone on exit")
    func statusFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-status-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let read = { (name: String) in try? String(contentsOfFile: folder.appendingPathComponent(name).path, encoding: .utf8) }

        let nowhere = try Self.freeLoopbackPort()
        let waiting = try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(nowhere)", "--insecure", "--token", Self.token,
                                            "--threads", "1", "--status-file", folder.appendingPathComponent("waiting").path])
        #expect(eventually { read("waiting") == "cluster-top worker status\nconnecting to 127.0.0.1:\(nowhere)\n" }, "\(waiting.output)")

        let local = try LocalCoordinator()
        defer { local.stop() }
        let joined = try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(local.port)",
                                           "--fingerprint", local.identity.fingerprint.description, "--token", Self.token,
                                           "--threads", "1", "--status-file", folder.appendingPathComponent("joined").path])
        #expect(eventually { read("joined") == "cluster-top worker status\njoined 127.0.0.1:\(local.port)\n" }, "\(joined.output)")
        #expect(read("waiting") == "cluster-top worker status\nconnecting to 127.0.0.1:\(nowhere)\n")

        local.stop()
        #expect(joined.exitStatus(within: 30) == 0)
        #expect(read("joined") == nil, "a worker that left says nothing")
        waiting.signal(SIGTERM)
        #expect(waiting.exitStatus(within: 30) == 143)
        #expect(read("waiting") == nil)
    }

    @Test("a remote worker is paused, resumed, throttled, killed, restarted and removed from the control API")
    func controlAPI() throws {
        let local = try LocalCoordinator()
        defer { local.stop() }
        // While the gate file exists, the worker's sub-blocks wait: the test decides where in
        // its attempt it stands, however fast its kernel.
        let gate = Self.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let remote = try local.worker(environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
        let id = try #require(local.workerID(pid: remote.pid))
        let cluster = local.cluster
        let job = cluster.submit(try JobSpec(lo: 1, hi: 1_000_000_000, chunkSize: 100_000_000))
        #expect(eventually { FileManager.default.fileExists(atPath: gate + ".held") }, "its thread is at the gate")

        // Pausing while its thread is inside a sub-block; paused once its check-in told the
        // coordinator exactly where it stopped. The process prints "paused" when Hold arrives.
        #expect(cluster.pause(id))
        #expect(local.row(id).state == .pausing)
        try FileManager.default.removeItem(atPath: gate)
        #expect(eventually { local.row(id).state == .paused })
        let stopped = try #require(local.row(id).assignment)
        #expect(stopped.elementsDone > 0, "it summed the sub-block it was in")
        #expect(remote.waitFor("worker \(id.rawValue) paused") != nil)
        #expect(local.row(id).assignment == stopped, "a paused worker makes no progress")

        // Resumed, it runs on until the gate holds it again, still in its attempt.
        try FileManager.default.removeItem(atPath: gate + ".held")
        FileManager.default.createFile(atPath: gate, contents: nil)
        #expect(cluster.resume(id))
        #expect(remote.waitFor("worker \(id.rawValue) resumed") != nil)
        #expect(eventually { FileManager.default.fileExists(atPath: gate + ".held") }, "held at the gate again")
        #expect(local.row(id).state == .running)

        // Paused again and throttled; killed while it stands in its attempt, which it drops.
        #expect(cluster.pause(id))
        #expect(cluster.setSpeed(id, to: 0.5))
        try FileManager.default.removeItem(atPath: gate)
        #expect(eventually { local.row(id).state == .paused })
        let heldAtKill = try #require(local.row(id).assignment)
        #expect(cluster.kill(id))
        #expect(remote.waitFor("abandoned attempt \(heldAtKill.attempt.rawValue)") != nil)
        #expect(local.row(id).state == .dead)
        #expect(cluster.events(after: 0).contains { $0.kind == .workerKilled(id, chunk: heldAtKill.chunk) })

        // Restarted, it takes work again at the speed it was given.
        #expect(cluster.restart(id))
        #expect(remote.waitFor("worker \(id.rawValue) runs at 50%") != nil)
        #expect(cluster.setSpeed(id, to: 1))
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<10))

        #expect(cluster.remove(id))
        #expect(remote.exitStatus(within: 10) == 0)
        #expect(remote.output.contains("worker \(id.rawValue) released"))
    }

    /// A gate file for a worker process's `CLUSTER_TOP_TEST_KERNEL=gate:PATH`, closed (present).
    static func gateFile() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-gate-\(UUID().uuidString)").path
        try? FileManager.default.removeItem(atPath: path + ".held")
        FileManager.default.createFile(atPath: path, contents: nil)
        return path
    }
}

/// How many pool threads a test has blocked.
final class BlockedThreads: Sendable {
    let count = Atomic<Int>(0)
}

extension RemoteWorkerProcessTests {
    /// A loopback port nothing listens on: the kernel picks a free one, and we let it go.
    static func freeLoopbackPort() throws -> Int {
        let (fd, port) = try loopbackSocket(listening: false)
        close(fd)
        return port
    }

    /// A TCP socket bound to a free loopback port the kernel picks, listening or not, and the port.
    static func loopbackSocket(listening: Bool) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && (!listening || listen(fd, 16) == 0) && getsockname(fd, $0, &length) == 0
            }
        }
        if !bound { close(fd) }
        try #require(bound)
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
