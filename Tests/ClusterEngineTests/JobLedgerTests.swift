import BigInt
import Testing
@testable import ClusterEngine

/// Jobs and the accounting of their results, without workers or threads.
@Suite("Job ledger")
struct JobLedgerTests {
    @Test("jobs run one at a time, in the order submitted")
    func order() throws {
        var ledger = JobLedger(audits: true)
        let first = ledger.submit(try JobSpec(lo: 1, hi: 10, chunkSize: 5))
        let second = ledger.submit(try JobSpec(lo: 1, hi: 4, chunkSize: 2))
        #expect(ledger.current == nil, "a job runs only once started")
        let started = ledger.startNext(owners: [WorkerID(1)], now: 100)
        #expect(started?.id == first)
        let another = ledger.startNext(owners: [WorkerID(1)], now: 200)
        #expect(another == nil, "one job at a time")
        #expect(ledger.queued.map(\.id) == [second])
        #expect(ledger.current?.status == .running && ledger.current?.startNanos == 100)
        #expect(ledger.current?.pool != nil)
    }

    @Test("accepted sums add up to a verified total; the job ends on its last chunk")
    func acceptsAndVerifies() throws {
        var ledger = JobLedger(audits: true)
        let id = ledger.submit(try JobSpec(lo: 1, hi: 10, chunkSize: 5))
        _ = ledger.startNext(owners: [], now: 0)
        let firstDone = ledger.accept(chunk: 1, elements: 5, sum: SumOfSquaresKernel.sum(6, 10)).jobDone
        #expect(!firstDone)
        let lastDone = ledger.accept(chunk: 0, elements: 5, sum: SumOfSquaresKernel.sum(1, 5)).jobDone
        #expect(lastDone)
        let finished = ledger.finishCurrent(now: 2_000_000_000)
        let summary = try #require(finished)
        #expect(summary.id == id && summary.verified && summary.total == 385 && summary.closedForm == "385")
        #expect(summary.elapsed == 2)
        #expect(summary.acceptedChunks == [1, 0])
        #expect(ledger.current == nil && ledger.lastFinished?.status == .verified)
        #expect(ledger.summaries[id] == summary)
    }

    @Test("a wrong sum is a mismatch, and so is one that overflowed")
    func mismatch() throws {
        var ledger = JobLedger(audits: false)
        _ = ledger.submit(try JobSpec(lo: 1, hi: 2, chunkSize: 1))
        _ = ledger.startNext(owners: [], now: 0)
        _ = ledger.accept(chunk: 0, elements: 1, sum: UInt128.max).jobDone
        let jobDone = ledger.accept(chunk: 1, elements: 1, sum: 5).jobDone
        #expect(jobDone)
        let mismatched = ledger.finishCurrent(now: 1)
        #expect(mismatched?.verified == false)
        #expect(ledger.lastFinished?.overflowed == true)
    }

    @Test("a split chunk counts once, when its last piece is in")
    func splitChunk() throws {
        var ledger = JobLedger(audits: true)
        _ = ledger.submit(try JobSpec(lo: 1, hi: 20, chunkSize: 10))
        _ = ledger.startNext(owners: [], now: 0)
        ledger.update { $0.splitRemaining[0] = 10 }
        let firstPiece = ledger.accept(chunk: 0, elements: 4, sum: SumOfSquaresKernel.sum(1, 4))
        #expect(!firstPiece.jobDone && firstPiece.completed == nil, "a chunk with a piece out is not complete")
        #expect(ledger.current?.chunksDone == 0)
        let lastPiece = ledger.accept(chunk: 0, elements: 6, sum: SumOfSquaresKernel.sum(5, 10))
        #expect(!lastPiece.jobDone)
        // The journal gets the chunk whole: its pieces' sums added up.
        #expect(lastPiece.completed?.chunks.first == 0 && lastPiece.completed?.sum == SumOfSquaresKernel.sum(1, 10))
        #expect(ledger.current?.chunksDone == 1)
        let allDone = ledger.accept(chunk: 1, elements: 10, sum: SumOfSquaresKernel.sum(11, 20)).jobDone
        #expect(allDone)
        let finished = ledger.finishCurrent(now: 1)
        #expect(finished?.verified == true)
    }

    @Test("stale results are counted over all jobs and in the running one, and say their chunk if it is known")
    func staleResults() throws {
        var ledger = JobLedger(audits: false)
        _ = ledger.submit(try JobSpec(lo: 1, hi: 10, chunkSize: 5))
        _ = ledger.startNext(owners: [], now: 0)
        ledger.forget(attempt: AttemptID(7), of: 1)
        let knownChunk = ledger.countStale(AttemptID(7))
        #expect(knownChunk == 1)
        let unknownChunk = ledger.countStale(AttemptID(8))
        #expect(unknownChunk == nil)
        #expect(ledger.staleResults == 2 && ledger.current?.staleResults == 2)
    }

    @Test("a job's summary names the kernel it ran, or none if the kernel was switched while it ran")
    func kernelOfAJob() throws {
        var ledger = JobLedger(audits: false)
        func run(switchesAtFinish: Int) throws -> JobSummary? {
            _ = ledger.submit(try JobSpec(lo: 1, hi: 10, chunkSize: 10))
            _ = ledger.startNext(owners: [WorkerID(1)], now: 1, kernel: .scalar, kernelSwitches: 3)
            let accepted = ledger.accept(chunk: 0, elements: 10, sum: 385).jobDone
            #expect(accepted)
            return ledger.finishCurrent(now: 2, kernelSwitches: switchesAtFinish)
        }
        let steady = try #require(try run(switchesAtFinish: 3))
        #expect(steady.kernel == .scalar && steady.kernelLabel == "scalar" && steady.verified)
        // Switched away and back (K pressed four times): the same variant at both ends, still mixed.
        let switched = try #require(try run(switchesAtFinish: 7))
        #expect(switched.kernel == nil && switched.kernelLabel == "mixed")
    }
}
