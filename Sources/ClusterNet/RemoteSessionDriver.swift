import ClusterEngine
import ClusterProtocol
import DequeModule
import GRPCCore
import Synchronization

/// Drives one `RemoteSession`: feeds it the network's messages, the real clock's ticks and the
/// engine's wake-ups, asks the engine what it asks and feeds the answers back, tells the engine
/// what it tells, and writes what it sends.
struct RemoteSessionDriver {
    let cluster: Cluster
    private(set) var session: RemoteSession
    let inputs: AsyncStream<RemoteSession.Input>
    let continuation: AsyncStream<RemoteSession.Input>.Continuation
    /// Where the engine's wake-ups for thread `t` go: by default, into `inputs`.
    let wake: @Sendable (Int) -> Void
    let wakeTarget: WakeTarget

    /// Messages a session may hold read but not yet handled; more wait in the network.
    static let messagesInFlight = 16
    /// How long a released session waits for the worker to end its side.
    static let releaseGrace = Duration.seconds(2)

    init(cluster: Cluster, timing: RemoteTiming, peer: String, address: String = "", encrypted: Bool = true,
         now: ContinuousClock.Instant = .now, wake: (@Sendable (Int) -> Void)? = nil) {
        self.cluster = cluster
        session = RemoteSession(timing: timing, peer: peer, address: address, encrypted: encrypted,
                                subBlock: cluster.configuration.remoteSubBlockSize, now: now)
        (inputs, continuation) = AsyncStream.makeStream(of: RemoteSession.Input.self)
        // The engine keeps a removed worker's row, and so its wake-up, for as long as the row
        // stays: it must not keep this session's inputs, and the messages unread in them, alive.
        let target = WakeTarget(continuation)
        wakeTarget = target
        self.wake = wake ?? { target.wake(thread: $0) }
    }

    /// Handles one input at `now`: the messages to send to the worker, in order, and whether the
    /// session is over. The engine's answers go back in at once, and what each makes the
    /// session do comes before the rest (as calls nested in the session's own would).
    mutating func handle(_ input: RemoteSession.Input, now: ContinuousClock.Instant) throws
        -> (messages: [CoordinatorMessage], done: Bool) {
        var outgoing: [CoordinatorMessage] = []
        var pending = Deque(try session.receive(input, now: now))
        while let action = pending.popFirst() {
            switch action {
            case .send(let message):
                Self.append(message, to: &outgoing)
            case .tell(let notice):
                tell(notice)
            case .ask(let question):
                let more = try session.receive(.answer(answer(question)), now: now)
                pending.insert(contentsOf: more, at: pending.startIndex)
            }
        }
        return (outgoing, session.isOver)
    }

    /// Adds `message` to what goes out; assignments right after assignments join them, so one
    /// message carries every attempt handed out in a row.
    static func append(_ message: CoordinatorMessage, to outgoing: inout [CoordinatorMessage]) {
        if case .assignments(let more) = message.kind, let last = outgoing.indices.last,
           case .assignments(var batch) = outgoing[last].kind {
            batch.assigns.append(contentsOf: more.assigns)
            outgoing[last].kind = .assignments(batch)
        } else {
            outgoing.append(message)
        }
    }

    func answer(_ question: EngineQuestion) -> EngineAnswer {
        switch question {
        case .join(let infos):
            return .joined(cluster.addRemoteWorkers(infos, onWake: wake))
        case .status(let t, let handle):
            return .status(thread: t, cluster.remoteStatus(handle))
        case .step(let t, let handle, let finished, let processed):
            return .stepped(thread: t, cluster.step(handle, finished: finished, processed: processed))
        case .checkIn(let t, let handle, let attempt, let position, let sum):
            return .checkedIn(thread: t, cluster.checkIn(handle, attempt: attempt, position: position, sum: sum))
        }
    }

    func tell(_ notice: EngineNotice) {
        switch notice {
        case .progress(let handle, let attempt, let done, let processed):
            cluster.remoteProgress(handle, attempt: attempt, done: done, processed: processed)
        case .discard(let handle, let attempt):
            cluster.remoteDiscardResult(handle, attempt: attempt)
        case .roundTrip(let handles, let seconds, let sample):
            cluster.remoteRoundTrip(handles, seconds: seconds, sample: sample)
        case .lost(let handle, let loss):
            cluster.remoteLost(handle, loss)
        case .heardFrom(let handle):
            _ = cluster.remoteHeardFrom(handle)
        }
    }

    /// The connection is over: whatever the threads held goes back to the queue now.
    func disconnectAll() {
        continuation.finish()
        wakeTarget.close()
        for notice in session.disconnect() { tell(notice) }
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
        let heartbeat = session.timing.heartbeat
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
                let (messages, done) = try handle(input, now: .now)
                if !messages.isEmpty { try await writer.write(contentsOf: messages) }
                if done {
                    if case .ended = input { return }
                    releasedAt = .now
                }
            }
        }
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
