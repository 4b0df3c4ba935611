import ClusterTestSupport
import Testing
@testable import ClusterEngine

/// Stragglers: who lags behind the running workers' median, with a gap so no one flaps.
@Suite("Straggler watch")
struct StragglerWatchTests {
    func workers(_ rates: [Double], judged: Set<Int> = []) -> [(id: WorkerID, judged: Bool, rate: Double)] {
        rates.enumerated().map { (WorkerID($0.offset + 1), judged.isEmpty || judged.contains($0.offset + 1), $0.element) }
    }

    @Test("under half the median starts to lag, once; back above 70% of it stops")
    func hysteresis() {
        var watch = StragglerWatch()
        var (started, median) = watch.update(workers([2e9, 2e9, 0.9e9]))
        #expect(started == [WorkerID(3)] && median == 2e9)
        // Still slow: lagging, not started again.
        (started, _) = watch.update(workers([2e9, 2e9, 1.2e9]))
        #expect(started.isEmpty && watch.lagging == [WorkerID(3)])
        // Between 50% and 70%: still lagging (no flapping at the line).
        (started, _) = watch.update(workers([2e9, 2e9, 1.3e9]))
        #expect(watch.lagging == [WorkerID(3)])
        // Above 70%: caught up.
        (started, _) = watch.update(workers([2e9, 2e9, 1.5e9]))
        #expect(watch.lagging.isEmpty && started.isEmpty)
    }

    @Test("only workers with a whole rate window count, and it takes two to have a median")
    func whoIsJudged() {
        var watch = StragglerWatch()
        // Worker 3 has just started: its low rate says nothing yet, and it is not in the median.
        var (started, median) = watch.update(workers([2e9, 1.8e9, 0.1e9], judged: [1, 2]))
        #expect(started.isEmpty && median == 1.9e9)
        (started, _) = watch.update(workers([0.1e9], judged: [1]))
        #expect(started.isEmpty && watch.lagging.isEmpty)
    }

    @Test("a worker throttled to 5% among full-speed ones is named in the log as lagging, and marked in the snapshot")
    func stragglerNamed() throws {
        let cluster = makeCluster(workers: 3)
        defer { cluster.shutdown() }
        #expect(cluster.setSpeed(WorkerID(3), to: 0.05))
        // A job no test outlives, so all three are running at every look.
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000_000_000, chunkSize: 1 << 20))
        let named = eventually(within: 60) {
            cluster.snapshot().workers.first { $0.id == WorkerID(3) }?.isLagging == true
                && cluster.events(after: 0).contains { if case .workerLagging(WorkerID(3), _, _) = $0.kind { true } else { false } }
        }
        #expect(named, "\(cluster.events(after: 0).map(\.kind))")
    }
}
