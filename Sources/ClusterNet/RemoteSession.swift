import ClusterEngine
import ClusterProtocol
import GRPCCore
import Synchronization

/// How often a worker process must be heard from, and how long the coordinator waits.
public struct RemoteTiming: Sendable, Equatable {
    /// Workers send a heartbeat this often.
    public var heartbeat: Duration
    /// A worker silent for this long loses its chunks.
    public var lease: Duration
    /// A connection must say Hello within this time.
    public var helloTimeout: Duration = .seconds(5)

    public init(lease: Duration = .seconds(1)) {
        self.lease = lease
        // Ten heartbeats per lease: one late or lost heartbeat never costs a chunk.
        heartbeat = max(.milliseconds(20), lease / 10)
    }

    /// The lease of a worker process that runs at `nice`: longer the nicer it is, up to 5.75×
    /// at nice 19. Such a process yields the CPU to everything else on its machine on purpose,
    /// its heartbeats included, and it cannot take that back (raising a thread's priority needs
    /// privileges): measured with the cores kept busy, a nice-19 worker's messages arrived up to
    /// 1.9 s apart, against 0.1 s when it is not starved.
    public func lease(forNice nice: Int32) -> Duration {
        guard nice > 0 else { return lease }
        return lease * (1 + Double(min(nice, 19)) / 4)
    }
}

/// One worker process's connection, driven by one loop: its messages, wake-ups from the engine
/// for each of its threads, and a lease clock all arrive as inputs, in order, so no state here
/// needs a lock. The engine decides everything (what to run, pause, kill, split, fence); the
/// session only translates between the engine's calls and the wire.
///
/// It does no I/O and reads no clock: `receive(_:now:)` takes one input and the time, and returns
/// the messages to send. `run` is the driver that feeds it from the network and the real clock;
/// tests feed it by hand, with a manual clock.
struct RemoteSession {
    enum Input: Sendable {
        case message(WorkerMessage)
        case wake(thread: Int)
        case tick
        case ended((any Error)?)
    }

    /// What the coordinator knows about one remote thread.
    struct Thread {
        /// Its row in the engine, as this session holds it.
        let id: RemoteWorkerHandle
        /// The attempts sent to the thread, in the order it runs them: the first is the one it is
        /// working on, the rest wait in its queue.
        var attempts: [(id: AttemptID, elements: ClosedRange<Int64>)] = []
        /// A Check is on its way; don't send another.
        var checkSent = false
        /// The thread was told to hold (paused) and has not been told otherwise since.
        var held = false
        /// The thread stopped here and waits for Proceed or Abandon.
        var parked: (position: Int64, sum: UInt128)?
        /// It held an attempt when its lease expired: let it finish, so its late result is
        /// fenced off and counted rather than silently dropped.
        var zombie = false
        var released = false

        var running: AttemptID? { attempts.first?.id }

        /// The running attempt is over; the next queued one (if any) runs now.
        mutating func finishRunning() {
            if !attempts.isEmpty { attempts.removeFirst() }
            parked = nil
            checkSent = false
            held = false
            zombie = false
        }
    }

    /// A message the session cannot accept; the connection ends, its chunks are re-queued, and
    /// the log names the peer.
    struct ProtocolViolation: Error, CustomStringConvertible {
        let description: String
    }

    /// The coordinator cannot take the threads a Hello offers (`reason`, for the log); `error` is
    /// what the worker is told.
    struct JoinRefused: Error {
        let reason: String
        let error: RPCError
    }

    /// The connection failed under the session (a reset, a stream error): nobody's fault to log.
    struct ConnectionLost: Error, CustomStringConvertible {
        let description: String
    }

    /// Messages a session may hold read but not yet handled; more wait in the network.
    static let messagesInFlight = 16

