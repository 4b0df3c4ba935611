import Dispatch
import Foundation
import Synchronization
import Testing
import ClusterTestSupport
@testable import ClusterEngine

@Suite("Backup attempts: the choice")
struct BackupPolicyTests {
    let policy = BackupPolicy(watchNanos: 1_000_000_000)

    func candidate(_ index: Int = 0, elements: Int64 = 1000, done: Int64, seconds: Double) -> BackupPolicy.Candidate {
        BackupPolicy.Candidate(index: index, elements: elements, done: done, elapsedNanos: UInt64(seconds * 1e9))
    }

    @Test("nothing is judged before the watch time, however far behind")
    func judgedOnlyAfterWatching() {
        #expect(!policy.deservesBackup(candidate(done: 0, seconds: 0.99), thiefNanosPerElement: 1, onlyStalled: false))
        #expect(policy.deservesBackup(candidate(done: 0, seconds: 1), thiefNanosPerElement: 1, onlyStalled: false))
    }

    @Test("a stalled attempt is backed up under every schedule, even by a thief of unknown pace")
    func stalledAlways() {
        let stalled = candidate(done: 0, seconds: 3)
        #expect(policy.hasStalled(stalled))
        #expect(policy.deservesBackup(stalled, thiefNanosPerElement: 0, onlyStalled: true))
    }

    @Test("a slow attempt is backed up only if a copy would finish more than twice as soon, and never under static")
    func slowOnlyIfWorthIt() {
        // 100 of 1,000 done in 2 s: 18 s to go. A copy at 4 ms per element takes 4 s (4.5× sooner),
        // at 10 ms 10 s (1.8× sooner: not worth it).
        let slow = candidate(done: 100, seconds: 2)
        #expect(policy.remainingNanos(slow) == 18e9)
        #expect(policy.deservesBackup(slow, thiefNanosPerElement: 4e6, onlyStalled: false))
        #expect(!policy.deservesBackup(slow, thiefNanosPerElement: 10e6, onlyStalled: false))
        #expect(!policy.deservesBackup(slow, thiefNanosPerElement: 4e6, onlyStalled: true))
        #expect(!policy.deservesBackup(slow, thiefNanosPerElement: 0, onlyStalled: false), "a copy of unknown pace")
    }

    @Test("of those that deserve one, the attempt that would finish last gets the backup")
    func furthestBehindFirst() {
        let candidates = [candidate(0, done: 500, seconds: 2), candidate(1, done: 10, seconds: 2), candidate(2, done: 0, seconds: 1.5),
                          candidate(3, done: 0, seconds: 4)]
        #expect(policy.choose(among: candidates, thiefNanosPerElement: 1, onlyStalled: false)?.index == 3)
        #expect(policy.choose(among: Array(candidates.prefix(2)), thiefNanosPerElement: 1, onlyStalled: false)?.index == 1)
        // Under static only a crawler: 10 elements in 2 s is 200 million times slower than a
        // copy at 1 ns each, but not 100 times slower than one at 4 ms.
        #expect(policy.choose(among: Array(candidates.prefix(2)), thiefNanosPerElement: 1, onlyStalled: true)?.index == 1)
        #expect(policy.choose(among: Array(candidates.prefix(2)), thiefNanosPerElement: 4e6, onlyStalled: true) == nil)
    }
}

/// Holds the `call`-th kernel call that starts at chunk 0's first element until opened: the
/// first is the original attempt's first sub-block, the second its backup's, since the original,
/// held in its first, makes no other. So a test decides which of the two finishes first.
final class AttemptGate: Sendable {
    let call: Int
    private let gate = KernelGate()

    init(call: Int) { self.call = call }

    func sum(_ lo: Int64, _ hi: Int64) -> UInt128 { gate.kernel(lo, hi) }
    var held: Int { gate.held }
    func open() { gate.open() }
}

@Suite("Backup attempts in the engine")
struct BackupTests {
    static let chunk: Int64 = 1_000_000

