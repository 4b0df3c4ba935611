import ClusterEngine
@testable import ClusterNet
import ClusterProtocol
import GRPCCore
import Synchronization
import Testing

/// The coordinator's side of one worker process's connection, through its driver and a real
/// engine, by hand: no network, no real clock. Each input goes in with the time it happens;
/// what comes out is what the session would send to the worker.
@Suite("Remote session, by hand")
final class RemoteSessionTests {
    /// Wake-ups the engine sends a session's threads, kept until the test delivers them.
    final class Wakes: Sendable {
        private let pending = Mutex<[Int]>([])
        func append(_ thread: Int) { pending.withLock { $0.append(thread) } }
        func take() -> [Int] {
            pending.withLock { pending in
                let taken = pending
                pending.removeAll()
                return taken
            }
        }
    }

    let cluster: Cluster
    let wakes = Wakes()
    let start = ContinuousClock.now
    var session: RemoteSessionDriver

    init(lease: Duration = .seconds(1)) {
        var configuration = ClusterConfiguration()
        configuration.auditsAcceptedChunks = true
        cluster = Cluster(configuration: configuration)
        let wakes = wakes
        session = RemoteSessionDriver(cluster: cluster, timing: RemoteTiming(lease: lease), peer: "test", now: start,
                                wake: { wakes.append($0) })
    }

    /// Feeds `input` at `seconds` after the start, then every wake-up it caused; returns all
    /// that went out.
    func feed(_ input: RemoteSession.Input, at seconds: Double) throws -> [CoordinatorMessage] {
        let now = start + .milliseconds(Int(seconds * 1000))
        var sent = try session.handle(input, now: now).messages
        while case let woken = wakes.take(), !woken.isEmpty {
            for thread in woken { sent += try session.handle(.wake(thread: thread), now: now).messages }
        }
        return sent
    }

    /// Ticks every heartbeat (0.1 s) after `start` up to `end` seconds, as the session's timer
    /// sends them; returns what went out.
    func ticks(after start: Double, through end: Double) throws -> [CoordinatorMessage] {
        var sent: [CoordinatorMessage] = []
        var time = start + 0.1
        while time <= end + 1e-9 {
            sent += try feed(.tick, at: time)
            time += 0.1
        }
        return sent
    }

    static func hello(threads: UInt32 = 1, nice: Int32 = 0) -> RemoteSession.Input {
        .message(.with { $0.hello = .with {
            $0.protocolVersion = WireProtocol.version; $0.host = "laptop"; $0.pid = 7; $0.threads = threads; $0.nice = nice
        } })
    }

    static func result(of assign: Clustertop_V1_Assign) -> RemoteSession.Input {
        .message(.with {
            $0.results = .with {
                $0.results = [.with {
                    $0.thread = assign.thread
                    $0.attempt = assign.attempt
                    $0.sum = .init(SumOfSquaresKernel.sum(assign.first, assign.last))
                }]
            }
        })
    }

    /// What `pick` finds in each message, in order.
    static func collect<T>(_ messages: [CoordinatorMessage], _ pick: (CoordinatorMessage.OneOf_Kind?) -> [T]) -> [T] {
        messages.flatMap { pick($0.kind) }
    }

    /// The Welcome, which must be the first message sent; a test failure if it is not.
    static func welcome(_ messages: [CoordinatorMessage]) throws -> Clustertop_V1_Welcome {
        guard case .welcome(let welcome)? = messages.first?.kind else {
            Issue.record("no Welcome first: \(messages)")
            throw CancellationError()
        }
        return welcome
    }

    static func assigns(_ messages: [CoordinatorMessage]) -> [Clustertop_V1_Assign] {
        collect(messages) { kind in
            guard case .assignments(let batch)? = kind else { return [] }
            return batch.assigns
        }
    }

    static func abandons(_ messages: [CoordinatorMessage]) -> [UInt64] {
        collect(messages) { kind in
            guard case .abandon(let abandon)? = kind else { return [] }
            return [abandon.attempt]
        }
    }

    static func checks(_ messages: [CoordinatorMessage]) -> [UInt64] {
        collect(messages) { kind in
            guard case .check(let check)? = kind else { return [] }
            return [check.attempt]
        }
    }

    static func releases(_ messages: [CoordinatorMessage]) -> [UInt32] {
        collect(messages) { kind in
            guard case .release(let release)? = kind else { return [] }
            return [release.thread]
        }
    }

    static func isHold(_ message: CoordinatorMessage) -> Bool {
        if case .hold = message.kind { return true }
        return false
    }

