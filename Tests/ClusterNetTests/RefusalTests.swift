import ClusterEngine
@testable import ClusterNet
import ClusterProtocol
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization
import Testing
import ClusterTestSupport

@Suite("Refused joins: the rules")
struct RefusalGateTests {
    let start = ContinuousClock.now

    func refusedEvents(_ cluster: Cluster) -> [ClusterEventKind] {
        cluster.events(after: 0).map(\.kind).filter {
            switch $0 {
            case .remoteWorkerRefused, .refusalsSummarised: return true
            default: return false
            }
        }
    }

    @Test("each refusal from an address waits longer than the last; at most a few wait at once, the rest are cut off")
    func backOff() {
        let gate = RefusalGate(cluster: Cluster())
        var answers: [Duration] = []
        for _ in 0..<8 {
            guard case .answer(let wait) = gate.refused(address: "10.0.0.7", peer: "10.0.0.7:1", reason: "wrong token", now: start)
            else { Issue.record("cut off too early"); return }
            answers.append(wait)
        }
        #expect(answers == [.zero, .zero, .milliseconds(50), .milliseconds(150), .milliseconds(350), .milliseconds(750),
                            .milliseconds(1550), .milliseconds(3150)])
        #expect(gate.refused(address: "10.0.0.7", peer: "10.0.0.7:1", reason: "wrong token", now: start) == .cutOff)
        // Another address is not held up by this one.
        #expect(gate.refused(address: "10.0.0.8", peer: "10.0.0.8:1", reason: "wrong token", now: start) == .answer(after: .zero))
        #expect(gate.delay(afterFailures: 100) == .seconds(30), "the back-off has a ceiling")
        // Once answered, a waiting place is free again.
        gate.answered(address: "10.0.0.7")
        if case .cutOff = gate.refused(address: "10.0.0.7", peer: "10.0.0.7:1", reason: "wrong token", now: start) {
            Issue.record("a place freed by an answer was not given")
        }
    }

    @Test("the log has the first refusal of each address and reason, then one summary per address every 5 s, never a line each")
    func summaries() {
        let cluster = Cluster()
        let gate = RefusalGate(cluster: cluster)
        for _ in 0..<41 {
            if case .answer = gate.refused(address: "10.0.0.7", peer: "10.0.0.7:5", reason: "wrong token", now: start) {
                gate.answered(address: "10.0.0.7")
            }
        }
        if case .answer = gate.refused(address: "10.0.0.7", peer: "10.0.0.7:5", reason: "no token", now: start) {
            gate.answered(address: "10.0.0.7")
        }
        #expect(refusedEvents(cluster) == [.remoteWorkerRefused(peer: "10.0.0.7:5", reason: "wrong token"),
                                           .remoteWorkerRefused(peer: "10.0.0.7:5", reason: "no token")])
        gate.summarise(now: start + .seconds(4))
        #expect(refusedEvents(cluster).count == 2, "not before the interval")
        gate.summarise(now: start + .seconds(5))
        let summary = refusedEvents(cluster).last
        guard case .refusalsSummarised(40, "10.0.0.7", "wrong token", 5, _)? = summary else {
            Issue.record("\(String(describing: summary))")
            return
        }
        #expect(cluster.events(after: 0).last?.message.hasPrefix("40 more joins from 10.0.0.7 refused in 5 s (wrong token); each answer there now waits") == true)
        gate.summarise(now: start + .seconds(20))
        #expect(refusedEvents(cluster).count == 3, "nothing new, nothing said")
        // Quiet for a minute: forgotten, and the next one starts afresh.
        gate.summarise(now: start + .seconds(70))
        #expect(gate.addressCount == 0)
        #expect(gate.refused(address: "10.0.0.7", peer: "10.0.0.7:6", reason: "wrong token", now: start + .seconds(71)) == .answer(after: .zero))
    }
}

@Suite("Refused joins on the wire", .serialized)
struct RefusalTests {
    static let token = "refusal-test-token-0123"

    /// One call with `token` on a connection of its own; the status code it ended with.
    static func attempt(port: Int, token: String) async -> RPCError.Code? {
        do {
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port),
                                                           transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in
                var metadata = Metadata()
                metadata.addString(token, forKey: AccessToken.metadataKey)
                var options = CallOptions.defaults
                options.waitForReady = false
                try await Clustertop_V1_Coordinator.Client(wrapping: client).work(metadata: metadata, options: options) { writer in
                    try await writer.write(RawPeer.hello())
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

    @Test("a wrong token closes its connection")
    func wrongTokenCloses() async throws {
        let cluster = Cluster()
        let coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0), token: Self.token)
        let port = try coordinator.start().port
        defer {
            coordinator.stop()
            cluster.shutdown()
        }
        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        try await withGRPCClient(transport: transport) { client in
            var metadata = Metadata()
            metadata.addString("not-the-token", forKey: AccessToken.metadataKey)
            do {
                try await Clustertop_V1_Coordinator.Client(wrapping: client).work(metadata: metadata) { writer in
                    try await writer.write(RawPeer.hello())
                } onResponse: { response in
                    for try await _ in response.messages {}
                }
                Issue.record("a wrong token was accepted")
            } catch let error as RPCError {
                #expect(error.code == .permissionDenied)
            }
            // The client keeps its side open; the coordinator closes the connection.
            #expect(await eventually { coordinator.connectionGuard.openCount == 0 })
        }
    }

