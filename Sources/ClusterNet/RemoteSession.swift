import ClusterEngine
import ClusterProtocol
import GRPCCore
import Synchronization


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
    var timing: RemoteTiming
    let peer: String
    /// The network address the peer connects from, which a host's limit counts.
    let address: String
    /// Whether the connection is TLS: over plain text a process's instance proves little.
    let encrypted: Bool
    let inputs: AsyncStream<Input>
    let continuation: AsyncStream<Input>.Continuation
    /// Where the engine's wake-ups for thread `t` go: by default, into `inputs`.
    let wake: @Sendable (Int) -> Void
    let wakeTarget: WakeTarget
    var threads: [Thread] = []
    /// The host its Hello named, once it said Hello.
    var host: String?
    var lastHeard: ContinuousClock.Instant
    /// When the lease was last checked; ticks come every heartbeat.
    var lastTick: ContinuousClock.Instant
    let started: ContinuousClock.Instant
    var leaseExpired = false
    var outgoing: [CoordinatorMessage] = []
    /// The Ping on its way, if any, and when it left.
    var ping: (nonce: UInt64, sent: ContinuousClock.Instant)?
    var lastPing: ContinuousClock.Instant?
    var pings: UInt64 = 0
    /// The smoothed round trip (as TCP keeps it: each sample moves it an eighth of the way).
    var roundTrip: Duration?
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

    /// Handles one input at `now`: the messages to send to the worker, in order, and whether the
    /// session is over. Throws when the worker broke the protocol or the connection failed.
    mutating func receive(_ input: Input, now: ContinuousClock.Instant) throws -> (messages: [CoordinatorMessage], done: Bool) {
        defer { outgoing.removeAll(keepingCapacity: true) }
        let done = try handle(input, now: now)
        return (outgoing, done)
    }

    mutating func handle(_ input: Input, now: ContinuousClock.Instant) throws -> Bool {
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
