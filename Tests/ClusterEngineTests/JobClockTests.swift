import ClusterTestSupport
import Testing
@testable import ClusterEngine

/// When a job's time starts: a coordinator may submit its job before any laptop has joined.
@Suite("Job clock")
struct JobClockTests {
    @Test("a job submitted with no worker starts its clock when the first worker steps in, not while it waited")
    func clockStartsWithWork() throws {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        _ = cluster.submit(try JobSpec(lo: 1, hi: 1_000_000, chunkSize: 100_000))
        let waiting = try #require(cluster.snapshot().job)
        #expect(waiting.waitsForWorkers && waiting.elapsed == 0 && waiting.status == .running)
        let beforeJoin = cluster.snapshot().time
        cluster.addWorker()
        #expect(eventually { cluster.snapshot().job?.status == .verified })
        let finished = try #require(cluster.events(after: 0).compactMap { event -> Double? in
            if case .jobFinished = event.kind { event.seconds } else { nil }
        }.first)
        let summary = try #require(cluster.summary(of: JobID(1)))
        #expect(summary.elapsed <= finished - beforeJoin + 1e-9, "\(summary.elapsed) s against \(finished - beforeJoin) s since the join")
        #expect(cluster.snapshot().job?.waitsForWorkers == false)
    }
}