    @Test("20,000 wrong tokens make a few lines of log, and a worker with the right token joins while its address is being slowed down")
    func guesser() async throws {
        let cluster = Cluster()
        let coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0), token: Self.token)
        let port = try coordinator.start().port
        defer {
            coordinator.stop()
            cluster.shutdown()
        }
        let attempts = Counter(), answered = Counter()
        let started = ContinuousClock.now
        let total = 20_000
        // Sixteen guessers, each a thread with a connection of its own per guess, none waiting
        // more than a fifth of a second for an answer: an impatient guesser goes as fast as it can.
        let guessers = DispatchGroup()
        for _ in 0..<16 {
            guessers.enter()
            Thread {
                defer { guessers.leave() }
                while attempts.value.add(1, ordering: .relaxed).newValue <= total {
                    if RawHTTP2.call(port: port, token: "guess-\(Int.random(in: 0..<1_000_000))", patience: 0.2) {
                        answered.value.add(1, ordering: .relaxed)
                    }
                }
            }.start()
        }
        // Once the guessers' answers wait a second, a worker with the right token, from the same
        // address: it is not made to wait behind them.
        try #require(await eventually { coordinator.refusals.currentDelay(for: "127.0.0.1") >= .seconds(1) })
        let worker = WorkerProcess(options: WorkerOptions(coordinator: Endpoint(host: "127.0.0.1", port: port), token: Self.token,
                                                          threads: 1), say: { _ in })
        let run = Task { await worker.run() }
        #expect(await eventually { cluster.snapshot().workers.count == 1 }, "the worker joined")
        #expect(attempts.value.load(ordering: .relaxed) < total, "it joined while the guessing went on")
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            guessers.notify(queue: .global()) { done.resume() }
        }
        #expect(cluster.snapshot().workers.count == 1, "no guess got in")
        coordinator.refusals.summarise(now: .now + .seconds(5))
        let lines = cluster.events(after: 0).filter {
            if case .remoteWorkerRefused = $0.kind { return true }
            if case .refusalsSummarised = $0.kind { return true }
            return false
        }
        // A first line and a summary every 5 s for each of the two addresses a guess can come
        // from (127.0.0.1, or none: it hung up before its call was read).
        let intervals = Int(RefusalGate.seconds(ContinuousClock.now - started) / 5) + 2
        #expect(lines.count <= 2 * intervals, "\(lines.map(\.message))")
        #expect(lines.count * 100 < total)
        let summed = lines.reduce(0) { sum, event in
            if case .refusalsSummarised(let count, _, _, _, _) = event.kind { return sum + count }
            return sum + 1
        }
        // Each guess the coordinator read is counted once (one that hung up before its headers
        // were read is no call at all).
        #expect(summed <= total && summed * 2 > total, "\(lines.map(\.message))")
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                cluster.shutdown(timeout: 2)
                done.resume()
            }.start()
        }
        #expect(await run.value == .released)
    }
}

/// A gRPC call made by hand over a plain TCP socket: the HTTP/2 preface, an empty SETTINGS and
/// one HEADERS frame (HPACK literals, no Huffman) for Coordinator.Work with a token. What a
/// guesser needs, and nothing a client library would add (reconnect back-off, pooling).
enum RawHTTP2 {
    /// Makes the call; true if anything came back before the connection closed or `patience`
    /// seconds passed.
    static func call(port: Int, token: String, patience: Double) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return false }
        var timeout = timeval(tv_sec: Int(patience), tv_usec: Int((patience - Double(Int(patience))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var headers: [UInt8] = []
        for (name, value) in [(":method", "POST"), (":scheme", "http"), (":path", "/clustertop.v1.Coordinator/Work"),
                              (":authority", "127.0.0.1"), ("content-type", "application/grpc"), ("te", "trailers"),
                              ("cluster-token", token)] {
            headers.append(0x00)  // literal header field without indexing, new name
            headers.append(UInt8(name.utf8.count)); headers += Array(name.utf8)
            headers.append(UInt8(value.utf8.count)); headers += Array(value.utf8)
        }
        var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]
        bytes += [UInt8(headers.count >> 16), UInt8(headers.count >> 8 & 0xff), UInt8(headers.count & 0xff), 0x01, 0x04, 0, 0, 0, 1]
        bytes += headers
        guard send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        return recv(fd, &buffer, buffer.count, 0) > 0
    }
}

/// A count shared by tasks.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
