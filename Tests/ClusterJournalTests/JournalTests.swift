@testable import ClusterEngine
import ClusterJournal
import ClusterTestSupport
import Foundation
import GRDB
import Testing

/// The journal against a real in-process engine and a real SQLite file: what it stores, and what
/// a restart makes of it. Work is held at a gate, so every state is reached by fact, not by time.
@Suite("Journal")
struct JournalTests {
    static func temporary() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-journal-\(UUID().uuidString)").path
    }


    /// Every chunk's range as the journal's rows hold it, with the highest attempt id stored.
    static func rows(_ path: String) throws -> (spans: [Range<Int64>], lastAttempt: UInt64) {
        try DatabaseQueue(path: path).read { db in
            let spans = try Row.fetchAll(db, sql: "SELECT first_chunk, end_chunk FROM accepted ORDER BY first_chunk")
                .map { ($0[0] as Int64)..<($0[1] as Int64) }
            let last = try Int64.fetchOne(db, sql: "SELECT max(last_attempt) FROM accepted") ?? 0
            return (spans, UInt64(last))
        }
    }

    /// A cluster of two workers whose jobs a new journal at `path` keeps.
    static func journaledCluster(_ path: String, configuration: ClusterConfiguration = ClusterConfiguration()) throws -> (Journal, Cluster) {
        let journal = try Journal(path: path)
        let cluster = Cluster(configuration: configuration)
        journal.attach(to: cluster)
        for _ in 0..<2 { cluster.addWorker() }
        return (journal, cluster)
    }

    @Test("a finished job's journal holds every chunk once, in ranges, the exact total and who summed what")
    func finishedJob() throws {
        let path = Self.temporary()
        defer { Journal.removeFiles(at: path) }
        let (journal, cluster) = try Self.journaledCluster(path)
        let spec = try JobSpec(lo: -3_000_000, hi: 7_000_000, chunkSize: 9_999)
        let job = cluster.submit(spec)
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        journal.flush()
        _ = cluster.shutdown()
        journal.finish()
        #expect(summary.verified)
        let report = try JournalReport.read(path)
        let kept = try #require(report.jobs.first)
        #expect(kept.state == "verified" && kept.chunks == spec.chunkCount && kept.chunksAccepted == spec.chunkCount)
        #expect(kept.acceptedTotal == kept.closedForm && kept.acceptedTotal == String(summary.total))
        #expect(kept.elementsAccepted == spec.elementCount)
        // Disjoint and whole: the rows, in order, tile 0..<chunkCount.
        let rows = try Self.rows(path).spans
        #expect(rows.first?.lowerBound == 0 && rows.last?.upperBound == spec.chunkCount)
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(rows.count < Int(spec.chunkCount) / 4, "consecutive chunks share a row: \(rows.count) rows")
        #expect(kept.summedBy.reduce(0) { $0 + $1.chunks } == spec.chunkCount)
    }

    @Test("a restart resumes the job exactly: accepted chunks are never handed out again, ids start above every id handed out before, and a late result from before is fenced off as stale")
    func restartResumes() throws {
        let path = Self.temporary()
        defer { Journal.removeFiles(at: path) }
        let spec = try JobSpec(lo: 1, hi: 100_000_000, chunkSize: 1_000_000)
        // The first run: chunks 0...29 pass the gate, the rest are held; then the coordinator is gone.
        let gate = KernelGate { lo, _ in lo <= 30_000_000 }
        let first = gate.cluster()
        let journal = try Journal(path: path)
        journal.attach(to: first)
        first.addWorker()
        first.addWorker()
        first.submit(spec)
        #expect(gate.waitUntilHolding(2))
        #expect(eventually { first.snapshot().job?.chunksDone == 30 })
        journal.flush()
        let held = first.snapshot().workers.compactMap { $0.assignment?.attempt.rawValue }
        let lateAttempt = AttemptID(try #require(held.max()))
        // The coordinator goes: its threads stop at their next sub-block, so the held ones are
        // let go only once the shutdown has begun, and leave before they can finish a chunk.
        let opener = Thread {
            _ = eventually { first.withState { $0.isShuttingDown } }
            gate.open()
        }
        opener.start()
        _ = first.shutdown(timeout: 120)
        journal.finish()
        let before = try Self.rows(path)
        #expect(before.spans.reduce(0) { $0 + $1.count } == 30 && before.spans.first?.lowerBound == 0
                && zip(before.spans, before.spans.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(before.spans)")

        // The restart: the 30 chunks are kept, the job goes on from the other 70.
        let reopened = try Journal(path: path)
        let kept = try #require(reopened.unfinishedJobs.first)
        #expect(kept.id == JobID(1) && kept.accepted == [0..<30] && kept.acceptedChunks == 30)
        #expect(kept.acceptedSum == SumOfSquaresKernel.sum(1, 30_000_000))
        #expect(reopened.attemptFloor > before.lastAttempt && reopened.attemptFloor > lateAttempt.rawValue)
        // The restarted coordinator's worker is held at a gate of its own while a result of an
        // attempt handed out before the crash arrives late: fenced off, never added.
        let restartGate = KernelGate()
        var configuration = ClusterConfiguration()
        configuration.kernel = restartGate.kernel
        configuration.cpuTokens = .unbounded()
        configuration.localClaimAheadSeconds = 0
        configuration.auditsAcceptedChunks = true
        let second = Cluster(configuration: configuration)
        reopened.attach(to: second)
        second.resume(reopened.unfinishedJobs)
        second.addWorker()
        #expect(restartGate.waitUntilHolding(1))
        second.withState { s in
            s.complete(worker: 0, attempt: lateAttempt, sum: 12345, now: s.clock.now())
        }
        restartGate.open()
        let summary = try #require(second.waitForJob(JobID(1), timeout: 120))
        reopened.flush()
        _ = second.shutdown()
        reopened.finish()
        #expect(summary.verified && summary.staleResults == 1)
        #expect(summary.elementsBeforeRestart == 30_000_000)
        let accepted = try #require(summary.acceptedChunks)
        #expect(accepted.count == 70 && Set(accepted) == Set(30..<100), "only the other 70 were summed after the restart")
        let after = try Self.rows(path)
        #expect(after.spans.reduce(0) { $0 + $1.count } == 100)
        let report = try #require(try JournalReport.read(path).jobs.first)
        #expect(report.state == "verified")
        // Who summed what, per run of the coordinator: the 30 chunks before the crash, the 70 after.
        #expect(report.summedBy.filter { $0.run == 1 }.reduce(0) { $0 + $1.chunks } == 30)
        #expect(report.summedBy.filter { $0.run == 2 }.reduce(0) { $0 + $1.chunks } == 70)
        #expect(report.summedBy.filter { $0.run == 2 }.map(\.worker) == [1])
    }

    @Test("attempt ids never pass the ceiling the journal stored: the writer raises it ahead, and it survives the process")
    func attemptCeiling() throws {
        let path = Self.temporary()
        defer { Journal.removeFiles(at: path) }
        // One attempt per element (no runs), more than the first ceiling stored (one step above
        // 1): the job can only end if the ceiling was raised, and every id stays below the stored one.
        var oneChunkEach = ClusterConfiguration()
        oneChunkEach.localRunSeconds = 0
        let (journal, cluster) = try Self.journaledCluster(path, configuration: oneChunkEach)
        let spec = try JobSpec(lo: 1, hi: Int64(AttemptCeiling.step + AttemptCeiling.step / 4), chunkSize: 1)
        let summary = try #require(cluster.waitForJob(cluster.submit(spec), timeout: 300))
        #expect(summary.verified)
        let issued = cluster.withState { $0.nextAttempt }
        journal.flush()
        _ = cluster.shutdown()
        journal.finish()
        #expect(issued > AttemptCeiling.step + 1, "past the first ceiling")
        let reopened = try Journal(path: path)
        #expect(reopened.attemptFloor >= issued, "every id handed out is below the stored ceiling")
    }
}

@Suite("Lesson 6: the coordinator crashes")
struct CoordinatorCrashTests {
    /// Half the chunks pass the gate, the rest are held: the crash lands half-way on any machine.
    func halfWay(journaled: Bool) throws -> (summary: JobSummary, lost: Int64, accepted: [Int64]) {
        let spec = try JobSpec(lo: 1, hi: 40_000_000, chunkSize: 1_000_000)
        let gate = KernelGate { lo, _ in lo <= 20_000_000 }
        var configuration = ClusterConfiguration()
        configuration.kernel = gate.kernel
        configuration.auditsAcceptedChunks = true
        // As `KernelGate.cluster` sets them: held at the gate, a worker must hold back no result.
        configuration.cpuTokens = .unbounded()
        configuration.localClaimAheadSeconds = 0
        let cluster = Cluster(configuration: configuration)
        defer { _ = cluster.shutdown() }
        let lesson = TemporaryJournal()
        if journaled { try lesson.start(keeping: cluster) }
        cluster.addWorker()
        cluster.addWorker()
        let job = cluster.submit(spec)
        #expect(eventually { cluster.snapshot().job?.chunksDone == 20 })
        if journaled {
            // The journal has the 20 chunks: a fact its file shows.
            let path = try #require(lesson.path)
            #expect(eventually { (try? JournalReport.read(path))?.jobs.first?.chunksAccepted == 20 })
        }
        // The crash stops every thread at its next sub-block: the held ones go once it has begun,
        // and leave before they can finish a chunk (a chunk is 16 sub-blocks).
        let opener = Thread {
            _ = eventually { cluster.withState { $0.isShuttingDown } }
            gate.open()
        }
        opener.start()
        let lost = try #require(try journaled ? lesson.crash(cluster) : cluster.crashCoordinator { JournaledJob(id: $1, spec: $0) })
        #expect(cluster.snapshot().workers.filter { $0.state != .removed }.count == 2, "as many threads as before")
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        if journaled { lesson.stop(cluster) }
        return (summary, lost, try #require(summary.acceptedChunks))
    }

    @Test("without a journal, a crash half-way loses every accepted chunk: the job starts again from nothing and still ends verified")
    func withoutJournal() throws {
        let (summary, lost, accepted) = try halfWay(journaled: false)
        #expect(lost == 20_000_000 && summary.elementsLostToCrashes == 20_000_000 && summary.coordinatorCrashes == 1)
        // The audit of the rebuilt job: every chunk summed after the crash, the first half again.
        #expect(summary.verified && accepted.count == 40 && Set(accepted) == Set(0..<40))
    }

    @Test("with a journal, the engine rebuilt from the journal's file loses nothing it had stored: only the other half is summed after the crash")
    func withJournal() throws {
        let (summary, lost, accepted) = try halfWay(journaled: true)
        #expect(lost == 0 && summary.elementsLostToCrashes == 0 && summary.coordinatorCrashes == 1)
        // After the crash only the other half was summed: the journal's half never again.
        #expect(summary.verified && accepted.count == 20 && Set(accepted) == Set(20..<40), "\(accepted)")
    }
}
