import BigInt
import Foundation
import Dispatch
import Synchronization
import Testing
@testable import ClusterEngine

/// Polls `condition` every millisecond for up to `seconds`; true once it holds.
func eventually(within seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = DispatchTime.now() + seconds
    while DispatchTime.now() < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// A kernel that holds every call while its gate is closed, so a test can act on a worker that is
/// certainly mid-chunk however fast or loaded the machine is (a throttle alone is a race).
final class KernelGate: Sendable {
    private let isOpen = Atomic<Bool>(false)
    private let calls = Atomic<Int>(0)

    var kernel: @Sendable (Int64, Int64) -> UInt128 {
        { [self] lo, hi in
            calls.add(1, ordering: .relaxed)
            while !isOpen.load(ordering: .acquiring) { usleep(200) }
            return SumOfSquaresKernel.sum(lo, hi)
        }
    }

    /// True once some worker is inside the kernel.
    func waitForEntry() -> Bool { eventually { calls.load(ordering: .relaxed) > 0 } }

    func open() { isOpen.store(true, ordering: .releasing) }
}

func makeCluster(workers: Int, subBlock: Int64 = 1 << 12, audit: Bool = true,
                 kernel: (@Sendable (Int64, Int64) -> UInt128)? = nil) -> Cluster {
    var configuration = ClusterConfiguration()
    configuration.subBlockSize = subBlock
    configuration.auditsAcceptedChunks = audit
    if let kernel { configuration.kernel = kernel }
    let cluster = Cluster(configuration: configuration)
    for _ in 0..<workers { cluster.addWorker() }
    return cluster
}

@Suite("Cluster engine")
struct ClusterTests {
    @Test("the seed's example runs on four workers and verifies")
    func seedExample() throws {
        let cluster = makeCluster(workers: 4)
        defer { cluster.shutdown() }
        let job = cluster.submit(try JobSpec(lo: 1, hi: 100, chunkSize: 7))
        let summary = try #require(cluster.waitForJob(job, timeout: 10))
        #expect(summary.total == 338_350)
        #expect(summary.closedForm == "338350")
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<15))
    }

    @Test("static and dynamic schedules both give the exact total", arguments: SchedulePolicy.allCases)
    func schedules(policy: SchedulePolicy) throws {
        let cluster = makeCluster(workers: 3)
        defer { cluster.shutdown() }
        let job = cluster.submit(try JobSpec(lo: -40_000, hi: 90_000, chunkSize: 1000, schedule: policy))
        let summary = try #require(cluster.waitForJob(job, timeout: 20))
        #expect(summary.verified)
        #expect(BigInt(summary.total) == ClosedForm.sumOfSquares(-40_000, 90_000))
    }

    @Test("jobs run one after another; one submitted mid-run is queued, then run")
    func jobQueue() throws {
        let cluster = makeCluster(workers: 2)
        defer { cluster.shutdown() }
        let first = cluster.submit(try JobSpec(lo: 1, hi: 300_000, chunkSize: 10_000))
        let second = cluster.submit(try JobSpec(lo: -10, hi: 10, chunkSize: 3))
        #expect(cluster.snapshot().queuedJobs <= 1)
        #expect(try #require(cluster.waitForJob(first, timeout: 20)).verified)
        let summary = try #require(cluster.waitForJob(second, timeout: 20))
        #expect(summary.total == 770)
        let events = cluster.events(after: 0).map(\.kind)
        #expect(events.contains(.jobFinished(second, verified: true, total: 770)))
    }

    @Test("a paused worker stops making progress and keeps its chunk; resume finishes the job")
    func pauseKeepsProgress() throws {
        // Half a millisecond per 256-element sub-block: the chunk lasts at least half a second.
        let cluster = makeCluster(workers: 1, subBlock: 256) { lo, hi in
            usleep(500)
            return SumOfSquaresKernel.sum(lo, hi)
        }
        defer { cluster.shutdown() }
        let worker = WorkerID(1)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 250_000, chunkSize: 250_000))
        #expect(eventually { (cluster.snapshot().workers[0].assignment?.elementsDone ?? 0) > 0 })
        #expect(cluster.pause(worker))
        usleep(20_000)  // let the last sub-block land
        let frozen = cluster.snapshot().workers[0]
        usleep(100_000)
        let later = cluster.snapshot().workers[0]
        #expect(later.state == .paused)
        #expect(later.assignment?.elementsDone == frozen.assignment?.elementsDone)
        #expect(later.assignment?.attempt == frozen.assignment?.attempt)
        #expect(cluster.resume(worker))
        #expect(try #require(cluster.waitForJob(job, timeout: 30)).verified)
    }

    @Test("kill re-queues the chunk at once and another worker redoes it")
    func killRedistributes() throws {
        let gate = KernelGate()
        let cluster = makeCluster(workers: 2, subBlock: 256, kernel: gate.kernel)
        defer { cluster.shutdown() }
        let (a, b) = (WorkerID(1), WorkerID(2))
        cluster.pause(b)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 400_000, chunkSize: 200_000))
        #expect(gate.waitForEntry())
        let lost = try #require(cluster.snapshot().workers[0].assignment?.chunk)
        #expect(cluster.kill(a))
        #expect(cluster.snapshot().workers[0].state == .dead)
        gate.open()
        #expect(cluster.resume(b))
        let summary = try #require(cluster.waitForJob(job, timeout: 30))
        #expect(summary.verified)
        #expect(summary.chunksRequeued == 1)
        #expect(summary.acceptedChunks?.sorted() == [0, 1])
        let events = cluster.events(after: 0).map(\.kind)
        #expect(events.contains(.workerKilled(a, chunk: lost)))
        #expect(events.contains(.chunkRedistributed(chunk: lost, from: a, to: b)))
        #expect(cluster.restart(a))
        #expect(cluster.snapshot().workers[0].state == .idle)
    }

    @Test("a result from a killed attempt is discarded and counted, never added")
    func staleResultIsFenced() throws {
        // A kernel that parks the first call until the test releases it.
        let gate = DispatchSemaphore(value: 0)
        let entered = DispatchSemaphore(value: 0)
        let calls = Atomic<Int>(0)
        let cluster = makeCluster(workers: 1, subBlock: 1 << 20) { lo, hi in
            if calls.wrappingAdd(1, ordering: .relaxed).oldValue == 0 {
                entered.signal()
                gate.wait()
            }
            return SumOfSquaresKernel.sum(lo, hi)
        }
        defer { cluster.shutdown() }
        let worker = WorkerID(1)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 1000, chunkSize: 1000))
        #expect(entered.wait(timeout: .now() + 10) == .success)
        #expect(cluster.kill(worker))
        #expect(cluster.restart(worker))
        gate.signal()  // the killed attempt now finishes its only sub-block and hands it in
        let summary = try #require(cluster.waitForJob(job, timeout: 10))
        #expect(summary.verified)
        #expect(summary.staleResults == 1)
        #expect(summary.acceptedChunks == [0])
        #expect(cluster.snapshot().staleResults == 1)
    }

    @Test("a faulty kernel is caught: the job finishes as a mismatch")
    func mismatchDetected() throws {
        let cluster = makeCluster(workers: 2, kernel: { lo, hi in SumOfSquaresKernel.sum(lo, hi) + (lo == 1 ? 1 : 0) })
        defer { cluster.shutdown() }
        let job = cluster.submit(try JobSpec(lo: 1, hi: 5000, chunkSize: 100))
        let summary = try #require(cluster.waitForJob(job, timeout: 10))
        #expect(!summary.verified)
        #expect(cluster.snapshot().job?.status == .mismatch)
    }

    @Test("remove lets a worker finish its chunk, then it leaves")
    func removeFinishesChunk() throws {
        let gate = KernelGate()
        let cluster = makeCluster(workers: 1, subBlock: 256, kernel: gate.kernel)
        defer { cluster.shutdown() }
        let worker = WorkerID(1)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 200_000, chunkSize: 100_000))
        #expect(gate.waitForEntry())
        #expect(cluster.remove(worker))
        #expect(cluster.snapshot().workers[0].isLeaving)
        gate.open()
        #expect(eventually { cluster.snapshot().workers[0].state == .removed })
        let snapshot = cluster.snapshot()
        #expect(snapshot.workers[0].chunksDone == 1)
        #expect(snapshot.job?.chunksDone == 1)
        #expect(cluster.addWorker() == WorkerID(2))
        #expect(try #require(cluster.waitForJob(job, timeout: 30)).verified)
    }

    @Test("throttling slows a worker by about its factor")
    func throttle() throws {
        let cluster = makeCluster(workers: 2, subBlock: 1 << 10, audit: false)
        defer { cluster.shutdown() }
        cluster.setSpeed(WorkerID(2), to: 0.1)
        _ = cluster.submit(try JobSpec(lo: 1, hi: 1 << 40, chunkSize: 1 << 16))
        usleep(400_000)
        let before = cluster.snapshot().workers.map(\.elementsProcessed)
        usleep(600_000)
        let after = cluster.snapshot().workers.map(\.elementsProcessed)
        let fast = Double(after[0] - before[0]), slow = Double(after[1] - before[1])
        #expect(slow > 0)
        #expect(slow < fast * 0.3, "throttled worker did \(slow) elements vs \(fast)")
    }

    @Test("snapshot reports chunk counts that add up")
    func snapshotCounts() throws {
        // Two milliseconds per sub-block: the job lasts over a second, so it is surely mid-run.
        let cluster = makeCluster(workers: 2, audit: false) { lo, hi in
            usleep(2000)
            return SumOfSquaresKernel.sum(lo, hi)
        }
        defer { cluster.shutdown() }
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000, chunkSize: 100_000))
        #expect(eventually { (cluster.snapshot().job?.chunksDone ?? 0) > 0 })
        let job = try #require(cluster.snapshot().job)
        #expect(job.chunksTotal == 100)
        #expect(job.chunksDone + job.chunksInFlight + job.chunksQueued == job.chunksTotal)
        #expect(job.progress > 0 && job.progress < 1)
        #expect(job.status == .running)
    }
}
