import ClusterEngine
@testable import ClusterNet
import ClusterProtocol
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization
import Testing
import ClusterTestSupport

/// A coordinator facing clients that break the protocol, or come and go by the dozen: each bad
/// session ends alone, and the job still finishes exact, every chunk counted once.
@Suite("Coordinator robustness", .serialized)
struct CoordinatorRobustnessTests {
    static let token = "robustness-token-0123"
    let cluster: Cluster
    let coordinator: Coordinator
    let port: Int

    init() throws {
        var configuration = ClusterConfiguration()
        configuration.auditsAcceptedChunks = true
        cluster = Cluster(configuration: configuration)
        coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0), token: Self.token,
                                  timing: RemoteTiming(lease: .milliseconds(500)))
        port = try coordinator.start().port
    }

    /// One raw session: sends `messages`, keeps the stream open until the coordinator ends the
    /// call or `settled` holds (what the messages were for has happened), and returns the status
    /// code the call ended with (nil for OK).
    func rawSession(_ messages: [Clustertop_V1_WorkerMessage],
                    until settled: @escaping @Sendable () -> Bool = { false }) async -> RPCError.Code? {
        let port = port
        return await DedicatedExecutor("raw-session").run { await Self.rawSession(port: port, messages, until: settled) }
    }

    static func rawSession(port: Int, _ messages: [Clustertop_V1_WorkerMessage],
                           until settled: @escaping @Sendable () -> Bool) async -> RPCError.Code? {
        let ended = Atomic<Bool>(false)
        do {
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port),
                                                           transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in
                var metadata = Metadata()
                metadata.addString(Self.token, forKey: AccessToken.metadataKey)
                try await Clustertop_V1_Coordinator.Client(wrapping: client).work(metadata: metadata) { writer in
                    for message in messages { try await writer.write(message) }
                    _ = await eventually { ended.load(ordering: .relaxed) || settled() }
                } onResponse: { response in
                    defer { ended.store(true, ordering: .relaxed) }
                    for try await _ in response.messages {}
                }
            }
            return nil
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }

    /// Runs blocking `work` on a thread of its own, leaving the pool to the workers meanwhile.
    func offThePool(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                work()
                done.resume()
            }.start()
        }
    }

    static func hello(threads: UInt32 = 1, version: UInt32 = WireProtocol.version) -> Clustertop_V1_WorkerMessage {
        .with { $0.hello = .with { $0.protocolVersion = version; $0.host = "mallory"; $0.pid = 666; $0.threads = threads } }
    }

    static func result(thread: UInt32, attempt: UInt64) -> Clustertop_V1_WorkerMessage {
        .with { $0.results = .with { $0.results = [.with { $0.thread = thread; $0.attempt = attempt; $0.sum = .init(12345) }] } }
    }

    @Test("a message over the size limit ends its session and is never buffered whole; the coordinator goes on")
    func oversizedMessage() async throws {
        // 150,000 thread progress entries: about 2.4 MB, over the 1 MiB limit.
        let huge = Clustertop_V1_WorkerMessage.with {
            $0.heartbeat = .with { $0.threads = (0..<150_000).map { n in .with { $0.thread = 0; $0.attempt = UInt64(n); $0.done = 1 } } }
        }
        #expect(try (huge.serializedBytes() as [UInt8]).count > Coordinator.messageLimit)
        let code = await rawSession([Self.hello(), huge])
        #expect(code != nil, "the oversized message was accepted")
        // The coordinator still serves: a good session joins, and its thread row is there.
        let rows = cluster.snapshot().workers.count
        _ = await rawSession([Self.hello()]) { [cluster] in cluster.snapshot().workers.count > rows }
        #expect(cluster.snapshot().workers.count > rows)
    }

    @Test("malformed and unexpected messages end only their own session; churn loses nothing; the total stays exact")
    func survivesAbuseAndChurn() async throws {
        let job = cluster.submit(try JobSpec(lo: 1, hi: 400_000_000, chunkSize: 4_000_000))
        let strayCheckIn = Clustertop_V1_WorkerMessage.with {
            $0.checkIn = .with { $0.thread = 0; $0.attempt = 1; $0.position = -5 }
        }
        let broken: [(String, [Clustertop_V1_WorkerMessage])] = [
            ("a result before Hello", [Self.result(thread: 0, attempt: 1)]),
            ("no threads offered", [Self.hello(threads: 0)]),
            ("too many threads offered", [Self.hello(threads: 100_000)]),
            ("an unknown protocol version", [Self.hello(version: 99)]),
            ("a thread that does not exist", [Self.hello(), Self.result(thread: 7, attempt: 1)]),
            ("a second Hello", [Self.hello(), Self.hello()]),
            ("a message of no kind", [Self.hello(), Clustertop_V1_WorkerMessage()]),
        ]
        for (what, messages) in broken {
            #expect(await rawSession(messages) != nil, "\(what) was accepted")
        }
        // Well-formed but wrong: a result for an attempt never given is fenced off and counted,
        // never added; a check-in for an attempt the thread does not hold changes nothing (a
        // stray result after it shows it was read). Both sessions took chunks, which go back
        // when they end.
        let cluster = cluster
        _ = await rawSession([Self.hello(), Self.result(thread: 0, attempt: 999_999)]) { cluster.snapshot().staleResults >= 1 }
        _ = await rawSession([Self.hello(), strayCheckIn, Self.result(thread: 0, attempt: 999_998)]) {
            cluster.snapshot().staleResults >= 2
        }
        #expect(cluster.snapshot().staleResults == 2)

        // Thirty worker processes come and go: each joins, two in three hold a chunk when they
        // go. Their sub-blocks wait at a gate, so none of them can finish the job for the good
        // worker, whatever the kernel's speed.
        let gate = KernelGate()
        var churners: [WorkerProcess] = []
        for round in 0..<30 {
            let rowsBefore = cluster.snapshot().workers.count
            let heldBefore = gate.held
            // It keeps trying to reach the coordinator for as long as the test would wait: a
            // loaded machine may take seconds to accept a connection.
            let said = SaidLines()
            let worker = WorkerProcess(options: WorkerOptions(coordinator: Endpoint(host: "127.0.0.1", port: port),
                                                              token: Self.token, threads: 2, retryFor: 120,
                                                              kernel: gate.kernel, cpuTokens: .unbounded()),
                                       say: { said.append($0) })
            churners.append(worker)
            let task = DedicatedExecutor("churner").start { await worker.run() }
            #expect(await eventually { cluster.snapshot().workers.count == rowsBefore + 2 },
                    "churner \(round) joined: \(said.all)")
            if round % 3 != 0 {
                #expect(await eventually { gate.held > heldBefore }, "churner \(round) is mid-chunk")
            }
            task.cancel()
            _ = await task.value
        }
        #expect(cluster.summary(of: job) == nil, "no churner finished anything")

        // A good worker finishes the job: exact, and every chunk counted once.
        let good = WorkerProcess(options: WorkerOptions(coordinator: Endpoint(host: "127.0.0.1", port: port),
                                                        token: Self.token, threads: 2), say: { _ in })
        let goodRun = DedicatedExecutor("good").start { await good.run() }
        #expect(await eventually { cluster.summary(of: job) != nil })
        let summary = try #require(cluster.summary(of: job))
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<100))
        gate.open()  // the churners' threads end
        await offThePool { [cluster, coordinator] in
            cluster.shutdown(timeout: 2)
            coordinator.stop()
        }
        #expect(await goodRun.value == .released)
        #expect(coordinator.connectedSessions == 0)
        let churned = cluster.snapshot().workers.filter { $0.remote?.host != "mallory" && $0.remote != nil }.count
        #expect(churned == 62, "thirty churners and the good worker joined, two threads each")
        _ = churners
    }

    @Test("a client that heartbeats but never hands in cannot stall a job: backups finish its chunks under every schedule; its late result is counted")
    func heartbeatsButNeverHandsIn() async throws {
        var configuration = ClusterConfiguration()
        configuration.auditsAcceptedChunks = true
        let cluster = Cluster(configuration: configuration)
        // A long lease: the client keeps it however loaded the machine, so only backups can help.
        let coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0), token: Self.token,
                                      timing: RemoteTiming(lease: .seconds(30)))
        let port = try coordinator.start().port
        defer {
            coordinator.stop()
            cluster.shutdown()
        }
        let assigned = Mutex<[UInt64]>([])
        let stop = Atomic<Bool>(false)
        // The client: it says hello, then heartbeats every 0.1 s that it has done nothing of its
        // attempt; told to stop, it sends the result of the first attempt it was given, far too late.
        let client = DedicatedExecutor("client").start {
            do {
                let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port),
                                                               transportSecurity: .plaintext)
                try await withGRPCClient(transport: transport) { grpc in
                    var metadata = Metadata()
                    metadata.addString(Self.token, forKey: AccessToken.metadataKey)
                    try await Clustertop_V1_Coordinator.Client(wrapping: grpc).work(metadata: metadata) { writer in
                        try await writer.write(Self.hello())
                        while !stop.load(ordering: .relaxed) {
                            let current = assigned.withLock { $0.last ?? 0 }
                            try await writer.write(.with {
                                $0.heartbeat = .with { $0.threads = [.with { $0.thread = 0; $0.attempt = current; $0.done = 0 }] }
                            })
                            try await Task.sleep(for: .milliseconds(100))
                        }
                        let stale = cluster.snapshot().staleResults
                        try await writer.write(Self.result(thread: 0, attempt: assigned.withLock { $0[0] }))
                        _ = await eventually { cluster.snapshot().staleResults > stale }
                    } onResponse: { response in
                        for try await message in response.messages {
                            if case .assignments(let batch) = message.kind {
                                assigned.withLock { $0 += batch.assigns.map(\.attempt) }
                            }
                        }
                    }
                }
            } catch {}  // how its call ends does not matter here; what it sent does
        }
        let mallory = WorkerID(1)
        for schedule in [SchedulePolicy.dynamic, .stealing, .static] {
            let before = assigned.withLock { $0.count }
            let job = cluster.submit(try JobSpec(lo: 1, hi: 40_000_000, chunkSize: 4_000_000, schedule: schedule))
            #expect(await eventually { assigned.withLock { $0.count } > before }, "the client holds chunks of \(job)")
            // An honest thread joins once the client holds the job's chunks.
            let honest = try #require(cluster.addWorker())
            let summary = Mutex<JobSummary?>(nil)
            await offThePool { summary.withLock { $0 = cluster.waitForJob(job, timeout: 120) } }
            let finished = try #require(summary.withLock { $0 }, "\(schedule): the job stalled")
            #expect(finished.verified && finished.acceptedChunks?.sorted() == Array(0..<10), "\(schedule)")
            #expect(finished.backupsWon >= 1, "\(schedule)")
            #expect(cluster.events(after: 0).contains { if case .workerBenched(mallory, job, _, _) = $0.kind { true } else { false } },
                    "\(schedule): the client sat the rest of the job out")
            cluster.remove(honest)
            #expect(await eventually { cluster.snapshot().workers[honest.rawValue - 1].state == .removed })
        }
        stop.store(true, ordering: .relaxed)
        await client.value
        #expect(cluster.events(after: 0).contains {
            if case .staleResultDiscarded(_, _, mallory) = $0.kind { true } else { false }
        }, "the late result was fenced off and counted")
    }
}
