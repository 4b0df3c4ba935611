import ClusterEngine
import ClusterProtocol
import GRPCCore

/// The coordinator's side of one worker process's connection, as a state machine. Its inputs
/// arrive one at a time, in order (the worker's messages, the engine's wake-ups for a thread, a
/// lease tick, the connection's end, the engine's answers), each with the time it happens; for
/// each it returns what to do: messages to send, notices for the engine, and questions the
/// driver asks the engine and answers at once. The engine decides everything (what to run,
/// pause, kill, split, fence); the session translates between it and the wire.
///
/// It does no I/O, reads no clock and calls no engine: `RemoteSessionDriver` does, and tests
/// feed it by hand.
struct RemoteSession {
    enum Input {
        case message(WorkerMessage)
        case wake(thread: Int)
        case tick
        case ended((any Error)?)
        /// The engine's answer to the question the session asked last.
        case answer(EngineAnswer)
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

    /// `lease` is set at Hello, by the worker's nice value (`RemoteTiming.lease(forNice:)`).
    var timing: RemoteTiming
    let peer: String
    /// The network address the peer connects from, which a host's limit counts.
    let address: String
    /// Whether the connection is TLS: over plain text a process's instance proves little.
    let encrypted: Bool
    /// Elements a remote thread sums between two looks at its inbox (the Welcome says it).
    let subBlock: Int64
    /// Each thread's row in the engine, as this session holds it, and what it is doing.
    var handles: [RemoteWorkerHandle] = []
    var threads: [RemoteThreadState] = []
    /// The host its Hello named, once it said Hello.
    var host: String?
    var lastHeard: ContinuousClock.Instant
    /// When the lease was last checked; ticks come every heartbeat.
    var lastTick: ContinuousClock.Instant
    let started: ContinuousClock.Instant
    var leaseExpired = false
    /// Between a Hello and the engine's answer to it.
    var joining = false
    var ended = false
    /// When the input being handled happened.
    var now: ContinuousClock.Instant
    var roundTrip: RoundTripEstimator
    /// What the input being handled makes the session do, in order.
    var actions: [SessionAction] = []

    /// A Ping goes out this often.
    static let pingInterval = Duration.milliseconds(500)

    init(timing: RemoteTiming, peer: String, address: String = "", encrypted: Bool = true, subBlock: Int64,
         now: ContinuousClock.Instant) {
        self.timing = timing
        self.peer = peer
        self.address = address
        self.encrypted = encrypted
        self.subBlock = subBlock
        started = now
        self.now = now
        lastHeard = now
        lastTick = now
        roundTrip = RoundTripEstimator(interval: Self.pingInterval, giveUpAfter: timing.lease)
    }

    /// Every thread released, or the connection over: the driver stops feeding it.
    var isOver: Bool { ended || (!threads.isEmpty && threads.allSatisfy(\.isReleased)) }

    /// Handles one input at `now`: what to do, in order. Throws when the worker broke the
    /// protocol, the coordinator cannot take it, or the connection failed.
    mutating func receive(_ input: Input, now: ContinuousClock.Instant) throws -> [SessionAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        self.now = now
        switch input {
        case .message(let message):
            lastHeard = now
            if leaseExpired {
                leaseExpired = false
                for handle in handles { tell(.heardFrom(handle)) }
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
            ended = true
        case .answer(let answer):
            try receive(answer)
        }
        return actions
    }

    /// The connection is over: what the threads still held goes back to the queue.
    func disconnect() -> [EngineNotice] {
        threads.indices.filter { !threads[$0].isReleased }.map { .lost(handles[$0], .disconnected) }
    }

    // MARK: Actions

    mutating func send(_ kind: CoordinatorMessage.OneOf_Kind) { actions.append(.send(.with { $0.kind = kind })) }
    mutating func tell(_ notice: EngineNotice) { actions.append(.tell(notice)) }
    mutating func ask(_ question: EngineQuestion) { actions.append(.ask(question)) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
