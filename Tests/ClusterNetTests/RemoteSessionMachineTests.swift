@testable import ClusterEngine
@testable import ClusterNet
import ClusterProtocol
import GRPCCore
import Testing

/// The session's state machine alone: no engine, no network, no clock. The test plays the
/// engine's part by answering each question by hand, and walks one thread through every state.
@Suite("Remote session's state machine, with no engine")
struct RemoteSessionMachineTests {
    let start = ContinuousClock.now
    let handle = RemoteWorkerHandle(id: WorkerID(5), session: 1)

    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int(seconds * 1000)) }

    func machine() -> RemoteSession {
        RemoteSession(timing: RemoteTiming(lease: .seconds(1)), peer: "test", subBlock: 1 << 18, now: start)
    }

    /// Each action in a word or two, to compare whole sequences.
    static func said(_ actions: [SessionAction]) -> [String] {
        actions.map { action in
            switch action {
            case .send(let message):
                switch message.kind {
                case .welcome(let welcome): "send welcome \(welcome.workerIds)"
                case .assignments(let batch): "send assign \(batch.assigns.map(\.attempt))"
                case .check(let check): "send check \(check.attempt)"
                case .hold(let hold): "send hold \(hold.attempt)"
                case .proceed(let proceed): "send proceed \(proceed.attempt) to \(proceed.last)"
                case .abandon(let abandon): "send abandon \(abandon.attempt)"
                case .release(let release): "send release \(release.thread)"
                case .ping(let ping): "send ping \(ping.nonce)"
                default: "send other"
                }
            case .tell(let notice):
                switch notice {
                case .progress(_, let attempt, let done, _): "tell progress \(attempt.map { "\($0.rawValue)" } ?? "-") \(done)"
                case .discard(_, let attempt): "tell discard \(attempt.rawValue)"
                case .roundTrip: "tell round trip"
                case .lost(_, .disconnected): "tell disconnected"
                case .lost(_, .leaseExpired): "tell lease expired"
                case .heardFrom: "tell heard from"
                }
            case .ask(let question):
                switch question {
                case .join(let infos): "ask join \(infos.count)"
                case .status(let t, _): "ask status \(t)"
                case .step(let t, _, let finished, _): "ask step \(t) \(finished.map(\.attempt.rawValue))"
                case .checkIn(let t, _, let attempt, let position, _): "ask check-in \(t) \(attempt.rawValue) at \(position)"
                }
            }
        }
    }

    static let hello = RemoteSession.Input.message(.with { $0.hello = .with {
        $0.protocolVersion = WireProtocol.version; $0.host = "laptop"; $0.pid = 7; $0.threads = 1
    } })

    static func task(_ attempt: UInt64, _ elements: ClosedRange<Int64>) -> AttemptTask {
        AttemptTask(attempt: AttemptID(attempt), chunk: Int64(attempt), elements: elements, speed: 1)
    }

    static func status(_ state: WorkerState, current: UInt64?, queued: [UInt64] = []) -> RemoteWorkerStatus {
        RemoteWorkerStatus(state: state, current: current.map { AttemptID($0) }, queued: queued.map { AttemptID($0) }, leaseLost: false)
    }

    static func checkIn(_ attempt: UInt64, at position: Int64) -> RemoteSession.Input {
        .message(.with { $0.checkIn = .with { $0.thread = 0; $0.attempt = attempt; $0.position = position; $0.sum = .init(0) } })
    }

    static func result(_ attempt: UInt64) -> RemoteSession.Input {
        .message(.with { $0.results = .with { $0.results = [.with { $0.thread = 0; $0.attempt = attempt; $0.sum = .init(0) }] } })
    }

    @Test("idle, running, checking, parked and held, running again, lapsed, parked while lapsed, idle, released")
    func everyState() throws {
        var session = machine()
        var said = Self.said(try session.receive(Self.hello, now: at(0)))
        #expect(said == ["ask join 1"] && session.host == "laptop" && session.threads.isEmpty)

        said = Self.said(try session.receive(.answer(.joined(.success([handle]))), now: at(0)))
        #expect(said == ["send welcome [5]", "ask status 0", "send ping 1"])
        #expect(session.threads == [.idle])

        said = Self.said(try session.receive(.answer(.status(thread: 0, Self.status(.idle, current: nil))), now: at(0)))
        #expect(said == ["ask step 0 []"])
        let run = WorkerStep.run(Self.task(11, 1...100), then: [Self.task(12, 101...200), Self.task(13, 201...300)])
        said = Self.said(try session.receive(.answer(.stepped(thread: 0, run)), now: at(0)))
        #expect(said == ["send assign [11, 12, 13]"])
        let sent = [SentAttempt(id: AttemptID(11), elements: 1...100), SentAttempt(id: AttemptID(12), elements: 101...200),
                    SentAttempt(id: AttemptID(13), elements: 201...300)]
        #expect(session.threads == [.running(sent, checking: false)])

        // Paused, with attempt 13 taken back from its queue: a Check, once, and 13 abandoned.
        said = Self.said(try session.receive(.wake(thread: 0), now: at(0.1)))
        #expect(said == ["ask status 0"])
        said = Self.said(try session.receive(.answer(.status(thread: 0, Self.status(.pausing, current: 11, queued: [12]))), now: at(0.1)))
        #expect(said == ["send abandon 13", "send check 11"])
        #expect(session.threads == [.running(Array(sent.prefix(2)), checking: true)])
        _ = try session.receive(.wake(thread: 0), now: at(0.1))
        said = Self.said(try session.receive(.answer(.status(thread: 0, Self.status(.pausing, current: 11, queued: [12]))), now: at(0.1)))
        #expect(said.isEmpty, "a Check is on its way already")

        // It checks in half-way: parked; the engine says hold: held.
        said = Self.said(try session.receive(Self.checkIn(11, at: 51), now: at(0.2)))
        #expect(said == ["tell progress 11 50", "ask check-in 0 11 at 51"])
        said = Self.said(try session.receive(.answer(.checkedIn(thread: 0, .hold)), now: at(0.2)))
        #expect(said == ["send hold 11"])
        #expect(session.threads == [.parked(Array(sent.prefix(2)), position: 51, sum: 0, held: true, lapsed: false)])

        // Resumed, and a split moved its last element to 80: it proceeds and runs again.
        _ = try session.receive(.wake(thread: 0), now: at(0.3))
        said = Self.said(try session.receive(.answer(.status(thread: 0, Self.status(.running, current: 11, queued: [12]))), now: at(0.3)))
        #expect(said == ["ask check-in 0 11 at 51"])
        said = Self.said(try session.receive(.answer(.checkedIn(thread: 0, .proceed(last: 80, speed: 1))), now: at(0.3)))
        #expect(said == ["send proceed 11 to 80", "ask step 0 []"])
        #expect(session.threads == [.running([SentAttempt(id: AttemptID(11), elements: 1...80), sent[1]], checking: false)])
        #expect(Self.said(try session.receive(.answer(.stepped(thread: 0, .wait)), now: at(0.3))).isEmpty)

        // Silent past its lease (1 s), ticks coming every heartbeat: the engine hears it is
        // lost, once; the thread is left to finish.
        said = []
        // (The first tick, 0.4 s after the start, counts the time before it as the session's own stall.)
        for tick in 4...16 { said += Self.said(try session.receive(.tick, now: at(Double(tick) / 10))) }
        #expect(said.filter { $0 == "tell lease expired" }.count == 1 && said.last == "tell lease expired", "\(said)")
        #expect(session.threads == [.lapsed([SentAttempt(id: AttemptID(11), elements: 1...80), sent[1]])])

        // It speaks again, checking in on its lapsed attempt: parked, and the engine says it is
        // no longer its own: discarded, abandoned, and the next queued one is looked at.
        said = Self.said(try session.receive(Self.checkIn(11, at: 70), now: at(1.65)))
        #expect(said.prefix(3) == ["tell heard from", "tell progress 11 69", "ask check-in 0 11 at 70"], "\(said)")
        said = Self.said(try session.receive(.answer(.checkedIn(thread: 0, .abandon)), now: at(1.65)))
        #expect(said == ["tell discard 11", "send abandon 11", "ask status 0"])
        #expect(session.threads == [.running([sent[1]], checking: false)])
        // The engine took 12 back too, while it was lost: abandoned; the thread is idle.
        said = Self.said(try session.receive(.answer(.status(thread: 0, Self.status(.idle, current: nil))), now: at(1.65)))
        #expect(said == ["send abandon 12", "ask step 0 []"])
        #expect(session.threads == [.idle])

        // A late result of an attempt taken back is fenced off; then the engine releases it.
        said = Self.said(try session.receive(Self.result(12), now: at(1.7)))
        #expect(said == ["tell discard 12", "tell progress - 0"])
        said = Self.said(try session.receive(.answer(.stepped(thread: 0, .exit)), now: at(1.7)))
        #expect(said == ["send release 0"])
        #expect(session.threads == [.released] && session.isOver)
        #expect(session.disconnect().isEmpty, "a released thread holds nothing to give back")
    }

    @Test("a result for the attempt it runs is handed in with the engine's step; a connection that ends gives back what it held")
    func resultsAndDisconnect() throws {
        var session = machine()
        _ = try session.receive(Self.hello, now: at(0))
        _ = try session.receive(.answer(.joined(.success([handle]))), now: at(0))
        _ = try session.receive(.answer(.status(thread: 0, Self.status(.idle, current: nil))), now: at(0))
        _ = try session.receive(.answer(.stepped(thread: 0, .run(Self.task(21, 1...10), then: [Self.task(22, 11...20)]))), now: at(0))
        let said = Self.said(try session.receive(Self.result(21), now: at(0.1)))
        #expect(said == ["ask step 0 [21]"])
        #expect(session.threads == [.running([SentAttempt(id: AttemptID(22), elements: 11...20)], checking: false)])
        #expect(session.disconnect().count == 1)
        _ = try session.receive(.ended(nil), now: at(0.2))
        #expect(session.isOver)
    }

    @Test("a second Hello, work before Hello, and a coordinator that is full each end the session, as the errors they are")
    func refusals() throws {
        var session = machine()
        #expect(throws: RemoteSession.ProtocolViolation.self) { _ = try session.receive(Self.result(1), now: at(0)) }
        _ = try session.receive(Self.hello, now: at(0))
        #expect(throws: RemoteSession.ProtocolViolation.self) { _ = try session.receive(Self.hello, now: at(0)) }
        #expect(throws: RemoteSession.JoinRefused.self) { _ = try session.receive(.answer(.joined(.failure(.full))), now: at(0)) }
        var silent = machine()
        #expect(throws: RPCError.self) { _ = try silent.receive(.tick, now: at(6)) }  // no Hello within 5 s
    }

    @Test("the round trip alone: a Ping when due and not while one is on its way; each answer moves it an eighth")
    func roundTrip() {
        var estimator = RoundTripEstimator(interval: .milliseconds(500), giveUpAfter: .seconds(1))
        #expect(estimator.pingDue(at: at(0)) == 1)
        #expect(estimator.pingDue(at: at(0.6)) == nil, "one on its way")
        #expect(estimator.pong(1, at: at(0.8)) == .milliseconds(800))
        #expect(estimator.pong(1, at: at(0.9)) == nil, "answered already")
        #expect(estimator.pingDue(at: at(1.0)) == 2)
        #expect(estimator.pong(2, at: at(1.18)) == .microseconds(722_500))
        #expect(estimator.pingDue(at: at(1.2)) == nil, "not due for half a second")
        #expect(estimator.pingDue(at: at(1.5)) == 3)
        #expect(estimator.pingDue(at: at(2.6)) == 4, "one unanswered for the lease is given up")
        #expect(estimator.pong(3, at: at(2.7)) == nil, "the answer to a Ping given up counts for nothing")
    }

    @Test("the driver joins assignments sent in a row into one message")
    func assignmentsJoin() {
        var outgoing: [CoordinatorMessage] = []
        func assign(_ attempt: UInt64) -> CoordinatorMessage { .with { $0.assignments = .with { $0.assigns = [.with { $0.attempt = attempt }] } } }
        RemoteSessionDriver.append(assign(1), to: &outgoing)
        RemoteSessionDriver.append(assign(2), to: &outgoing)
        RemoteSessionDriver.append(.with { $0.ping = .with { $0.nonce = 1 } }, to: &outgoing)
        RemoteSessionDriver.append(assign(3), to: &outgoing)
        #expect(outgoing.count == 3)
        if case .assignments(let batch) = outgoing[0].kind { #expect(batch.assigns.map(\.attempt) == [1, 2]) } else { Issue.record("\(outgoing)") }
    }
}