    let cluster: Cluster
    /// `lease` is set at Hello, by the worker's nice value (`RemoteTiming.lease(forNice:)`).
    private(set) var timing: RemoteTiming
    let peer: String
    /// The network address the peer connects from, which a host's limit counts.
    let address: String
    /// Whether the connection is TLS: over plain text a process's instance proves little.
    let encrypted: Bool
    let inputs: AsyncStream<Input>
    let continuation: AsyncStream<Input>.Continuation
    /// Where the engine's wake-ups for thread `t` go: by default, into `inputs`.
    private let wake: @Sendable (Int) -> Void
    private let wakeTarget: WakeTarget
    private(set) var threads: [Thread] = []
    /// The host its Hello named, once it said Hello.
    private(set) var host: String?
    private var lastHeard: ContinuousClock.Instant
    /// When the lease was last checked; ticks come every heartbeat.
    private var lastTick: ContinuousClock.Instant
    private let started: ContinuousClock.Instant
    private var leaseExpired = false
    private var outgoing: [CoordinatorMessage] = []
    /// The Ping on its way, if any, and when it left.
    private var ping: (nonce: UInt64, sent: ContinuousClock.Instant)?
    private var lastPing: ContinuousClock.Instant?
    private var pings: UInt64 = 0
    /// The smoothed round trip (as TCP keeps it: each sample moves it an eighth of the way).
    private(set) var roundTrip: Duration?
    /// A Ping goes out this often.
    static let pingInterval = Duration.milliseconds(500)

