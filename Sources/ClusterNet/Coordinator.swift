import ClusterEngine
import ClusterProtocol
import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The gRPC server side of `cluster-top serve`: accepts worker processes that present the token
/// and makes each of their threads a worker of `cluster`.
public final class Coordinator: Sendable {
    public let cluster: Cluster
    public let token: String
    public let timing: RemoteTiming
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let sessions = SessionCount()
    private let serving = DispatchGroup()
    private let executor = CoordinatorExecutor()
    /// Wrong tokens: slowed down per address, and summed up in the log.
    let refusals: RefusalGate
    /// Writes the refusals' summaries to the log every second.
    /// (A dispatch source is thread-safe; it is not marked Sendable.)
    nonisolated(unsafe) private let summaries: any DispatchSourceTimer

    /// Connections that have not opened a session yet, at most: more are closed at once.
    public static let silentConnectionLimit = 256
    let connectionGuard: ConnectionGuard
    /// Connections waiting for their first session now.
    public var silentConnections: Int { connectionGuard.waitingCount }
    /// The largest message a worker may send.
    public static let messageLimit = 1 << 20
    /// Estimated bytes of messages read from all sessions and not yet handled
    /// (`MessageLimits.estimatedBytes`); a reader past it waits.
    public static let messagesInFlightBytes = 32 << 20
    /// The budget of `messagesInFlightBytes`, shared by every session.
    let messageBudget = MessageBudget(limit: Coordinator.messagesInFlightBytes)

