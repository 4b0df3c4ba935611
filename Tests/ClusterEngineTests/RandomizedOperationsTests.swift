import BigInt
import Foundation
import Testing
import ClusterTestSupport
@testable import ClusterEngine


enum Operation: CaseIterable {
    case add, remove, pause, resume, kill, restart, throttle, submit
}

/// Runs one random sequence of operations against real worker threads and checks that every job
/// ends with the exact total and every chunk accepted exactly once. Returns what it exercised.
func runRandomSequence(seed: UInt64) throws -> (requeued: Int64, stale: Int, split: Int64) {
    var rng = SplitMix64(state: seed)
    var configuration = ClusterConfiguration()
    configuration.subBlockSize = Int64.random(in: 8...512, using: &rng)
    configuration.auditsAcceptedChunks = true
    configuration.maxWorkers = 12
    let cluster = Cluster(configuration: configuration)
    defer { #expect(cluster.shutdown(timeout: 10), "threads did not exit; seed \(seed)") }
    for _ in 0..<Int.random(in: 1...4, using: &rng) { cluster.addWorker() }

    func randomJob() throws -> JobSpec {
        let lo = Int64.random(in: -60_000...60_000, using: &rng)
        let length = Int64.random(in: 1...40_000, using: &rng)
        return try JobSpec(lo: lo, hi: lo + length - 1, chunkSize: Int64.random(in: 1...4_000, using: &rng),
                           schedule: SchedulePolicy.allCases.randomElement(using: &rng)!)
    }
    var jobs = [(cluster.submit(try randomJob()))]
    let workerCount = { cluster.snapshot().workers.count }

    for _ in 0..<Int.random(in: 4...24, using: &rng) {
        let target = WorkerID(Int.random(in: 1...max(1, workerCount()), using: &rng))
        switch Operation.allCases.randomElement(using: &rng)! {
        case .add: cluster.addWorker()
        case .remove: cluster.remove(target)
        case .pause: cluster.pause(target)
        case .resume: cluster.resume(target)
        case .kill: cluster.kill(target)
        case .restart: cluster.restart(target)
        case .throttle: cluster.setSpeed(target, to: [0.05, 0.3, 1].randomElement(using: &rng)!)
        case .submit: if jobs.count < 3 { jobs.append(cluster.submit(try randomJob())) }
        }
        usleep(UInt32.random(in: 0...400, using: &rng))
    }

    // Bring the cluster back to health so every job can finish.
    for worker in cluster.snapshot().workers {
        cluster.resume(worker.id)
        cluster.restart(worker.id)
        cluster.setSpeed(worker.id, to: 1)
    }
    if !cluster.snapshot().workers.contains(where: { $0.state != .removed && !$0.isLeaving }) {
        cluster.addWorker()
    }
    var stale = 0, requeued: Int64 = 0, split: Int64 = 0
    for job in jobs {
        let summary = try #require(cluster.waitForJob(job, timeout: 30), "job \(job) hung; seed \(seed)")
        #expect(summary.verified, "seed \(seed)")
        #expect(BigInt(summary.total) == ClosedForm.sumOfSquares(summary.spec.lo, summary.spec.hi), "seed \(seed)")
        #expect(summary.acceptedChunks?.sorted() == Array(0..<summary.spec.chunkCount),
                "a chunk was lost or counted twice; seed \(seed)")
        stale += summary.staleResults
        requeued += summary.chunksRequeued
        split += summary.chunksSplit
    }
    return (requeued, stale, split)
}

@Suite("Randomized operations on real threads")
struct RandomizedOperationsTests {
    static let batches = 20
    static let sequencesPerBatch = 100

    @Test("2,000 random operation sequences, all three schedules, end exact with each chunk counted once", arguments: 0..<batches)
    func randomSequences(batch: Int) throws {
        // Each sequence checks its own jobs exact; the tests below check that kills, stale
        // results and splits really happen (how often depends on timing, so they scan seeds).
        for i in 0..<Self.sequencesPerBatch {
            let seed = UInt64(batch * Self.sequencesPerBatch + i) &* 0x2545_F491_4F6C_DD1D
            _ = try runRandomSequence(seed: seed)
        }
    }

    /// Runs sequences from `seed` on (at most 3,000) until `count` of their outcomes adds up to
    /// `wanted`; returns the sum. Every sequence checks its jobs exact on the way.
    func countOverSeeds(from seed: UInt64, until wanted: Int64,
                        _ count: ((requeued: Int64, stale: Int, split: Int64)) -> Int64) throws -> Int64 {
        var total: Int64 = 0
        var seed = seed
        for _ in 0..<3000 where total < wanted {
            seed &+= 1
            total += count(try runRandomSequence(seed: seed))
        }
        return total
    }

    @Test("random sequences crash workers mid-chunk, and the chunks are redone")
    func requeuesOccur() throws {
        #expect(try countOverSeeds(from: 0xBAD5EED, until: 20) { $0.requeued } >= 20)
    }

    @Test("random sequences also produce stale results, and they are never added")
    func staleResultsOccur() throws {
        // Tiny sub-blocks and many kills make a kill land between a worker's last sub-block and
        // its hand-in; the totals are checked exact in every sequence regardless.
        #expect(try countOverSeeds(from: 0xC0FFEE, until: 1) { Int64($0.stale) } > 0)
    }

    @Test("random sequences also split chunks between workers, and stay exact")
    func splitsOccur() throws {
        // Splits need the stealing schedule, an idle worker and a paused or slow one with enough
        // left; the sequences above check exactness either way, this one that splits happen.
        #expect(try countOverSeeds(from: 0x5EED, until: 5) { $0.split } >= 5)
    }
}