    init(cluster: Cluster, timing: RemoteTiming, peer: String, address: String = "", encrypted: Bool = true,
         now: ContinuousClock.Instant = .now, wake: (@Sendable (Int) -> Void)? = nil) {
        self.cluster = cluster
        self.timing = timing
        self.peer = peer
        self.address = address
        self.encrypted = encrypted
        (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        // The engine keeps a removed worker's row, and so its wake-up, for as long as the row
        // stays: it must not keep this session's inputs, and the messages unread in them, alive.
        let target = WakeTarget(continuation)
        wakeTarget = target
        self.wake = wake ?? { target.wake(thread: $0) }
        started = now
        lastHeard = now
        lastTick = now
    }

    /// Runs the session until every thread is released or the connection ends. Throws why it
    /// ended badly, if it did; the server turns that into the RPC's status. Either way, what
    /// the threads held goes back to the queue.
    /// `budget`: the coordinator's, for messages read but not yet handled by any session; this
    /// session also holds at most `messagesInFlight` of them. A reader over either waits, and
    /// TCP's flow control holds its peer back.
    mutating func run(messages: RPCAsyncSequence<WorkerMessage, any Error>,
                      writer: RPCWriter<CoordinatorMessage>, budget: MessageBudget) async throws {
        let continuation = self.continuation
        let heartbeat = timing.heartbeat
        let intake = SessionIntake(shared: budget, own: MessageBudget(limit: Self.messagesInFlight))
        defer {
            disconnectAll()
            intake.giveAllBack()
        }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                do {
                    for try await message in messages {
                        guard await intake.admit(message) else { return }  // cancelled: the session is over
                        continuation.yield(.message(message))
                    }
                    continuation.yield(.ended(nil))
                } catch {
                    continuation.yield(.ended(error))
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: heartbeat)
                    continuation.yield(.tick)
                }
            }
            defer { group.cancelAll() }
            var releasedAt: ContinuousClock.Instant?
            for await input in inputs {
                if let releasedAt {
                    // Released: the worker ends its side once it has read the releases. Until
                    // then they may still be on the way (a lossy link retransmits them), and a
                    // coordinator that exits now would reset the connection and lose them.
                    if case .ended = input { return }
                    if ContinuousClock.now - releasedAt > Self.releaseGrace { return }
                    continue
                }
                if case .message(let message) = input { intake.handled(message) }
                let (messages, done) = try receive(input, now: .now)
                if !messages.isEmpty { try await writer.write(contentsOf: messages) }
                if done {
                    if case .ended = input { return }
                    releasedAt = .now
                }
            }
        }
    }

    /// How long a released session waits for the worker to end its side.
    static let releaseGrace = Duration.seconds(2)

    /// Handles one input at `now`: the messages to send to the worker, in order, and whether the
    /// session is over. Throws when the worker broke the protocol or the connection failed.
    mutating func receive(_ input: Input, now: ContinuousClock.Instant) throws -> (messages: [CoordinatorMessage], done: Bool) {
        defer { outgoing.removeAll(keepingCapacity: true) }
        let done = try handle(input, now: now)
        return (outgoing, done)
    }

    private mutating func handle(_ input: Input, now: ContinuousClock.Instant) throws -> Bool {
        switch input {
        case .message(let message):
            lastHeard = now
            if leaseExpired {
                leaseExpired = false
                for thread in threads { cluster.remoteHeardFrom(thread.id) }
            }
            try receive(message, now: now)
            // The first goes out with the Welcome: the sooner the round trip is known, the
            // sooner the queues cover it.
            sendPing(now: now)
        case .wake(let t):
            if threads.indices.contains(t) { service(t) }
        case .tick:
            try checkLease(now: now)
            sendPing(now: now)
        case .ended(let error):
            if let error, !(error is CancellationError) {
                throw ConnectionLost(description: "connection ended: \(error)")
            }
            return true
        }
        return !threads.isEmpty && threads.allSatisfy(\.released)
    }

    // MARK: Messages from the worker

    private mutating func receive(_ message: WorkerMessage, now: ContinuousClock.Instant) throws {
        if let excess = MessageLimits.excess(of: message, threads: threads.count) {
            throw ProtocolViolation(description: excess)
        }
        switch message.kind {
        case .hello(let hello):
            try join(hello)
        case .results(let batch):
            try receive(batch.results)
            try receive(batch.threads)
        case .checkIn(let checkIn):
            let t = try threadIndex(checkIn.thread)
            // A check-in for an attempt we already took back crossed our Abandon: ignore it.
            guard threads[t].running == AttemptID(checkIn.attempt) else { return }
            let elements = threads[t].attempts[0].elements
            guard elements.lowerBound...(elements.upperBound + 1) ~= checkIn.position else {
                throw ProtocolViolation(description: "check-in at \(checkIn.position), outside its attempt \(elements)")
            }
            threads[t].checkSent = false
            threads[t].parked = (checkIn.position, checkIn.sum.value)
            // Exact progress where it stopped, so a paused row shows where it holds.
            cluster.remoteProgress(threads[t].id, attempt: threads[t].running,
                                   done: checkIn.position - elements.lowerBound, processed: nil)
            answerCheckIn(t)
        case .heartbeat(let heartbeat):
            try receive(heartbeat.threads)
        case .pong(let pong):
            receivePong(pong.nonce, now: now)
        case nil:
            throw ProtocolViolation(description: "a message of a kind this coordinator does not know")
        }
    }

    // MARK: The round trip

    /// A Ping with the Welcome, then every `pingInterval`, and not while one is on its way (a
    /// lost one is given up after a lease, as a silent worker is).
    private mutating func sendPing(now: ContinuousClock.Instant) {
        guard !threads.isEmpty else { return }
        if let lastPing, now - lastPing < Self.pingInterval { return }
        if let ping, now - ping.sent < timing.lease { return }
        pings += 1
        ping = (pings, now)
        lastPing = now
        outgoing.append(.with { $0.ping = .with { $0.nonce = pings } })
    }

    /// The answer to our Ping: one sample of the round trip, which sizes the threads' queues.
    private mutating func receivePong(_ nonce: UInt64, now: ContinuousClock.Instant) {
        guard let ping, ping.nonce == nonce else { return }  // a late answer to a Ping given up
        self.ping = nil
        let sample = now - ping.sent
        let smoothed = roundTrip.map { $0 + (sample - $0) / 8 } ?? sample
        roundTrip = smoothed
        let (seconds, attoseconds) = smoothed.components
        cluster.remoteRoundTrip(threads.map(\.id), seconds: Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// Each thread's progress in the attempt it is on, if that is the one we think it runs.
    private func receive(_ progress: [Clustertop_V1_ThreadProgress]) throws {
        for progress in progress {
            let t = try threadIndex(progress.thread)
            let attempt = progress.attempt == 0 ? nil : AttemptID(progress.attempt)
            cluster.remoteProgress(threads[t].id, attempt: attempt == threads[t].running ? attempt : nil,
                                   done: progress.done, processed: progress.processed)
        }
    }

    /// Results, in the order each thread finished them: those for the attempt a thread runs
    /// are handed in together, one engine call per thread, which also tops its queue up.
    private mutating func receive(_ results: [Clustertop_V1_Result]) throws {
        var finished: [[(attempt: AttemptID, sum: UInt128)]] = Array(repeating: [], count: threads.count)
        var processed: [UInt64?] = Array(repeating: nil, count: threads.count)
        for result in results {
            let t = try threadIndex(result.thread)
            processed[t] = result.processed
            let attempt = AttemptID(result.attempt)
            guard threads[t].running == attempt else {
                // Sent before our Abandon reached it: fenced off and counted by the engine.
                cluster.remoteDiscardResult(threads[t].id, attempt: attempt)
                continue
            }
            threads[t].finishRunning()
            finished[t].append((attempt, result.sum.value))
        }
        for t in threads.indices {
            if !finished[t].isEmpty {
                apply(cluster.step(threads[t].id, finished: finished[t], processed: processed[t]), to: t)
            } else if let count = processed[t] {
                cluster.remoteProgress(threads[t].id, attempt: nil, done: 0, processed: count)
            }
        }
    }

    private mutating func join(_ hello: Clustertop_V1_Hello) throws {
        guard threads.isEmpty else { throw ProtocolViolation(description: "a second Hello") }
        guard hello.protocolVersion == WireProtocol.version else {
            throw RPCError(code: .failedPrecondition, message:
                "protocol version \(hello.protocolVersion) is not supported; this coordinator speaks version \(WireProtocol.version): use the same cluster-top release on both sides")
        }
        guard 1...WireProtocol.threadLimit ~= hello.threads else {
            throw RPCError(code: .invalidArgument, message: "a worker may offer 1 to \(WireProtocol.threadLimit) threads (got \(hello.threads))")
        }
        timing.lease = timing.lease(forNice: hello.nice)
        let host = WireProtocol.printableHostName(hello.host, fallback: peer)
        self.host = host
        // Only a name this program knows is shown: the field is the client's word.
        let kernel = KernelVariant(rawValue: hello.kernel)?.rawValue ?? ""
        let infos = (0..<Int(hello.threads)).map {
            RemoteWorkerInfo(host: host, pid: hello.pid, thread: $0, kernel: kernel, instance: hello.instance,
                             address: address, unencrypted: !encrypted)
        }
        switch cluster.addRemoteWorkers(infos, onWake: wake) {
        case .success(let handles):
            threads = handles.map { Thread(id: $0) }
        case .failure(.hostLimit(let address, let live, let limit)):
            throw JoinRefused(reason: "host limit of \(limit) threads", error: RPCError(code: .resourceExhausted, message:
                "\(address) already has \(live) worker threads here, and one host may have \(limit) at once "
                + "(serve --threads-per-host): offer fewer threads, or join from another machine"))
        case .failure(.full), .failure(.shuttingDown):
            throw JoinRefused(reason: "full", error: RPCError(code: .resourceExhausted, message:
                "the coordinator takes no more workers (it is full or shutting down)"))
        }
        outgoing.append(.with {
            $0.welcome = .with {
                $0.protocolVersion = WireProtocol.version
                $0.workerIds = threads.map { UInt32($0.id.id.rawValue) }
                $0.heartbeatMillis = UInt32(Self.milliseconds(timing.heartbeat))
                $0.leaseMillis = UInt32(Self.milliseconds(timing.lease))
                $0.subBlock = cluster.configuration.remoteSubBlockSize
            }
        })
        for t in threads.indices { service(t) }
    }

    private func threadIndex(_ thread: UInt32) throws -> Int {
        guard !threads.isEmpty else { throw ProtocolViolation(description: "work messages before Hello") }
        guard thread < threads.count else {
            throw ProtocolViolation(description: "thread \(thread) does not exist (the worker offered \(threads.count))")
        }
        return Int(thread)
    }

    // MARK: Driving a thread

    /// The engine changed something about thread `t`, or may have work for it.
    private mutating func service(_ t: Int) {
        guard !threads[t].released, let status = cluster.remoteStatus(threads[t].id) else { return }
        // Queued attempts the engine took back (pause, removal, an idle worker's need) are void.
        let kept = Set(status.queued)
        for queued in threads[t].attempts.dropFirst() where !kept.contains(queued.id) && status.current != queued.id {
            abandon(queued.id, on: t)
            threads[t].attempts.removeAll { $0.id == queued.id }
        }
        while let attempt = threads[t].running {
            if status.current == attempt {
                if threads[t].parked != nil {
                    answerCheckIn(t)
                    return
                }
                if !threads[t].checkSent {
                    threads[t].checkSent = true
                    send(.check(.with { $0.thread = UInt32(t); $0.attempt = attempt.rawValue }))
                }
                // Resumed or sped up: its queue may need topping up.
                if status.state == .running { apply(cluster.step(threads[t].id), to: t) }
                return
            }
            if threads[t].zombie, threads[t].parked == nil { return }
            // Killed, or lost and stopped: the attempt is void, and so is everything queued
            // behind it unless the engine made it current.
            abandon(attempt, on: t)
            threads[t].finishRunning()
        }
        apply(cluster.step(threads[t].id), to: t)
    }

    private mutating func abandon(_ attempt: AttemptID, on t: Int) {
        send(.abandon(.with { $0.thread = UInt32(t); $0.attempt = attempt.rawValue }))
    }

    /// Thread `t` is stopped at its parked position: ask the engine what it does now.
    private mutating func answerCheckIn(_ t: Int) {
        guard let attempt = threads[t].running, let (position, sum) = threads[t].parked else { return }
        let wasHeld = threads[t].held
        threads[t].held = false
        switch cluster.checkIn(threads[t].id, attempt: attempt, position: position, sum: sum) {
        case let .proceed(last, speed):
            threads[t].parked = nil
            threads[t].attempts[0].elements = threads[t].attempts[0].elements.lowerBound...last
            send(.proceed(.with {
                $0.thread = UInt32(t); $0.attempt = attempt.rawValue; $0.last = last; $0.speed = speed
            }))
            apply(cluster.step(threads[t].id), to: t)  // resumed: top its queue up again
        case .hold:
            if !wasHeld { send(.hold(.with { $0.thread = UInt32(t); $0.attempt = attempt.rawValue })) }
            threads[t].held = true
        case .abandon:
            // A zombie's check-in is late work of an attempt its lost lease fenced off: discarded
            // and counted, as its result would have been, and it stops wasting time on it.
            if threads[t].zombie { cluster.remoteDiscardResult(threads[t].id, attempt: attempt) }
            abandon(attempt, on: t)
            threads[t].finishRunning()
            service(t)
        }
    }

    private mutating func apply(_ step: WorkerStep, to t: Int) {
        switch step {
        case .run:
            for task in step.tasks {
                threads[t].attempts.append((task.attempt, task.elements))
                assign(.with {
                    $0.thread = UInt32(t)
                    $0.attempt = task.attempt.rawValue
                    $0.first = task.elements.lowerBound
                    $0.last = task.elements.upperBound
                    $0.speed = task.speed
                    $0.chunk = task.chunk
                })
            }
        case .wait:
            break
        case .exit:
            threads[t].released = true
            send(.release(.with { $0.thread = UInt32(t) }))
        }
    }

    private mutating func send(_ kind: CoordinatorMessage.OneOf_Kind) {
        outgoing.append(.with { $0.kind = kind })
    }

    /// Adds to the assignments at the end of what goes out, if that is where they are, so one
    /// message carries every attempt handed out in a row.
    private mutating func assign(_ attempt: Clustertop_V1_Assign) {
        if let last = outgoing.indices.last, case .assignments(var batch) = outgoing[last].kind {
            batch.assigns.append(attempt)
            outgoing[last].kind = .assignments(batch)
        } else {
            send(.assignments(.with { $0.assigns = [attempt] }))
        }
    }

    // MARK: Liveness

    private mutating func checkLease(now: ContinuousClock.Instant) throws {
        if threads.isEmpty {
            if now - started > timing.helloTimeout {
                throw RPCError(code: .deadlineExceeded, message: "no Hello within \(timing.helloTimeout)")
            }
            return
        }
        // A tick much later than a heartbeat after the last one means this session's own loop was
        // starved (a loaded coordinator): what the worker sent meanwhile may still be unread, so
        // that time is not the worker's silence. Only time spent listening counts.
        let stall = now - lastTick - timing.heartbeat
        lastTick = now
        if stall > timing.heartbeat { lastHeard = min(now, lastHeard + stall) }
        let silence = now - lastHeard
        guard !leaseExpired, silence > timing.lease else { return }
        leaseExpired = true
        for t in threads.indices where !threads[t].released {
            if threads[t].running != nil, threads[t].parked == nil { threads[t].zombie = true }
            threads[t].checkSent = false
            cluster.remoteLost(threads[t].id, .leaseExpired(silence: Double(Self.milliseconds(silence)) / 1000))
        }
    }

    /// The connection is over: whatever the threads held goes back to the queue now.
    private func disconnectAll() {
        continuation.finish()
        wakeTarget.close()
        for thread in threads where !thread.released { cluster.remoteLost(thread.id, .disconnected) }
    }

    // MARK: Helpers

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

}

/// Where the engine's wake-ups for a session's threads go, until the session is over: then
/// nowhere, and the session's inputs (with any messages left unread in them) can be freed.
final class WakeTarget: Sendable {
    private let continuation: Mutex<AsyncStream<RemoteSession.Input>.Continuation?>

    init(_ continuation: AsyncStream<RemoteSession.Input>.Continuation) {
        self.continuation = Mutex(continuation)
    }

    func wake(thread: Int) {
        _ = continuation.withLock { $0?.yield(.wake(thread: thread)) }
    }

    func close() {
        continuation.withLock { $0 = nil }
    }
}
