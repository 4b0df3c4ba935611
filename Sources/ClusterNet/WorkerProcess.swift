import ClusterEngine
import ClusterProtocol
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// What `cluster-top worker` was asked to do.
public struct WorkerOptions: Sendable {
    public var coordinator: Endpoint
    public var token: String
    public var threads: Int
    /// Give up after this many seconds without reaching the coordinator.
    public var retryFor: Double
    /// Print a line for every chunk, not only for control events.
    public var verbose: Bool
    /// The function that sums one sub-block, as in `ClusterConfiguration.kernel`.
    public var kernel: ChunkRunner.Kernel
    /// As in `ClusterConfiguration.cpuTokens`.
    public var cpuTokens: CPUTokens
    /// What the coordinator's dashboard calls this machine, and groups its threads under.
    public var name = WorkerName.automatic(hostName: ProcessInfo.processInfo.hostName,
                                           environment: ProcessInfo.processInfo.environment)
    /// Where to say whether the process has joined, for probes (`--status-file`); nil for nowhere.
    public var statusFile: String?
    /// How long a new connection may wait for the coordinator's welcome before it is given up
    /// (and tried again, within `retryFor`).
    public var handshakeTimeout = Duration.seconds(10)
    /// How it knows it reached the right coordinator, and whether the connection is encrypted.
    /// The command line's default is TLS with the fingerprint `serve` printed.
    public var check = ServerCheck.insecure

    public init(coordinator: Endpoint, token: String, threads: Int, retryFor: Double = 60, verbose: Bool = false,
                kernel: @escaping ChunkRunner.Kernel = SumOfSquaresKernel.standard, cpuTokens: CPUTokens = .shared) {
        self.coordinator = coordinator
        self.token = token
        self.threads = threads
        self.retryFor = retryFor
        self.verbose = verbose
        self.kernel = kernel
        self.cpuTokens = cpuTokens
    }
}

