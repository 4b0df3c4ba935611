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
            case .remoteWorkerRefused, .refusalsSummarised, .failedJoinsCounted: return true
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

extension RefusalGateTests {
    @Test("failed joins are counted across the room by cause: the first said at once, then how many laptops, never a line per retry")
    func failedJoinsCounted() {
        let cluster = Cluster()
        let gate = RefusalGate(cluster: cluster)
        // Three laptops without the join code, retrying; one in plain text.
        for retry in 0..<5 {
            for laptop in 1...3 {
                gate.noted(address: "10.0.0.\(laptop)", peer: "10.0.0.\(laptop):\(5000 + retry)", failure: .refusedCertificate,
                           now: start + .milliseconds(retry * 100))
            }
        }
        gate.noted(address: "10.0.0.9", peer: "10.0.0.9:7", failure: .plainText, now: start)
        #expect(refusedEvents(cluster) == [
            .remoteWorkerRefused(peer: "10.0.0.1:5000", reason: HandshakeWatcher.Failure.refusedCertificate.rawValue),
            .remoteWorkerRefused(peer: "10.0.0.9:7", reason: HandshakeWatcher.Failure.plainText.rawValue),
        ])
        gate.summarise(now: start + .seconds(4))
        #expect(refusedEvents(cluster).count == 2, "not before the interval")
        gate.summarise(now: start + .seconds(5))
        #expect(refusedEvents(cluster).last == .failedJoinsCounted(laptops: 3, cause: HandshakeWatcher.Failure.refusedCertificate.cause))
        #expect(refusedEvents(cluster).count == 3, "one laptop in plain text has been said already")
        #expect(cluster.events(after: 0).last?.message
                == "3 laptops tried to join without the join code (their workers refused this coordinator's certificate): join with the --join code (or the --fingerprint) serve shows")
        // The same laptops again: nothing new. A fourth: counted at the next interval.
        gate.noted(address: "10.0.0.2", peer: "10.0.0.2:6000", failure: .refusedCertificate, now: start + .seconds(6))
        gate.summarise(now: start + .seconds(11))
        #expect(refusedEvents(cluster).count == 3)
        gate.noted(address: "10.0.0.4", peer: "10.0.0.4:6000", failure: .refusedCertificate, now: start + .seconds(12))
        gate.summarise(now: start + .seconds(13))
        #expect(refusedEvents(cluster).last == .failedJoinsCounted(laptops: 4, cause: HandshakeWatcher.Failure.refusedCertificate.cause))
    }
}

@Suite("Refused joins on the wire", .serialized)
struct RefusalTests {
    static let token = "refusal-test-token-0123"

    @Test("a wrong token closes its connection")
    func wrongTokenCloses() async throws {
        let cluster = Cluster()
        let coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0), token: Self.token)
        let port = try coordinator.start().port
        defer {
            coordinator.stop()
            cluster.shutdown()
        }
        let codes = Mutex<[RPCError.Code]>([])
        let closed = await DedicatedExecutor().run { () async -> Bool in
            guard let transport = try? HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port),
                                                                   transportSecurity: .plaintext) else { return false }
            return (try? await withGRPCClient(transport: transport) { client in
                var metadata = Metadata()
                metadata.addString("not-the-token", forKey: AccessToken.metadataKey)
                do {
                    try await Clustertop_V1_Coordinator.Client(wrapping: client).work(metadata: metadata) { writer in
                        try await writer.write(RawPeer.hello())
                    } onResponse: { response in
                        for try await _ in response.messages {}
                    }
                } catch let error as RPCError {
                    codes.withLock { $0.append(error.code) }
                }
                // The client keeps its side open; the coordinator closes the connection.
                return await eventually { coordinator.connectionGuard.openCount == 0 }
            }) ?? false
        }
        #expect(codes.withLock { $0 } == [.permissionDenied], "refused as a wrong token")
        #expect(closed)
    }
}