    /// With an `identity`, over TLS (the command line's default); without, in plain text. A
    /// connection that opens no session within `silentConnectionDeadline` is closed.
    public init(cluster: Cluster, listen: Endpoint, token: String, timing: RemoteTiming = RemoteTiming(),
                identity: ServerIdentity? = nil, silentConnectionDeadline: Duration = .seconds(10)) {
        self.cluster = cluster
        self.token = token
        self.timing = timing
        let address: GRPCNIOTransportCore.SocketAddress = listen.host.contains(":")
            ? .ipv6(host: listen.host, port: listen.port) : .ipv4(host: listen.host, port: listen.port)
        let refusals = RefusalGate(cluster: cluster)
        self.refusals = refusals
        // A failed join that never reached a token (a student without the join code) is logged,
        // then the laptops that failed the same way are counted.
        let guardian = ConnectionGuard(deadline: silentConnectionDeadline, limit: Self.silentConnectionLimit) { peer, failure in
            refusals.noted(address: CoordinatorService.address(peer), peer: CoordinatorService.displayPeer(peer), failure: failure)
        }
        connectionGuard = guardian
        let service = CoordinatorService(cluster: cluster, token: token, joinKey: JoinCode.key(for: token), timing: timing, sessions: sessions,
                                         refusals: refusals, connections: guardian, budget: messageBudget,
                                         encrypted: identity != nil)
        summaries = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "cluster-top.refusal-summaries"))
        summaries.schedule(deadline: .now() + 1, repeating: 1)
        summaries.setEventHandler { refusals.summarise() }
        // Active at once: libdispatch traps on releasing a source that never was.
        summaries.activate()
        let config = HTTP2ServerTransport.Posix.Config.defaults { config in
            // A connection that opens no session in time is closed (ConnectionGuard).
            config.channelDebuggingCallbacks.onAcceptTCPConnection = { guardian.accepted($0) }
            config.channelDebuggingCallbacks.onAcceptHTTP2Stream = { guardian.streamOpened($0) }
            // Workers send small messages (progress, a batch of results); a huge one is refused
            // instead of buffered.
            config.rpc.maxRequestPayloadSize = Self.messageLimit
            // A worker process opens one session per connection: a connection cannot multiply
            // its sessions, or its refusals, by opening streams side by side.
            config.http2.maxConcurrentStreams = 1
        }
        server = GRPCServer(transport: .http2NIOPosix(address: address, transportSecurity: identity?.transportSecurity ?? .plaintext,
                                                      config: config),
                            services: [service])
    }

    /// A reason the coordinator could not start listening.
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts listening and returns the address it got (the real port when asked for port 0).
    public func start() throws(StartError) -> Endpoint {
        let server = self.server
        let serveError = ErrorBox()
        serving.enter()
        Task.detached(executorPreference: executor) { [serving] in
            defer { serving.leave() }
            do { try await server.serve() } catch { serveError.store(error) }
        }
        let result = Mutex<Result<Endpoint, StartError>?>(nil)
        let bound = DispatchSemaphore(value: 0)
        Task.detached(executorPreference: executor) {
            let outcome: Result<Endpoint, StartError>
            do {
                let address = try await server.listeningAddress
                if let ipv4 = address?.ipv4 {
                    outcome = .success(Endpoint(host: ipv4.host, port: ipv4.port))
                } else if let ipv6 = address?.ipv6 {
                    outcome = .success(Endpoint(host: ipv6.host, port: ipv6.port))
                } else {
                    outcome = .failure(StartError(description: "the server reported no address"))
                }
            } catch {
                outcome = .failure(StartError(description: Self.reason(error)))
            }
            result.withLock { $0 = outcome }
            bound.signal()
        }
        bound.wait()
        if case .failure = result.withLock({ $0! }), serving.wait(timeout: .now() + 2) == .success,
           let cause = serveError.load() {
            // The transport's own error says why ("Address already in use").
            throw StartError(description: Self.reason(cause))
        }
        return try result.withLock { $0! }.get()
    }

    /// Worker processes connected now.
    public var connectedSessions: Int { sessions.value.load(ordering: .relaxed) }

    /// Call after `cluster.shutdown()`: every remote thread is then released. Waits up to
    /// `timeout` seconds for the sessions to say goodbye, then stops listening.
    public func stop(timeout: Double = 2) {
        let deadline = DispatchTime.now() + timeout
        while sessions.value.load(ordering: .relaxed) > 0, DispatchTime.now() < deadline {
            usleep(10_000)
        }
        server.beginGracefulShutdown()
        _ = serving.wait(timeout: deadline + 0.5)
        summaries.cancel()
    }

    /// The innermost cause of a transport error, which is the one that says what went wrong, in
    /// words: a system call's error is said as what it means for a listening address, never as
    /// NIO's "bind(descriptor:ptr:bytes:)".
    static func reason(_ error: any Error) -> String {
        var error = error
        while true {
            if let runtime = error as? RuntimeError, let cause = runtime.cause { error = cause; continue }
            if let rpc = error as? RPCError, let cause = rpc.cause { error = cause; continue }
            if let io = error as? IOError { return ListenProblem.words(errno: io.errnoCode) }
            return "\(error)"
        }
    }
}

/// The service: checks the token, then hands the stream to a `RemoteSession`.
struct CoordinatorService: Clustertop_V1_Coordinator.StreamingServiceProtocol {
    let cluster: Cluster
    let token: String
    /// What a worker joining with a join code presents instead of the token: made once, not
    /// an HMAC for every call a guesser makes.
    let joinKey: String
    let timing: RemoteTiming
    let sessions: SessionCount
    let refusals: RefusalGate
    let connections: ConnectionGuard
    let budget: MessageBudget
    /// TLS, or plain text (--insecure).
    let encrypted: Bool

