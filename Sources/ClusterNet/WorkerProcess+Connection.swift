import ClusterEngine
import ClusterProtocol
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// One connection to the coordinator, from Hello to its end, and how its end reads.
extension WorkerProcess {
    enum SessionEnd {
        case released
        case refused(String)
        case cancelled
        case failed(String, joined: Bool)
    }

    /// One connection, from Hello to its end; given up if no Welcome came within `handshakeTimeout`.
    func connect(handshakeTimeout: Duration) async -> SessionEnd {
        let state = WorkerSessionState()
        let (messages, continuation) = AsyncStream.makeStream(of: WorkerMessage.self)
        outbox.attach(continuation)
        defer {
            outbox.finish()
            outbox.attach(nil)
        }
        let hello = WorkerMessage.with {
            $0.hello = .with {
                $0.protocolVersion = WireProtocol.version
                $0.host = options.name
                $0.pid = ProcessInfo.processInfo.processIdentifier
                $0.threads = UInt32(threads.count)
                $0.kernel = KernelVariant.active.rawValue
                $0.instance = instance
                $0.nice = Self.niceValue
            }
        }
        var metadata = Metadata()
        // An empty token sends none at all (the command line never allows that; tests do).
        if !options.token.isEmpty { metadata.addString(options.token, forKey: AccessToken.metadataKey) }
        var callOptions = CallOptions.defaults
        callOptions.waitForReady = false
        let rejected = RejectedCertificate()
        do {
            let transport = try Self.transport(to: options.coordinator, security: options.check.transportSecurity(host: options.coordinator.host, rejected: rejected))
            // A listener that accepts and then says nothing must not hold the worker for ever:
            // without a welcome in time, this attempt ends and the usual retries take over. The
            // session and its watchdog are child tasks, so they run where the caller runs (a
            // test runs a worker off Swift concurrency's shared pool, which tests may block).
            let (metadata, callOptions) = (metadata, callOptions)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await withGRPCClient(transport: transport) { client in
                        let coordinator = Clustertop_V1_Coordinator.Client(wrapping: client)
                        try await coordinator.work(metadata: metadata, options: callOptions) { writer in
                            try await writer.write(hello)
                            try await withThrowingTaskGroup(of: Void.self) { group in
                                group.addTask {
                                    for await message in messages { try await writer.write(message) }
                                }
                                group.addTask { try await self.sendHeartbeats(state) }
                                try await group.next()
                                group.cancelAll()
                            }
                        } onResponse: { response in
                            for try await message in response.messages {
                                self.dispatch(message, state: state)
                            }
                            self.outbox.finish()
                        }
                    }
                    return true  // the session is over
                }
                group.addTask {
                    try await Task.sleep(for: handshakeTimeout)
                    guard !state.joined else { return false }
                    state.timedOut.store(true, ordering: .relaxed)
                    return true  // no welcome in time: give the connection up
                }
                // The first child that ends the session ends the other.
                while let over = try await group.next() {
                    if over {
                        group.cancelAll()
                        break
                    }
                }
            }
            if state.timedOut.load(ordering: .relaxed), !Task.isCancelled {
                return .failed("no answer within \(Self.seconds(handshakeTimeout)) of connecting", joined: false)
            }
        } catch where state.timedOut.load(ordering: .relaxed) && !Task.isCancelled {
            return .failed("no answer within \(Self.seconds(handshakeTimeout)) of connecting", joined: false)
        } catch where state.silent.load(ordering: .relaxed) && !Task.isCancelled {
            return .failed(Self.silenceReason(state), joined: true)
        } catch is CancellationError {
            return .cancelled
        } catch let error as RPCError {
            if Task.isCancelled { return .cancelled }
            // Another server answered: not a failure to retry, a refusal to report.
            if let reason = rejected.reason.withLock({ $0 }) { return .refused(reason) }
            // Every thread released: the session is over, however the stream's end was reported.
            if state.allReleased { return .released }
            switch error.code {
            case .unauthenticated, .permissionDenied, .failedPrecondition, .invalidArgument, .resourceExhausted:
                return .refused(error.message)
            default:
                return .failed(Self.reason(error), joined: state.joined)
            }
        } catch {
            if Task.isCancelled { return .cancelled }
            if let reason = rejected.reason.withLock({ $0 }) { return .refused(reason) }
            if state.allReleased { return .released }
            return .failed(Self.reason(error), joined: state.joined)
        }
        if Task.isCancelled { return .cancelled }
        if state.silent.load(ordering: .relaxed) { return .failed(Self.silenceReason(state), joined: true) }
        return state.allReleased ? .released : .failed("the coordinator ended the session", joined: state.joined)
    }

    /// TLS may send a name (SNI) but never an address.
    static func transport(to endpoint: Endpoint, security: HTTP2ClientTransport.Posix.TransportSecurity) throws
        -> HTTP2ClientTransport.Posix {
        let host = endpoint.host, port = endpoint.port
        if endpoint.isAddress, !host.contains(":") {
            return try HTTP2ClientTransport.Posix(target: .ipv4(host: host, port: port), transportSecurity: security)
        }
        if host.contains(":") {
            return try HTTP2ClientTransport.Posix(target: .ipv6(host: host, port: port), transportSecurity: security)
        }
        return try HTTP2ClientTransport.Posix(target: .dns(host: host, port: port), transportSecurity: security)
    }


    static func reason(_ error: any Error) -> String {
        if let rpc = error as? RPCError {
            return rpc.message.isEmpty ? "\(rpc.code)" : rpc.message
        }
        return "\(error)"
    }

    private static func silenceReason(_ state: WorkerSessionState) -> String {
        "the coordinator said nothing for \(seconds(state.silenceLimit)) (stopped, hung, or cut off?)"
    }
}
