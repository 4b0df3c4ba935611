import ClusterEngine
@testable import ClusterNet
import ClusterProtocol
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization
import ClusterTestSupport

/// A worker client written by hand, which says whatever a test tells it to: the hostile peer of
/// these tests (an impostor, a liar, a client that never sums). It says Hello, then on every tick
/// sends what `behaviour` returns for the attempts it has been given, until `stop()`.
final class RawPeer: Sendable {
    /// Every attempt assigned to it, in order.
    let assigned = Mutex<[Clustertop_V1_Assign]>([])
    /// Every message the coordinator sent it.
    let received = Mutex<[Clustertop_V1_CoordinatorMessage]>([])
    private let stopped = Atomic<Bool>(false)

    func stop() { stopped.store(true, ordering: .relaxed) }

    static func hello(host: String = "mallory", pid: Int32 = 666, instance: UInt64 = 0, threads: UInt32 = 1)
        -> Clustertop_V1_WorkerMessage {
        .with {
            $0.hello = .with {
                $0.protocolVersion = WireProtocol.version
                $0.host = host
                $0.pid = pid
                $0.instance = instance
                $0.threads = threads
            }
        }
    }

    static func result(thread: UInt32 = 0, attempt: UInt64, sum: UInt128) -> Clustertop_V1_Result {
        .with { $0.thread = thread; $0.attempt = attempt; $0.sum = .init(sum) }
    }

    static func heartbeat(thread: UInt32 = 0, attempt: UInt64, done: Int64) -> Clustertop_V1_WorkerMessage {
        .with { $0.heartbeat = .with { $0.threads = [.with { $0.thread = thread; $0.attempt = attempt; $0.done = done }] } }
    }

    /// Runs the session on `port` in plain text; returns the status code the call ended with (nil
    /// for OK). `behaviour` gets the attempts assigned so far and returns what to send now.
    func run(port: Int, token: String, hello: Clustertop_V1_WorkerMessage, every tick: Duration = .milliseconds(20),
             behaviour: @escaping @Sendable ([Clustertop_V1_Assign]) -> [Clustertop_V1_WorkerMessage]) async -> RPCError.Code? {
        await DedicatedExecutor("raw-peer").run { await self.session(port: port, token: token, hello: hello, every: tick, behaviour: behaviour) }
    }

    private func session(port: Int, token: String, hello: Clustertop_V1_WorkerMessage, every tick: Duration,
                         behaviour: @escaping @Sendable ([Clustertop_V1_Assign]) -> [Clustertop_V1_WorkerMessage]) async -> RPCError.Code? {
        do {
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port),
                                                           transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in
                var metadata = Metadata()
                metadata.addString(token, forKey: AccessToken.metadataKey)
                try await Clustertop_V1_Coordinator.Client(wrapping: client).work(metadata: metadata) { writer in
                    try await writer.write(hello)
                    while !self.stopped.load(ordering: .relaxed) {
                        for message in behaviour(self.assigned.withLock { $0 }) { try await writer.write(message) }
                        try await Task.sleep(for: tick)
                    }
                } onResponse: { response in
                    for try await message in response.messages {
                        self.received.withLock { $0.append(message) }
                        if case .assignments(let batch) = message.kind { self.assigned.withLock { $0 += batch.assigns } }
                    }
                }
            }
            return nil
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }
}