/// The worker process: joins a coordinator, runs its threads' attempts, reconnects with backoff
/// when the coordinator is not reachable (yet, or any more), and says what happens, one line per
/// event.
public final class WorkerProcess: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The coordinator released every thread: the job is over or the coordinator stopped.
        case released
        /// The coordinator turned this worker away; the message says why.
        case refused(String)
        /// It could not be reached for `retryFor` seconds (`seconds`, as measured).
        case unreachable(String, seconds: Double)
    }

    let options: WorkerOptions
    private let say: @Sendable (String) -> Void
    private let outbox = Outbox()
    private let threads: [RemoteThread]
    private let status: WorkerStatusFile?
    /// Sent in every Hello: the coordinator gives a process that reconnects its rows back.
    let instance = UInt64.random(in: 1...UInt64.max)

    /// This process's nice value (what `nice -n` set), sent in Hello for a longer lease. Read
    /// from the main thread: on Linux nice is per thread, and Dispatch moves its own threads'
    /// by their quality of service.
    static var niceValue: Int32 {
        errno = 0  // -1 is a valid answer: only errno tells a failure
        #if os(Linux)
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(getpid()))
        #else
        let value = getpriority(PRIO_PROCESS, 0)
        #endif
        return errno == 0 ? value : 0
    }

    public init(options: WorkerOptions, say: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.say = say
        let outbox = self.outbox
        let threads = (0..<options.threads).map { RemoteThread(index: $0, outbox: outbox, kernel: options.kernel, tokens: options.cpuTokens) }
        self.threads = threads
        status = options.statusFile.map { WorkerStatusFile(path: $0, coordinator: options.coordinator.description) }
        outbox.reportProgress { threads.map(\.progress) }
    }

    /// Runs until released, refused or out of retries; cancel the task to leave at once (the
    /// coordinator then re-queues whatever the threads held).
    public func run() async -> Outcome {
        for thread in threads { thread.start() }
        defer {
            for thread in threads { thread.post(.quit) }
            status?.remove()
        }
        var delay = 0.1
        // Since when the coordinator has been out of reach: from the first attempt, or from the
        // loss of a session that had joined. `retryFor` counts from there, and no attempt or
        // wait may run past it, however the transport fails (a listener that never answers
        // holds an attempt until its handshake times out).
        var failingSince = ContinuousClock.now
        say("connecting to \(options.coordinator) with \(threads.count) thread\(threads.count == 1 ? "" : "s"), "
            + "\(KernelVariant.active) kernel")
        while !Task.isCancelled {
            status?.update(.connecting)
            let deadline = failingSince + .seconds(options.retryFor)
            // At least a second for one attempt, so --retry-for 0 still tries once.
            let attemptTime = min(options.handshakeTimeout, max(.seconds(1), deadline - .now))
            let session = await connect(handshakeTimeout: attemptTime)
            for thread in threads { thread.post(.reset) }
            switch session {
            case .released:
                return .released
            case .refused(let reason):
                return .refused(reason)
            case .cancelled:
                return .released
            case .failed(var reason, let joined):
                // A plain-text hello to a TLS listener is closed before HTTP/2 starts. Retrying
                // cannot help, so when the listener proves to speak TLS the worker stops at once.
                if options.check == .insecure, reason.contains("connection preface") {
                    if await Self.speaksTLS(options.coordinator) {
                        return .refused("it serves TLS and this worker spoke plain text (--insecure): "
                            + "leave out --insecure and join with the --join code it shows (or its --fingerprint)")
                    }
                    reason += " Is the coordinator serving TLS? Unless it was started with --insecure, join with the --join code it shows (or its --fingerprint)"
                }
                if joined {
                    failingSince = .now
                    delay = 0.1
                    say("lost the connection to \(options.coordinator) (\(reason)); reconnecting")
                }
                let left = failingSince + .seconds(options.retryFor) - .now
                if left <= .zero {
                    return .unreachable(reason, seconds: Self.double(ContinuousClock.now - failingSince))
                }
                let wait = min(.seconds(delay), left)
                if !joined {
                    say("cannot reach \(options.coordinator) (\(reason)); retrying in \(Self.seconds(wait))")
                }
                status?.update(.connecting)
                try? await Task.sleep(for: wait)
                delay = min(delay * 2, 5)
            }
        }
        return .released
    }

    /// The blocking probe runs off Swift concurrency's threads, which must never wait on a socket.
    private static func speaksTLS(_ endpoint: Endpoint) async -> Bool {
        await withCheckedContinuation { done in
            DispatchQueue.global().async { done.resume(returning: TLSListenerProbe.speaksTLS(endpoint)) }
        }
    }

    private enum SessionEnd {
        case released
        case refused(String)
        case cancelled
        case failed(String, joined: Bool)
    }

    /// One connection, from Hello to its end; given up if no Welcome came within `handshakeTimeout`.
    private func connect(handshakeTimeout: Duration) async -> SessionEnd {
        let state = SessionState()
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

    private func sendHeartbeats(_ state: SessionState) async throws {
        var lastSummary = ContinuousClock.now
        var resultsAtSummary = outbox.results.load(ordering: .relaxed)
        var processedAtSummary = threads.reduce(UInt64(0)) { $0 + $1.processed.load(ordering: .relaxed) }
        while true {
            try await Task.sleep(for: state.heartbeat)
            guard state.joined else {
                status?.update(.connecting)
                continue
            }
            status?.update(.joined)
            // A stopped or hung coordinator (or a link cut for good) says nothing: give the
            // connection up and try again, within --retry-for, rather than wait for ever.
            if state.silence > state.silenceLimit {
                state.silent.store(true, ordering: .relaxed)
                throw CancellationError()
            }
            outbox.send(.with { $0.heartbeat = .with { $0.threads = threads.map(\.progress) } })
            // A summary every ten seconds instead of a line per chunk.
            let elapsed = ContinuousClock.now - lastSummary
            if !options.verbose, elapsed >= .seconds(10) {
                let results = outbox.results.load(ordering: .relaxed)
                let processed = threads.reduce(UInt64(0)) { $0 + $1.processed.load(ordering: .relaxed) }
                if results > resultsAtSummary {
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    let rate = Double(processed - processedAtSummary) / seconds
                    say("\(results - resultsAtSummary) chunks in the last \(Int(seconds.rounded())) s, "
                        + "\(Self.rate(rate)) elements/s (\(results) in all)")
                }
                lastSummary = .now
                resultsAtSummary = results
                processedAtSummary = processed
            }
        }
    }

    /// Routes one message from the coordinator to the thread it is for.
    private func dispatch(_ message: CoordinatorMessage, state: SessionState) {
        state.heard()
        func thread(_ index: UInt32) -> RemoteThread? {
            guard index < threads.count else {
                say("ignored a message for thread \(index), which does not exist")
                return nil
            }
            return threads[Int(index)]
        }
        switch message.kind {
        case .welcome(let welcome):
            state.welcome(welcome)
            status?.update(.joined)
            for thread in threads { thread.setSubBlock(welcome.subBlock) }
            let ids = welcome.workerIds.map(String.init).joined(separator: ", ")
            say("joined \(options.coordinator) as worker\(welcome.workerIds.count == 1 ? "" : "s") \(ids) "
                + "(heartbeat \(welcome.heartbeatMillis) ms, lease \(welcome.leaseMillis) ms)")
        case .assignments(let batch):
            for assign in batch.assigns {
                guard let target = thread(assign.thread) else { continue }
                target.post(.assign(attempt: assign.attempt, first: assign.first, last: assign.last, speed: assign.speed))
                if let line = state.assigned(assign, verbose: options.verbose) { say(line) }
            }
        case .check(let check):
            thread(check.thread)?.post(.check(attempt: check.attempt))
        case .proceed(let proceed):
            guard let target = thread(proceed.thread) else { return }
            target.post(.proceed(attempt: proceed.attempt, last: proceed.last, speed: proceed.speed))
            if let line = state.proceeded(proceed) { say(line) }
        case .hold(let hold):
            thread(hold.thread)?.post(.hold(attempt: hold.attempt))
            say("\(state.name(hold.thread)) paused (attempt \(hold.attempt) kept)")
            state.held(hold.thread)
        case .abandon(let abandon):
            guard let target = thread(abandon.thread) else { return }
            target.post(.abandon(attempt: abandon.attempt))
            // Queued attempts go back by the dozen on a pause; only the running one is news.
            if options.verbose || target.attempt.load(ordering: .relaxed) == abandon.attempt {
                say("\(state.name(abandon.thread)) dropped attempt \(abandon.attempt): the coordinator took it back")
            }
        case .ping(let ping):
            // At once: the coordinator sizes the threads' queues by this round trip.
            outbox.send(.with { $0.pong = .with { $0.nonce = ping.nonce } })
        case .release(let release):
            guard thread(release.thread) != nil else { return }
            say("\(state.name(release.thread)) released")
            if state.released(release.thread, of: threads.count) { outbox.finish() }
        case nil:
            say("ignored a message of a kind this worker does not know (is the coordinator newer?)")
        }
    }

    /// A client transport to `endpoint`. An address is dialled as one, not looked up as a name:
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

    private static func silenceReason(_ state: SessionState) -> String {
        "the coordinator said nothing for \(seconds(state.silenceLimit)) (stopped, hung, or cut off?)"
    }

    static func seconds(_ value: Duration) -> String { seconds(double(value)) }

    static func double(_ value: Duration) -> Double {
        Double(value.components.seconds) + Double(value.components.attoseconds) / 1e18
    }

    static func seconds(_ value: Double) -> String {
        value < 1 ? "\(Int((value * 1000).rounded())) ms" : String(format: "%.1f s", value)
    }

    static func rate(_ value: Double) -> String {
        switch value {
        case 1e9...: String(format: "%.2f G", value / 1e9)
        case 1e6...: String(format: "%.1f M", value / 1e6)
        default: String(format: "%.0f", value)
        }
    }
}