    func work(request: StreamingServerRequest<WorkerMessage>,
              context: ServerContext) async throws -> StreamingServerResponse<CoordinatorMessage> {
        let peer = Self.displayPeer(context.remotePeer)
        guard let presented = request.metadata[stringValues: AccessToken.metadataKey].first(where: { _ in true }) else {
            try await refuse(context, reason: "no token", RPCError(code: .unauthenticated, message:
                "no token: give the worker --token TOKEN (or set \(AccessToken.environmentVariable)) with the token the coordinator printed"))
        }
        // The token, or the join key a join code carries (`JoinCode.key(for:)`).
        guard AccessToken.matches(presented, token) || AccessToken.matches(presented, joinKey) else {
            try await refuse(context, reason: "wrong token", RPCError(code: .permissionDenied, message:
                "wrong token: use the token the coordinator printed when it started"))
        }
        let (cluster, timing, sessions, budget) = (self.cluster, self.timing, self.sessions, self.budget)
        let (address, encrypted) = (Self.address(context.remotePeer), self.encrypted)
        return StreamingServerResponse { writer in
            sessions.value.add(1, ordering: .relaxed)
            defer { sessions.value.subtract(1, ordering: .relaxed) }
            var driver = RemoteSessionDriver(cluster: cluster, timing: timing, peer: peer, address: address, encrypted: encrypted)
            do {
                try await driver.run(messages: request.messages, writer: writer, budget: budget)
            } catch let refused as RemoteSession.JoinRefused {
                // Summed up in the log, and slowed down, as wrong tokens are.
                try await refuse(context, reason: refused.reason, refused.error)
            } catch let violation as RemoteSession.ProtocolViolation {
                // Named once, in the log: who it was and what it sent.
                cluster.logPeerDisconnected(peer: peer, host: driver.session.host, reason: violation.description)
                throw RPCError(code: .invalidArgument, message: violation.description)
            }
            return [:]
        }
    }

    /// Turns a call without the right token away: after its address's back-off (`RefusalGate`),
    /// with `error`, and its connection closed, so a guesser pays a new connection each time.
    private func refuse(_ context: ServerContext, reason: String, _ error: RPCError) async throws -> Never {
        let address = Self.address(context.remotePeer)
        switch refusals.refused(address: address, peer: Self.displayPeer(context.remotePeer), reason: reason) {
        case .answer(let wait):
            defer { refusals.answered(address: address) }
            if wait > .zero { try? await Task.sleep(for: wait) }
            // The status goes out first; then the connection closes.
            connections.close(peer: context.remotePeer, after: .milliseconds(200))
            throw error
        case .cutOff:
            connections.close(peer: context.remotePeer)
            throw RPCError(code: .resourceExhausted, message: "too many refused joins from \(address): wait, and use the right token")
        }
    }

    static let goneAddress = "peers that hung up first"

    /// "ipv4:10.0.0.5:51234" → "10.0.0.5:51234".
    static func displayPeer(_ peer: String) -> String {
        if peer == "<unknown>" { return "a peer that hung up first" }
        for prefix in ["ipv4:", "ipv6:", "unix:"] where peer.hasPrefix(prefix) { return String(peer.dropFirst(prefix.count)) }
        return peer
    }

    /// "ipv4:10.0.0.5:51234" → "10.0.0.5"; "ipv6:[::1]:51234" → "::1": the host a peer calls from.
    /// A peer that hung up before its call was read has no address any more; such calls share
    /// one name (they cost nothing to refuse: there is nobody left to answer).
    static func address(_ peer: String) -> String {
        if peer == "<unknown>" { return goneAddress }
        let shown = displayPeer(peer)
        if shown.hasPrefix("["), let close = shown.firstIndex(of: "]") {
            return String(shown[shown.index(after: shown.startIndex)..<close])
        }
        guard let colon = shown.lastIndex(of: ":") else { return shown }
        return String(shown[..<colon])
    }
}

/// Where the server and its sessions run: a queue of their own rather than the shared pool of
/// Swift concurrency, which a caller that blocks its threads (a test waiting for a job, `start()`
/// itself) could otherwise leave without a thread for the sessions that job needs. Child tasks
/// inherit the preference, so every connection and stream of the server runs here.
final class CoordinatorExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "cluster-top.coordinator")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Worker processes connected now.
final class SessionCount: Sendable {
    let value = Atomic<Int>(0)
}

/// The error that ended `serve()`, if any: it says why listening failed.
final class ErrorBox: Sendable {
    private let error = Mutex<(any Error)?>(nil)
    func store(_ error: any Error) { self.error.withLock { $0 = error } }
    func load() -> (any Error)? { error.withLock { $0 } }
}
