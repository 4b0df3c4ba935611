import BigInt
import Synchronization
import Testing
import ClusterTestSupport
@testable import ClusterEngine

@Suite("Each result checked as it arrives")
struct ResultCheckTests {
    @Test("the 128-bit closed form of a range equals the exact one: edges, signs, the top of the accepted range, random ranges")
    func closedForm128() {
        let top = JobSpec.largestAcceptedMagnitude
        var ranges: [(Int64, Int64)] = [(1, 1), (0, 0), (-1, -1), (-5, 5), (-7, -3), (0, 10), (-10, 0), (1, 6), (5, 4),
                                        (1, top), (-top, -1), (top - 4096, top), (-top, -top + 4095), (1, 2), (2, 3)]
        // Every n near multiples of 2 and 3, where F(n)'s division changes factor.
        for n in Int64(1)...36 { ranges.append((n, n + 7)); ranges.append((-n - 7, -n)) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let a = Int64.random(in: -top...top, using: &generator)
            let length = Int64.random(in: 0...(1 << 24), using: &generator)
            ranges.append((a, min(top, a + length)))
        }
        // A whole job's range around zero, as big as a total can be: half of each side.
        ranges.append((-top / 2, top / 2))
        for (lo, hi) in ranges {
            let exact = ClosedForm.sumOfSquares(lo, hi)
            #expect(BigInt(ClosedForm.sumOfSquares128(lo, hi)) == exact, "\(lo)...\(hi)")
        }
    }

    @Test("a worker that hands in a forged sum is caught at that chunk: refused, redone elsewhere, benched and named; the job ends verified")
    func forgedSumCaught() throws {
        // Chunk 0 passes; every other chunk waits at the gate. The liar takes chunk 0 and hands
        // it in forged while the honest worker is held in chunk 1: the test sees the liar caught
        // with the job still running, however fast the kernel.
        let chunk: Int64 = 1_000_000
        let gate = KernelGate(passing: { lo, _ in lo <= chunk })
        var configuration = ClusterConfiguration()
        configuration.auditsAcceptedChunks = true
        configuration.kernel = gate.kernel
        configuration.cpuTokens = .unbounded()
        configuration.localClaimAheadSeconds = 0
        let cluster = Cluster(configuration: configuration)
        defer {
            gate.open()
            cluster.shutdown()
        }
        let liar = try #require(cluster.addWorker())
        #expect(cluster.forgeResults(liar))
        let job = cluster.submit(try JobSpec(lo: 1, hi: 8 * chunk, chunkSize: chunk))
        #expect(eventually { cluster.snapshot().job?.chunksRequeued == 1 }, "the forged sum of chunk 0 was refused")
        let honest = try #require(cluster.addWorker())
        #expect(gate.waitUntilHolding(1))
        let row = cluster.snapshot().workers[liar.rawValue - 1]
        #expect(row.benched == .wrongSum(chunk: 0))
        #expect(row.state == .idle && row.assignment == nil)
        #expect(cluster.events(after: 0).map(\.kind).contains(.wrongSumRefused(liar, host: nil, chunk: 0, job: job)))
        // The honest worker redid chunk 0 (it passes the gate) and is held in chunk 1: the total
        // is chunk 0's exactly, nothing of the forgery in it.
        #expect(cluster.snapshot().job?.runningTotal == ClosedForm.sumOfSquares128(1, chunk))

        gate.open()
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        #expect(summary.verified)
        #expect(summary.wrongSums == 1)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<8), "every chunk counted once")
        #expect(cluster.events(after: 0).map(\.kind).contains(.chunkRedistributed(chunk: 0, from: liar, to: honest)))
        #expect(cluster.snapshot().workers[liar.rawValue - 1].elementsAccepted == 0)
    }
}

@Suite("Backups of attempts that crawl")
struct CrawlingBackupTests {
    let policy = BackupPolicy(watchNanos: 1_000_000_000)

    @Test("under static, an attempt hundreds of times slower than a copy is backed up; a straggler at 10% or 1.5% is not")
    func crawlingUnderStatic() {
        // A copy sums 4 ns an element. 10 elements in 2 s is 50 million times slower: a liar.
        let liar = BackupPolicy.Candidate(index: 0, elements: 1_000_000, done: 10, elapsedNanos: 2_000_000_000)
        #expect(policy.deservesBackup(liar, thiefNanosPerElement: 4, onlyStalled: true))
        // A worker throttled to 10%: ten times slower; to 1.5%: 67 times. Never under static.
        for slowdown in [10.0, 67.0] {
            let straggler = BackupPolicy.Candidate(index: 0, elements: 1_000_000_000, done: Int64(2e9 / (4 * slowdown)),
                                                   elapsedNanos: 2_000_000_000)
            #expect(!policy.deservesBackup(straggler, thiefNanosPerElement: 4, onlyStalled: true), "\(slowdown)× slower")
        }
        #expect(!policy.deservesBackup(liar, thiefNanosPerElement: 0, onlyStalled: true), "against a copy of unknown pace")
    }
}
