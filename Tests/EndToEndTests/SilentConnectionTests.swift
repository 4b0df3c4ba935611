import ClusterEngine
import ClusterNet
import ClusterTestSupport
import Foundation
import Testing

/// Connections that never open a session: closed after a deadline, capped in number, and a real
/// worker still joins and finishes a job while they flood in.
@Suite("Silent connections", .serialized)
struct SilentConnectionTests {
    /// A TCP connection to 127.0.0.1:`port` that sends nothing.
    static func silentSocket(port: Int) throws -> Int32 {
        try #require(loopbackConnection(port: port), "connect: \(errno)")
    }

    /// A TCP connection to 127.0.0.1:`port`, or nil if there is none.
    static func loopbackConnection(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(fd)
            return nil
        }
        return fd
    }

    /// True once the other end has closed `fd` (whatever it sent first is read and dropped).
    static func closedByPeer(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    @Test("300 silent connections: the oldest past the limit are closed, and a worker joins through the flood and finishes a job")
    func silentFlood() async throws {
        let cluster = Cluster()
        // A deadline only a hang reaches: what closes connections here is the limit.
        let identity = try ServerIdentity.selfSigned()
        let coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0), token: "silent-flood-token",
                                      identity: identity, silentConnectionDeadline: .seconds(600))
        let port = try coordinator.start().port
        defer {
            cluster.shutdown(timeout: 2)
            coordinator.stop()
        }
        let limit = Coordinator.silentConnectionLimit
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for _ in 0..<(limit + 44) { sockets.append(try Self.silentSocket(port: port)) }
        #expect(await eventually { coordinator.silentConnections == limit && sockets.filter(Self.closedByPeer).count == 44 },
                "waiting: \(coordinator.silentConnections)")

        // A real worker process joins through the flood (its connection pushes out the oldest
        // silent one) and finishes a job. A process of its own: the test runner's task pool,
        // busy with other suites, must not decide whether it gets in.
        let worker = try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", identity.fingerprint.description,
                                           "--token", "silent-flood-token", "--threads", "1"])
        #expect(await eventually { cluster.snapshot().workers.count == 1 },
                "the worker said: \(worker.output), \(coordinator.silentConnections) waiting")
        let job = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000))
        #expect(await eventually { cluster.summary(of: job)?.verified == true })
        #expect(coordinator.connectedSessions == 1 && coordinator.silentConnections <= limit)
    }

    @Test("serve with 1,024 open files at most: 1,050 silent connections, and a real worker still joins and finishes the job",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit"), "prlimit (util-linux) is not installed"))
    func floodWithinOpenFilesLimit() throws {
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--token", "flood-token-0123456789", "--workers", "0",
                                          "--headless", "--await-workers", "1", "--range", "1...100_000_000"],
                                         launcher: ["/usr/bin/prlimit", "--nofile=1024:1024", "--"])
        let port = try #require(serve.listeningPort())
        let fingerprint = try #require(serve.fingerprint())
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for _ in 0..<1_050 { sockets.append(try Self.silentSocket(port: port)) }
        // Past the coordinator's limit of waiting connections, the oldest are closed.
        #expect(eventually { sockets.filter(Self.closedByPeer).count >= 1_050 - Coordinator.silentConnectionLimit },
                "\(serve.output)")

        let worker = try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", fingerprint,
                                           "--token", "flood-token-0123456789", "--threads", "1"])
        #expect(serve.exitStatus(within: 120) == 0, "serve: \(serve.output) worker: \(worker.output)")
        #expect(serve.output.contains("[verified]"))
        #expect(worker.exitStatus(within: 30) == 0, "\(worker.output)")
    }

    @Test("a connection that opens no session is closed after the deadline")
    func deadline() async throws {
        let cluster = Cluster()
        // Short, so the test sees it pass; the flood test above shows a worker's session is
        // not touched by the guard.
        let coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0), token: "silent-deadline-token",
                                      silentConnectionDeadline: .milliseconds(200))
        let port = try coordinator.start().port
        defer {
            cluster.shutdown(timeout: 2)
            coordinator.stop()
        }
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for _ in 0..<10 { sockets.append(try Self.silentSocket(port: port)) }
        #expect(await eventually { sockets.allSatisfy(Self.closedByPeer) && coordinator.silentConnections == 0 })
    }

    @Test("a worker facing a listener that accepts and never answers gives up after --retry-for, saying why")
    func silentListener() async throws {
        // A socket that listens (the kernel accepts connections) but whose owner never reads.
        let (fd, port) = try RemoteWorkerProcessTests.loopbackSocket(listening: true)
        defer { close(fd) }
        let lines = SaidLines()
        var options = WorkerOptions(coordinator: Endpoint(host: "127.0.0.1", port: port), token: "silent-listener", threads: 1, retryFor: 1)
        options.handshakeTimeout = .milliseconds(500)
        let worker = WorkerProcess(options: options, say: { lines.append($0) })
        let outcome = await DedicatedExecutor().run { await worker.run() }
        guard case .unreachable(let reason, _) = outcome else {
            Issue.record("the worker did not give up: \(outcome)")
            return
        }
        #expect(reason.contains("no answer within 500 ms of connecting"), "\(reason)")
        // Each retry, if the second was due before the deadline, says why too.
        #expect(lines.all.filter { $0.hasPrefix("cannot reach") }.allSatisfy { $0.contains("no answer within") }, "\(lines.all)")
    }
}
