import ClusterEngine
import ClusterNet
import ClusterProtocol
import ClusterTestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization
import Testing

/// Token holders who send too much, against the real `serve`: messages bigger than their kind
/// needs, and more messages than a session can handle. The coordinator's memory must not grow
/// with what they send.
@Suite("Flooding peers", .serialized)
struct FloodingPeerTests {
    static let token = "flooding-peer-token-0123"
    static let oversizedCount = 600

    /// `serve`'s resident memory now, in bytes.
    static func residentBytes(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return kilobytes * 1024
    }

    static func hello(threads: UInt32) -> Clustertop_V1_WorkerMessage {
        .with {
            $0.hello = .with {
                $0.protocolVersion = 4
                $0.host = "flooder"
                $0.pid = 4242
                $0.threads = threads
            }
        }
    }

    static func heartbeat(entries: Int) -> Clustertop_V1_WorkerMessage {
        // 16 bytes an entry: 60,000 of them are 960 KB on the wire.
        .with { $0.heartbeat = .with { $0.threads = (0..<entries).map { n in .with { $0.attempt = UInt64(n) | 1 << 40; $0.done = 1 << 40 } } } }
    }

    /// One session on `port`: Hello, then as many of `message` as it takes until `count` of them
    /// have been sent in all (`sent`), or the coordinator ends the session. The status code the
    /// call ended with (nil for OK).
    static func session(port: Int, hello: Clustertop_V1_WorkerMessage, message: Clustertop_V1_WorkerMessage,
                        count: Int, sent: Counter) async -> RPCError.Code? {
        await DedicatedExecutor("flooder").run { await sessionHere(port: port, hello: hello, message: message, count: count, sent: sent) }
    }

    private static func sessionHere(port: Int, hello: Clustertop_V1_WorkerMessage, message: Clustertop_V1_WorkerMessage,
                                    count: Int, sent: Counter) async -> RPCError.Code? {
        do {
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port),
                                                           transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in
                var metadata = Metadata()
                metadata.addString(Self.token, forKey: AccessToken.metadataKey)
                try await Clustertop_V1_Coordinator.Client(wrapping: client).work(metadata: metadata) { writer in
                    try await writer.write(hello)
                    while sent.value.load(ordering: .relaxed) < count {
                        try await writer.write(message)
                        sent.value.add(1, ordering: .relaxed)
                    }
                } onResponse: { response in
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

    @Test("600 heartbeats of 960 KB, then 20,000 of the most a 256-thread process may send, as fast as TCP takes them: serve's memory stays within 100 MB of where it started, and its job ends verified")
    func floods() async throws {
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--insecure", "--token", Self.token,
                                          "--workers", "0", "--headless", "--await-workers", "1", "--range", "1...1_000_000"])
        let port = try #require(serve.listeningPort(), "\(serve.output)")
        let before = Self.residentBytes(serve.pid)

        // 60,000 entries: 960 KB on the wire, under the 1 MiB message limit, from a process of
        // one thread. Each ends its session at once; the flooder reconnects and sends the next.
        let oversized = Self.heartbeat(entries: 60_000)
        #expect(try (oversized.serializedBytes() as [UInt8]).count > 900_000)
        let sent = Counter()
        var sessions = 0
        while sent.value.load(ordering: .relaxed) < Self.oversizedCount, sessions < 4_000 {
            sessions += 1
            let code = await Self.session(port: port, hello: Self.hello(threads: 1), message: oversized, count: Self.oversizedCount, sent: sent)
            if code == nil { break }
        }
        #expect(sent.value.load(ordering: .relaxed) >= 600, "\(sessions) sessions")
        #expect(serve.waitFor("a heartbeat of 60000 entries for a process of 1 thread") != nil, "\(serve.output.suffix(2_000))")
        let afterOversized = Self.residentBytes(serve.pid)

        // Within the limits, as fast as the network goes: 256 entries a heartbeat, the most a
        // process of 256 threads may send. Its session holds at most a few of them at once.
        let legal = Counter()
        let code = await Self.session(port: port, hello: Self.hello(threads: 256), message: Self.heartbeat(entries: 256),
                                      count: 20_000, sent: legal)
        #expect(legal.value.load(ordering: .relaxed) == 20_000, "\(String(describing: code))")
        let afterFlood = Self.residentBytes(serve.pid)
        #expect(before > 0)
        #expect(afterOversized - before < 100 << 20, "\(before >> 20) MB → \(afterOversized >> 20) MB")
        #expect(afterFlood - before < 100 << 20, "\(before >> 20) MB → \(afterFlood >> 20) MB")

        // It still serves: a real worker joins and the job ends verified.
        let worker = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--insecure", "--token", Self.token,
                                            "--threads", "1"])
        #expect(worker.status == 0, "\(worker.stderr)")
        #expect(serve.exitStatus(within: 60) == 0, "\(serve.output.suffix(2_000))")
        #expect(serve.output.contains("[verified]"))
        print("flood: RSS \(before >> 20) MB before, \(afterOversized >> 20) MB after \(Self.oversizedCount) oversized heartbeats in \(sessions) sessions, \(afterFlood >> 20) MB after 20,000 full ones")
    }
}