    /// A cluster whose kernel holds what `gates` hold, judging attempts after a fifth of a second.
    func makeCluster(_ gates: [AttemptGate], watchSeconds: Double = 0.2) -> Cluster {
        var configuration = ClusterConfiguration()
        configuration.auditsAcceptedChunks = true
        configuration.subBlockSize = 1 << 12
        configuration.cpuTokens = .unbounded()
        configuration.localClaimAheadSeconds = 0
        configuration.backupWatchSeconds = watchSeconds
        configuration.backupCheckInterval = 0.02
        let calls = Atomic<Int>(0)
        configuration.kernel = { lo, hi in
            if lo == 1 {
                let call = calls.add(1, ordering: .relaxed).newValue
                for gate in gates where gate.call == call { return gate.sum(lo, hi) }
            }
            return SumOfSquaresKernel.standard(lo, hi)
        }
        return Cluster(configuration: configuration)
    }

    /// Worker 1 alone takes chunk 0 and is held in its first sub-block; then worker 2 joins,
    /// does chunk 1, and finds nothing else to take. Returns the job.
    func startWithWorker1Held(_ cluster: Cluster, _ gate: AttemptGate, schedule: SchedulePolicy = .dynamic) throws -> JobID {
        cluster.addWorker()
        let job = cluster.submit(try JobSpec(lo: 1, hi: 2 * Self.chunk, chunkSize: Self.chunk, schedule: schedule))
        #expect(eventually { gate.held == 1 })
        cluster.addWorker()
        return job
    }

    func kinds(_ cluster: Cluster) -> [ClusterEventKind] { cluster.events(after: 0).map(\.kind) }