/// What one connection has learned, shared by its response handler and its heartbeat task.
private final class SessionState: Sendable {
    private struct Values {
        var workerIDs: [UInt32] = []
        var heartbeat: Duration = .milliseconds(100)
        var joined = false
        var released: Set<UInt32> = []
        var held: Set<UInt32> = []
        var speeds: [UInt32: Double] = [:]
        var lease: Duration = .seconds(1)
        var lastHeard = ContinuousClock.now
    }
    private let values = Mutex(Values())

    var joined: Bool { values.withLock { $0.joined } }
    /// Set when no welcome came in time: the session was cancelled for that, not by the user.
    let timedOut = Atomic<Bool>(false)
    /// Set when the coordinator fell silent after the welcome: the session was ended for that.
    let silent = Atomic<Bool>(false)

    /// A message came from the coordinator.
    func heard() { values.withLock { $0.lastHeard = .now } }

    /// How long the coordinator may say nothing before the connection is given up: it pings
    /// every half second, so five leases, and never under 3 s, is silence, not a busy moment.
    var silenceLimit: Duration { values.withLock { max(.seconds(3), $0.lease * 5) } }

    /// How long the coordinator has said nothing.
    var silence: Duration { values.withLock { ContinuousClock.now - $0.lastHeard } }
    var heartbeat: Duration { values.withLock { $0.heartbeat } }
    var allReleased: Bool { values.withLock { $0.joined && $0.released.count == $0.workerIDs.count } }