    @Test("Hello is welcomed and answered with attempts queued ahead; with no Hello in time the session ends")
    func welcome() throws {
        _ = cluster.submit(try JobSpec(lo: 1, hi: 100_000_000, chunkSize: 1_000_000))
        let sent = try feed(Self.hello(threads: 2), at: 0)
        let welcome = try Self.welcome(sent)
        #expect(welcome.workerIds == [1, 2])
        #expect(welcome.leaseMillis == 1000 && welcome.heartbeatMillis == 100)
        let assigns = Self.assigns(sent)
        // 48 M elements' worth queued behind the running one, per thread.
        #expect(assigns.filter { $0.thread == 0 }.count == 49)
        #expect(assigns.filter { $0.thread == 1 }.count == 49)

        let silent = RemoteSessionTests()
        #expect(try silent.feed(.tick, at: 4.9).isEmpty)
        do {
            _ = try silent.feed(.tick, at: 5.1)
            Issue.record("a session with no Hello outlived its deadline")
        } catch let error as RPCError {
            #expect(error.code == .deadlineExceeded)
        }
    }

    @Test("a lease lapses by the clock, not before; the zombie's late result is fenced off and counted; heard from, it returns")
    func leaseExpiry() throws {
        let job = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000, chunkSize: 1_000_000))
        let running = try #require(Self.assigns(try feed(Self.hello(), at: 0)).first)
        #expect(Self.withoutPings(try ticks(after: 0, through: 0.9)).isEmpty)
        #expect(Self.withoutPings(try feed(.tick, at: 0.95)).isEmpty)
        #expect(cluster.snapshot().workers[0].state == .running, "within its lease")
        _ = try feed(.tick, at: 1.05)
        let row = cluster.snapshot().workers[0]
        #expect(row.state == .dead && row.leaseLost)
        #expect(cluster.events(after: 0).contains { $0.kind == .leaseExpired(WorkerID(1), chunk: running.chunk, silence: 1.05) })
        #expect(cluster.snapshot().job?.chunksRequeued == 1)

        // The late result arrives: the worker is back, its result is not added.
        let answer = try feed(Self.result(of: running), at: 1.2)
        #expect(cluster.snapshot().staleResults == 1)
        #expect(cluster.events(after: 0).contains { $0.kind == .remoteWorkerReturned(WorkerID(1)) })
        #expect(cluster.events(after: 0).contains {
            $0.kind == .staleResultDiscarded(chunk: running.chunk, attempt: AttemptID(running.attempt), worker: WorkerID(1))
        })
        // Back at work, on the chunk it lost among others, with its old queue dropped.
        var outstanding = Self.assigns(answer)
        #expect(outstanding.contains { $0.chunk == running.chunk })
        var time = 1.3
        while let next = outstanding.first, cluster.summary(of: job) == nil {
            outstanding.removeFirst()
            outstanding += Self.assigns(try feed(Self.result(of: next), at: time))
            time += 0.01
        }
        let summary = try #require(cluster.summary(of: job))
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<10))
    }

    @Test("a worker at nice 19 is granted 5.75 times the lease, told so in its Welcome, and loses it by that clock")
    func niceWorkerLease() throws {
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000, chunkSize: 1_000_000))
        let welcome = try Self.welcome(try feed(Self.hello(nice: 19), at: 0))
        #expect(welcome.leaseMillis == 5750 && welcome.heartbeatMillis == 100)
        _ = try ticks(after: 0, through: 5.7)
        #expect(cluster.snapshot().workers[0].state == .running, "silent 5.7 s: within its lease")
        _ = try feed(.tick, at: 5.8)
        #expect(cluster.snapshot().workers[0].leaseLost)
        #expect(RemoteTiming().lease(forNice: 0) == .seconds(1) && RemoteTiming().lease(forNice: -5) == .seconds(1))
        #expect(RemoteTiming().lease(forNice: 4) == .seconds(2))
    }

    @Test("a zombie that checks in with a Check still pending is told to drop its attempt, and its late work is counted")
    func zombieCheckIn() throws {
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000, chunkSize: 1_000_000))
        let running = try #require(Self.assigns(try feed(Self.hello(), at: 0)).first)
        // A control asks the thread where it is; the thread is frozen and never answers in time.
        #expect(cluster.setSpeed(WorkerID(1), to: 0.5))
        #expect(Self.checks(try feed(.tick, at: 0.1)) == [running.attempt])
        _ = try ticks(after: 0.1, through: 1.2)
        #expect(cluster.snapshot().workers[0].leaseLost)
        // Thawed, it answers the Check it had.
        let answer = try feed(.message(.with {
            $0.checkIn = .with {
                $0.thread = 0
                $0.attempt = running.attempt
                $0.position = running.first + 5
                $0.sum = .init(SumOfSquaresKernel.sum(running.first, running.first + 4))
            }
        }), at: 1.3)
        #expect(Self.abandons(answer).contains(running.attempt))
        #expect(cluster.snapshot().staleResults == 1)
        #expect(cluster.events(after: 0).contains {
            $0.kind == .staleResultDiscarded(chunk: running.chunk, attempt: AttemptID(running.attempt), worker: WorkerID(1))
        })
        #expect(cluster.snapshot().job?.elementsCompleted == 0, "none of it was added")
    }

    @Test("a coordinator starved past the lease does not blame the worker for its own stall")
    func coordinatorStall() throws {
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000, chunkSize: 1_000_000))
        _ = try feed(Self.hello(), at: 0)
        _ = try ticks(after: 0, through: 0.3)
        // The session's loop gets no CPU for 1.5 s: its next tick comes late, and so would the
        // heartbeats waiting unread.
        _ = try feed(.tick, at: 1.8)
        #expect(cluster.snapshot().workers[0].state == .running, "the stall is not the worker's silence")
        // Listening again: 0.4 s before the stall and 0.5 s after it are still within the lease;
        // silence past a full second of listening lapses it.
        _ = try ticks(after: 1.8, through: 2.3)
        #expect(cluster.snapshot().workers[0].state == .running)
        _ = try ticks(after: 2.3, through: 2.6)
        #expect(cluster.snapshot().workers[0].leaseLost)
    }

    @Test("pause gives queued attempts back only when the thread checks in, where it really stopped")
    func pauseAtCheckIn() throws {
        _ = cluster.submit(try JobSpec(lo: 1, hi: 100_000_000, chunkSize: 1_000_000))
        let assigns = Self.assigns(try feed(Self.hello(), at: 0))
        let running = try #require(assigns.first)
        let id = WorkerID(1)
        #expect(cluster.pause(id))
        let asked = try feed(.tick, at: 0.1)
        #expect(Self.checks(asked) == [running.attempt])
        #expect(Self.abandons(asked).isEmpty, "nothing is taken back before the thread says where it is")
        #expect(cluster.snapshot().workers[0].state == .pausing)
        #expect(cluster.remoteStatus(session.session.handles[0])?.queued.count == 48)

        let position = running.first + 10
        let answered = try feed(.message(.with {
            $0.checkIn = .with {
                $0.thread = 0
                $0.attempt = running.attempt
                $0.position = position
                $0.sum = .init(SumOfSquaresKernel.sum(running.first, position - 1))
            }
        }), at: 0.2)
        #expect(answered.contains(where: Self.isHold))
        #expect(Set(Self.abandons(answered)) == Set(assigns.dropFirst().map(\.attempt)), "the 48 queued attempts go back")
        let row = cluster.snapshot().workers[0]
        #expect(row.state == .paused)
        #expect(row.assignment?.attempt == AttemptID(running.attempt))
        #expect(row.assignment?.elementsDone == 10)
        #expect(cluster.snapshot().job?.chunksQueued == 99)
    }

    static func withoutPings(_ messages: [CoordinatorMessage]) -> [CoordinatorMessage] {
        messages.filter { if case .ping = $0.kind { false } else { true } }
    }

    static func pings(_ messages: [CoordinatorMessage]) -> [UInt64] {
        collect(messages) { if case .ping(let ping)? = $0 { [ping.nonce] } else { [] } }
    }

    static func pong(_ nonce: UInt64) -> RemoteSession.Input { .message(.with { $0.pong = .with { $0.nonce = nonce } }) }

    @Test("a Ping with the Welcome, then every half second, one at a time; each Pong's round trip is smoothed as TCP does")
    func roundTrip() throws {
        #expect(Self.pings(try ticks(after: 0, through: 1)).isEmpty, "no Ping before Hello")
        let welcome = try feed(Self.hello(threads: 2), at: 1.1)
        #expect(Self.pings(welcome) == [1], "the first goes out with the Welcome")
        #expect(Self.pings(try ticks(after: 1.1, through: 1.8)).isEmpty, "not while one is on its way")
        // The answer, 800 ms later; half a second has passed, so the next Ping goes out at once.
        #expect(Self.pings(try feed(Self.pong(1), at: 1.9)) == [2])
        #expect(session.session.roundTrip.smoothed == .milliseconds(800))
        _ = try feed(Self.pong(99), at: 2.05)
        #expect(session.session.roundTrip.smoothed == .milliseconds(800), "an answer to no Ping of ours changes nothing")
        _ = try feed(Self.pong(2), at: 2.08)
        #expect(session.session.roundTrip.smoothed == .microseconds(722_500), "800 ms moved an eighth of the way to 180 ms")

        // A Ping that gets no answer is given up after a lease, and the next one goes out.
        #expect(Self.pings(try ticks(after: 2.08, through: 2.58)) == [3])
        #expect(Self.pings(try ticks(after: 2.58, through: 3.4)).isEmpty)
        #expect(Self.pings(try feed(Self.pong(1), at: 3.55)) == [4])
    }

    @Test("at shutdown every thread is released and the session ends")
    func releaseAtShutdown() throws {
        _ = cluster.submit(try JobSpec(lo: 1, hi: 100_000_000, chunkSize: 1_000_000))
        _ = try feed(Self.hello(threads: 2), at: 0)
        #expect(cluster.shutdown(timeout: 1))
        let sent = try feed(.tick, at: 0.1)
        #expect(Self.releases(sent).sorted() == [0, 1])
        #expect(session.session.threads.allSatisfy { $0.isReleased })
    }
}
