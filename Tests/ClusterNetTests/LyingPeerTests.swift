import ClusterEngine
@testable import ClusterNet
import ClusterProtocol
import Foundation
import Synchronization
import Testing
import ClusterTestSupport

/// Token holders who lie: about their sums, about their progress, about who they are. None of
/// them may change a total or keep a job from ending.
@Suite("Lying peers", .serialized)
struct LyingPeerTests {
    static let token = "lying-peer-token-0123"

    /// A coordinator in plain text on a free loopback port, auditing every accepted chunk.
    static func coordinator(lease: Duration = .seconds(30)) throws -> (Cluster, Coordinator, Int) {
        var configuration = ClusterConfiguration()
        configuration.auditsAcceptedChunks = true
        let cluster = Cluster(configuration: configuration)
        // A long lease: a liar keeps it however loaded the machine; only the checks can help.
        let coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0), token: token,
                                      timing: RemoteTiming(lease: lease))
        return (cluster, coordinator, try coordinator.start().port)
    }

    /// Waits for `job` on a thread of its own, leaving the pool to the sessions.
    static func waitForJob(_ cluster: Cluster, _ job: JobID) async -> JobSummary? {
        await withCheckedContinuation { (done: CheckedContinuation<JobSummary?, Never>) in
            Thread { done.resume(returning: cluster.waitForJob(job, timeout: 600)) }.start()
        }
    }

    @Test("two forged sums that cancel (+X on one chunk, -X on the next): the first is refused at its chunk, the liar named and benched, the job ends verified")
    func forgedSumsThatCancel() async throws {
        let (cluster, coordinator, port) = try Self.coordinator()
        defer {
            coordinator.stop()
            cluster.shutdown()
        }
        let job = cluster.submit(try JobSpec(lo: 1, hi: 40_000_000, chunkSize: 4_000_000))
        let liar = RawPeer()
        let sent = Atomic<Bool>(false)
        let session = Task {
            await liar.run(port: port, token: Self.token, hello: RawPeer.hello()) { assigned in
                // Its first two attempts, handed in together, each off by X in opposite directions.
                guard assigned.count >= 2, !sent.exchange(true, ordering: .relaxed) else { return [] }
                let x: UInt128 = 1_000_000_007
                let results = assigned.prefix(2).enumerated().map { n, a in
                    let truth = ClosedForm.sumOfSquares128(a.first, a.last)
                    return RawPeer.result(attempt: a.attempt, sum: n == 0 ? truth + x : truth - x)
                }
                return [.with { $0.results = .with { $0.results = results } }]
            }
        }
        // Deadlines for a hang only: beside the suite's heaviest tests the session waited over a
        // minute for a thread of the pool.
        #expect(await eventually(within: 600) { cluster.snapshot().job?.wrongSums ?? 0 > 0 || cluster.summary(of: job) != nil })
        let liarID = WorkerID(1)
        let first = try #require(liar.assigned.withLock { $0.first })
        #expect(cluster.events(after: 0).map(\.kind).contains(
            .wrongSumRefused(liarID, host: "mallory", chunk: first.chunk, job: job)))
        #expect(cluster.events(after: 0).contains {
            $0.message == "worker 1 on mallory sent a wrong sum for chunk \(first.chunk): refused, the chunk is redone elsewhere, and worker 1 gets no more work in job 1"
        })
        #expect(cluster.snapshot().workers[0].benched == .wrongSum(chunk: first.chunk))

        let honest = try #require(cluster.addWorker())
        let summary = try #require(await Self.waitForJob(cluster, job))
        #expect(summary.verified, "neither forgery was added")
        #expect(summary.wrongSums == 1, "the second forgery came for an attempt already taken back: stale")
        #expect(summary.staleResults >= 1)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<10))
        #expect(cluster.snapshot().workers[honest.rawValue - 1].chunksDone == 10, "the honest worker did every chunk")
        liar.stop()
        _ = await session.value
    }

    @Test("an impostor that copies an honest worker's host and pid cannot hold a job: the honest process backs up its stalled attempts",
          arguments: [SchedulePolicy.dynamic, .stealing, .static])
    func impostor(schedule: SchedulePolicy) async throws {
        let (cluster, coordinator, port) = try Self.coordinator()
        defer {
            coordinator.stop()
            cluster.shutdown()
        }
        // The impostor reads "bob-laptop" and the pid off the dashboard; the instance it cannot
        // know. It holds whatever it is given, heartbeats that it has done nothing, never sums.
        let impostor = RawPeer()
        let impostorHello = RawPeer.hello(host: "bob-laptop", pid: getpid(), instance: 42)
        let impostorSession = Task {
            await impostor.run(port: port, token: Self.token, hello: impostorHello, every: .milliseconds(100)) { assigned in
                [RawPeer.heartbeat(attempt: assigned.first?.attempt ?? 0, done: 0)]
            }
        }
        defer { impostor.stop() }
        try #require(await eventually(within: 600) { cluster.snapshot().workers.count == 1 })
        // The honest process, named as the impostor copied it, in this process (so the same pid).
        var options = WorkerOptions(coordinator: Endpoint(host: "127.0.0.1", port: port), token: Self.token, threads: 1)
        options.name = "bob-laptop"
        let honest = WorkerProcess(options: options, say: { _ in })
        let honestRun = DedicatedExecutor("honest").start { await honest.run() }
        try #require(await eventually(within: 600) { cluster.snapshot().workers.count == 2 })
        let rows = cluster.snapshot().workers
        #expect(rows.allSatisfy { $0.remote?.host == "bob-laptop" && $0.remote?.pid == getpid() }, "indistinguishable on screen")

        let job = cluster.submit(try JobSpec(lo: 1, hi: 40_000_000, chunkSize: 4_000_000, schedule: schedule))
        let summary = try #require(await Self.waitForJob(cluster, job), "\(schedule): the job stalled")
        #expect(summary.verified && summary.acceptedChunks?.sorted() == Array(0..<10))
        #expect(summary.backupsWon >= 1)
        #expect(cluster.events(after: 0).contains { if case .workerBenched(WorkerID(1), job, .stalled, _) = $0.kind { true } else { false } })
        impostor.stop()
        _ = await impostorSession.value
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                cluster.shutdown(timeout: 2)
                done.resume()
            }.start()
        }
        #expect(await honestRun.value == .released)
    }

    @Test("under static, a client that reports fake progress (1,000 elements a second) is backed up and benched; the job ends verified")
    func fakeProgressUnderStatic() async throws {
        let (cluster, coordinator, port) = try Self.coordinator()
        defer {
            coordinator.stop()
            cluster.shutdown()
        }
        let liar = RawPeer()
        let started = ContinuousClock.now
        let session = Task {
            await liar.run(port: port, token: Self.token, hello: RawPeer.hello(), every: .milliseconds(100)) { assigned in
                let seconds = Double((ContinuousClock.now - started).components.seconds)
                    + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
                return [RawPeer.heartbeat(attempt: assigned.first?.attempt ?? 0, done: Int64(seconds * 1_000))]
            }
        }
        defer { liar.stop() }
        try #require(await eventually(within: 600) { cluster.snapshot().workers.count == 1 })
        let honest = try #require(cluster.addWorker())
        let job = cluster.submit(try JobSpec(lo: 1, hi: 40_000_000, chunkSize: 4_000_000, schedule: .static))
        let summary = try #require(await Self.waitForJob(cluster, job), "the job stalled")
        #expect(summary.verified && summary.acceptedChunks?.sorted() == Array(0..<10))
        #expect(summary.backupsWon >= 1)
        #expect(cluster.events(after: 0).contains { if case .workerBenched(WorkerID(1), job, .crawled, _) = $0.kind { true } else { false } })
        #expect(cluster.snapshot().workers[honest.rawValue - 1].chunksDone == 10)
        liar.stop()
        _ = await session.value
    }
}