    func welcome(_ welcome: Clustertop_V1_Welcome) {
        values.withLock {
            $0.workerIDs = welcome.workerIds
            $0.heartbeat = .milliseconds(max(10, Int(welcome.heartbeatMillis)))
            $0.lease = .milliseconds(max(100, Int(welcome.leaseMillis)))
            $0.joined = true
        }
    }

    /// "worker 7" for thread 2, once the coordinator has numbered the threads.
    func name(_ thread: UInt32) -> String {
        values.withLock { v in
            Int(thread) < v.workerIDs.count ? "worker \(v.workerIDs[Int(thread)])" : "thread \(thread)"
        }
    }

    func held(_ thread: UInt32) { values.withLock { _ = $0.held.insert(thread) } }

    /// A line for a new chunk when verbose, or when its speed differs from the last one.
    func assigned(_ assign: Clustertop_V1_Assign, verbose: Bool) -> String? {
        let speedChanged = values.withLock { $0.speeds.updateValue(assign.speed, forKey: assign.thread) != assign.speed }
        let who = name(assign.thread)
        if verbose {
            return "\(who) chunk \(assign.chunk): \(assign.first)...\(assign.last) (attempt \(assign.attempt))"
        }
        return speedChanged && assign.speed < 1 ? "\(who) runs at \(Int((assign.speed * 100).rounded()))%" : nil
    }

    /// A line when a thread resumes after a hold, or its speed changed.
    func proceeded(_ proceed: Clustertop_V1_Proceed) -> String? {
        let (wasHeld, oldSpeed) = values.withLock { v in
            (v.held.remove(proceed.thread) != nil, v.speeds.updateValue(proceed.speed, forKey: proceed.thread))
        }
        let who = name(proceed.thread)
        if wasHeld { return "\(who) resumed" }
        if let oldSpeed, oldSpeed != proceed.speed { return "\(who) runs at \(Int((proceed.speed * 100).rounded()))%" }
        return nil
    }

    /// Records a release; true when it was the last thread.
    func released(_ thread: UInt32, of count: Int) -> Bool {
        values.withLock { v in
            v.released.insert(thread)
            return v.released.count == count
        }
    }
}
