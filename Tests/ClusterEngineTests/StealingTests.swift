import Foundation
import Testing
import ClusterTestSupport
@testable import ClusterEngine

@Suite("Work stealing")
struct StealingTests {
    /// The accepted attempts of `job`, from the timeline, sorted by their first element.
    func acceptedSegments(_ cluster: Cluster, job: JobID) -> [TimelineSegment] {
        cluster.timeline().segments.filter { $0.job == job && $0.outcome == .done }
            .sorted { $0.elements.lowerBound < $1.elements.lowerBound }
    }

    /// True if the segments cover `range` exactly: no gap, no element twice.
    func tile(_ segments: [TimelineSegment], _ range: ClosedRange<Int64>) -> Bool {
        var next = range.lowerBound
        for segment in segments {
            guard segment.elements.lowerBound == next else { return false }
            next = segment.elements.upperBound + 1
        }
        return next == range.upperBound + 1
    }

    @Test("an idle worker takes most of a throttled worker's chunk; every element is counted once")
    func stealingRescuesAStraggler() throws {
        // The fast worker's chunk (the first half) waits at the gate until the slow worker has
        // started its own: otherwise, on a fast kernel or a loaded machine, the fast one can be
        // done before the slow one has begun, and take its whole slice instead of splitting it.
        let gate = KernelGate(passing: { lo, _ in lo > 1 << 23 })
        let cluster = makeCluster(workers: 2, subBlock: 1 << 12, kernel: gate.kernel)
        defer {
            gate.open()
            cluster.shutdown()
        }
        let (fast, slow) = (WorkerID(1), WorkerID(2))
        cluster.setSpeed(slow, to: 0.02)
        // Two chunks, one per worker's slice: without stealing the slow one would do half the job.
        let range: ClosedRange<Int64> = 1...(1 << 24)
        let job = cluster.submit(try JobSpec(lo: range.lowerBound, hi: range.upperBound, chunkSize: 1 << 23,
                                             schedule: .stealing))
        #expect(gate.waitUntilHolding(1))
        #expect(eventually { (cluster.snapshot().workers[1].assignment?.elementsDone ?? 0) > 0 }, "the slow worker has begun")
        gate.open()
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        #expect(summary.verified)
        #expect(summary.chunksSplit >= 1)
        #expect(summary.acceptedChunks?.sorted() == [0, 1])

        let segments = acceptedSegments(cluster, job: job)
        #expect(tile(segments, range), "accepted attempts do not tile the range: \(segments.map(\.elements))")
        // Who summed which elements: the fast worker did part of the slow worker's chunk.
        let secondHalf = (range.lowerBound + (1 << 23))...range.upperBound
        let fastInSecondHalf = segments.filter { $0.worker == fast && secondHalf.contains($0.elements.lowerBound) }
            .reduce(Int64(0)) { $0 + $1.elements.count64 }
        #expect(fastInSecondHalf > (1 << 23) / 2, "fast worker did only \(fastInSecondHalf) of the slow worker's chunk")
        #expect(segments.contains { $0.worker == fast && $0.origin.isSplit })
        #expect(segments.contains { $0.worker == slow && $0.wasSplit })

        let workers = cluster.snapshot().workers
        #expect(workers[0].elementsAccepted + workers[1].elementsAccepted == UInt64(range.count64))
        #expect(workers[0].elementsAccepted > 3 * workers[1].elementsAccepted)
        let events = cluster.events(after: 0).map(\.kind)
        #expect(events.contains { if case .chunkSplit(1, slow, _) = $0 { true } else { false } })
        #expect(events.contains(.chunkStolen(chunk: 1, from: slow, to: fast)))
    }

    @Test("a paused worker hands in what it did and its remainder is stolen; the job ends while it stays paused")
    func pausedWorkerIsRelieved() throws {
        let gate = KernelGate()
        let cluster = makeCluster(workers: 2, subBlock: 1 << 10, kernel: gate.kernel)
        defer { cluster.shutdown() }
        let (other, paused) = (WorkerID(1), WorkerID(2))
        cluster.pause(other)
        let range: ClosedRange<Int64> = 1...200_000
        let job = cluster.submit(try JobSpec(lo: 1, hi: 200_000, chunkSize: 100_000, schedule: .stealing))
        #expect(gate.waitForEntry())
        // `paused` is now inside its first sub-block; it stops at the next one.
        #expect(cluster.pause(paused))
        #expect(cluster.resume(other))
        gate.open()
        let summary = try #require(cluster.waitForJob(job, timeout: 30))
        #expect(summary.verified)
        #expect(cluster.snapshot().workers[1].state == .paused)
        let segments = acceptedSegments(cluster, job: job)
        #expect(tile(segments, range))
        // The paused worker's accepted part is what it did before it stopped; the rest was stolen.
        let pausedPart = segments.filter { $0.worker == paused }
        #expect(pausedPart.count == 1 && pausedPart[0].wasSplit)
        #expect(pausedPart.first.map { $0.elements.count64 < 100_000 } == true)
    }

    @Test("without stealing, static slices leave the straggler its whole slice")
    func staticKeepsTheStraggler() throws {
        let cluster = makeCluster(workers: 2, subBlock: 1 << 12)
        defer { cluster.shutdown() }
        cluster.setSpeed(WorkerID(2), to: 0.05)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 1 << 22, chunkSize: 1 << 21, schedule: .static))
        let summary = try #require(cluster.waitForJob(job, timeout: 60))
        #expect(summary.verified)
        #expect(summary.chunksSplit == 0)
        #expect(cluster.snapshot().workers[1].elementsAccepted == 1 << 21)
    }
}