/// A count shared by tasks.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

extension FloodingPeerTests {
    /// One session on `port` that offers `threads` threads and, once welcomed, leaves at once, or
    /// stays until `stay` says stop. Whether it was welcomed.
    static func join(port: Int, threads: UInt32, on executor: DedicatedExecutor = DedicatedExecutor("joiner"),
                     stay: (@Sendable () -> Bool)? = nil) async -> Bool {
        await executor.run { await joinHere(port: port, threads: threads, stay: stay) }
    }

    private static func joinHere(port: Int, threads: UInt32, stay: (@Sendable () -> Bool)?) async -> Bool {
        let welcomed = Counter(), ended = Counter()
        do {
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port),
                                                           transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in
                var metadata = Metadata()
                metadata.addString(Self.token, forKey: AccessToken.metadataKey)
                var options = CallOptions.defaults
                options.waitForReady = false
                try await Clustertop_V1_Coordinator.Client(wrapping: client).work(metadata: metadata, options: options) { writer in
                    try await writer.write(Self.hello(threads: threads))
                    _ = await eventually { welcomed.value.load(ordering: .relaxed) != 0 || ended.value.load(ordering: .relaxed) != 0 }
                    if let stay { _ = await eventually(within: 600) { !stay() || ended.value.load(ordering: .relaxed) != 0 } }
                } onResponse: { response in
                    defer { ended.value.store(1, ordering: .relaxed) }
                    for try await message in response.messages {
                        if case .welcome = message.kind { welcomed.value.store(1, ordering: .relaxed) }
                    }
                }
            }
        } catch {}
        return welcomed.value.load(ordering: .relaxed) != 0
    }

    @Test("300 sessions of 256 threads come and go, then 300 more try to stay: the table keeps its bound, one host holds at most its share, and a real worker from another host joins at once and finishes the job",
          .enabled(if: PeerHost.unavailable == nil || FaultLink.isRequired, "network namespaces cannot be made here"))
    func rowsForEveryone() async throws {
        let peer = try PeerHost()
        let serve = try BackgroundBinary(["serve", "--listen", "0.0.0.0:0", "--insecure", "--token", Self.token, "--workers", "0",
                                          "--headless", "--range", "1...1_000_000_000", "--await-workers", "1"])
        let text = try #require(serve.waitFor("listening on 0.0.0.0:"))
        let port = try #require(text.firstMatch(of: /listening on 0\.0\.0\.0:(\d+)/).flatMap { Int($0.1) })

        // 76,800 threads join and leave, one process at a time: more than the 65,536 rows that
        // used to be a lifetime budget.
        for round in 1...300 {
            let joined = await Self.join(port: port, threads: 256)
            #expect(joined, "round \(round): \(serve.output.suffix(1_000))")
            guard joined else { return }
        }
        // 300 more at once, each meaning to stay: one gets its 256 threads, the host's share;
        // the others are turned away.
        let stop = Counter()
        let clients = DedicatedExecutor("stayers")  // one queue for all: they mostly wait
        let stayers = Task {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<300 {
                    group.addTask { await Self.join(port: port, threads: 256, on: clients) { stop.value.load(ordering: .relaxed) == 0 } }
                }
                var welcomed = 0
                for await joined in group where joined { welcomed += 1 }
                return welcomed
            }
        }
        // 300 sessions on one client queue: with the rest of the suite running beside them, the
        // first to be turned away took over a minute (alone: seconds). A deadline for a hang only.
        #expect(serve.waitFor("host limit of 256 threads", timeout: 600) != nil, "\(serve.output.suffix(1_000))")

        // A student's laptop: another address. It joins while they wait, and finishes the job.
        let worker = try BackgroundBinary(["worker", "--connect", "\(peer.localAddress):\(port)", "--insecure", "--token", Self.token,
                                           "--threads", "2", "--name", "student"], launcher: peer.launcher)
        #expect(serve.waitFor("joined from student", timeout: 600) != nil, "\(worker.output)\n\(serve.output.suffix(2_000))")
        #expect(serve.exitStatus(within: 120) == 0, "\(serve.output.suffix(2_000))")
        #expect(serve.output.contains("[verified]"))
        stop.value.store(1, ordering: .relaxed)
        let welcomed = await stayers.value
        #expect(welcomed == 1, "one host's share, then no more")
        #expect(worker.exitStatus(within: 30) == 0, "\(worker.output)")
    }
}