    @Test("a stalled attempt gets a backup that wins; the staller sits the job out; every chunk counts once",
          arguments: [SchedulePolicy.dynamic, .stealing, .static])
    func stalledAttemptIsBackedUp(schedule: SchedulePolicy) throws {
        let held = AttemptGate(call: 1)
        let cluster = makeCluster([held])
        defer {
            held.open()
            cluster.shutdown()
        }
        let job = try startWithWorker1Held(cluster, held, schedule: schedule)
        let summary = try #require(cluster.waitForJob(job, timeout: 60))
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == [0, 1])
        #expect(summary.backupsStarted == 1 && summary.backupsWon == 1)
        #expect(summary.chunksRequeued == 0)
        let events = kinds(cluster)
        #expect(events.contains { if case .backupStarted(0, WorkerID(1), WorkerID(2), 0, Self.chunk, _) = $0 { true } else { false } })
        #expect(events.contains(.backupRaceWon(chunk: 0, winner: WorkerID(2), loser: WorkerID(1), byBackup: true)))
        #expect(events.contains { if case .workerBenched(WorkerID(1), job, .stalled(chunk: 0), _) = $0 { true } else { false } })
        // The timeline shows both: the backup on worker 2's lane, the fenced-off original on 1's.
        let whole = try #require(cluster.timeline().whole)
        #expect(whole.lanes.count == 2 && whole.lane(of: WorkerID(1))?.contains(.superseded) == true
                && whole.lane(of: WorkerID(2))?.contains(.backup) == true)
        let fenced = cluster.timeline().segments.filter { $0.outcome == .superseded }
        #expect(fenced.map(\.worker) == [WorkerID(1)] && fenced.map(\.chunk) == [0])

        // Released, worker 1's thread drops its attempt; its next job it takes work again. With
        // worker 2 removed it must do all of that job (or the job never ends), however fast
        // worker 2 would have been. (A paused worker 2 would keep its static slice.)
        held.open()
        #expect(cluster.remove(WorkerID(2)))
        #expect(eventually { cluster.snapshot().workers[1].state == .removed })
        let next = cluster.submit(try JobSpec(lo: 1, hi: 40 * Self.chunk, chunkSize: Self.chunk, schedule: schedule))
        let again = try #require(cluster.waitForJob(next, timeout: 60))
        #expect(again.verified && again.acceptedChunks?.count == 40)
        #expect(cluster.snapshot().workers[0].chunksDone == 40, "benched for one job only")
    }

    /// Worker 1's attempt of chunk 0 and worker 2's backup of it, both held at their gates, for
    /// `body` to decide the race; the gates are opened and the cluster shut down after.
    func withBothAttemptsHeld(_ body: (Cluster, JobID, _ original: AttemptGate, _ backup: AttemptGate) throws -> Void) throws {
        let original = AttemptGate(call: 1)
        let backup = AttemptGate(call: 2)
        let cluster = makeCluster([original, backup])
        defer {
            original.open()
            backup.open()
            cluster.shutdown()
        }
        let job = try startWithWorker1Held(cluster, original)
        try #require(eventually { backup.held == 1 }, "worker 2 started a backup of chunk 0")
        try body(cluster, job, original, backup)
    }

    @Test("the original finishing first fences its backup off; nobody is benched")
    func originalWins() throws {
        try withBothAttemptsHeld { cluster, job, original, _ in
            #expect(cluster.snapshot().workers[1].assignment?.origin == .backup(of: WorkerID(1)))
            // Both hold chunk 0: the job counts it once in flight.
            #expect(cluster.snapshot().job?.chunksInFlight == 1)
            original.open()
            let summary = try #require(cluster.waitForJob(job, timeout: 60))
            #expect(summary.verified && summary.acceptedChunks?.sorted() == [0, 1])
            #expect(summary.backupsStarted == 1 && summary.backupsWon == 0)
            let events = kinds(cluster)
            #expect(events.contains(.backupRaceWon(chunk: 0, winner: WorkerID(1), loser: WorkerID(2), byBackup: false)))
            #expect(!events.contains { if case .workerBenched = $0 { true } else { false } })
            #expect(cluster.timeline().segments.filter { $0.outcome == .superseded }.map(\.worker) == [WorkerID(2)])
        }
    }

    @Test("killing the original while its backup runs re-queues nothing: the backup carries on and counts")
    func killedOriginalLeavesTheBackup() throws {
        try withBothAttemptsHeld { cluster, job, _, backup in
            #expect(cluster.kill(WorkerID(1)))
            #expect(kinds(cluster).contains(.backupCarriesOn(chunk: 0, worker: WorkerID(2), lostBy: WorkerID(1))))
            #expect(kinds(cluster).contains(.workerKilled(WorkerID(1), chunk: nil)))
            backup.open()
            let summary = try #require(cluster.waitForJob(job, timeout: 60))
            #expect(summary.verified && summary.acceptedChunks?.sorted() == [0, 1])
            #expect(summary.chunksRequeued == 0)
            #expect(!kinds(cluster).contains { if case .backupRaceWon = $0 { true } else { false } })
        }
    }

    @Test("a paused attempt is the person's choice: it gets no backup, however long it waits")
    func pausedIsLeftAlone() throws {
        let held = AttemptGate(call: 1)
        // Nothing is backed up by itself here: the test asks the engine what it would do later.
        let cluster = makeCluster([held], watchSeconds: 1000)
        defer {
            held.open()
            cluster.shutdown()
        }
        let job = try startWithWorker1Held(cluster, held)
        #expect(eventually { cluster.snapshot().workers[1].chunksDone == 1 && cluster.snapshot().workers[1].state == .idle })
        let muchLater = MonotonicClock.nanoseconds() + 2000 * 1_000_000_000
        func wouldBackUp() -> Int? { cluster.withState { $0.backupChoice(for: 1, now: muchLater)?.index } }
        #expect(wouldBackUp() == 0, "running, worker 1's stalled attempt would get one")
        #expect(cluster.pause(WorkerID(1)))
        #expect(wouldBackUp() == nil, "pausing")
        held.open()
        #expect(eventually { cluster.snapshot().workers[0].state == .paused })
        #expect(wouldBackUp() == nil, "paused")
        #expect(cluster.resume(WorkerID(1)))
        #expect(try #require(cluster.waitForJob(job, timeout: 60)).verified)
        #expect(!kinds(cluster).contains { if case .backupStarted = $0 { true } else { false } })
    }
}
