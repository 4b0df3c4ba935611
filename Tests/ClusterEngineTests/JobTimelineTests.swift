import ClusterTestSupport
import Testing
@testable import ClusterEngine

@Suite("The whole job's timeline")
struct JobTimelineTests {
    static let second: UInt64 = 1_000_000_000

    @Test("20,000 attempts over ten minutes: memory stays at a fixed number of cells and a kill at 0.2 s survives")
    func bounded() {
        var timeline = JobTimeline(job: JobID(1), startNanos: 5 * Self.second)
        let start = 5 * Self.second
        timeline.paint(.killed, worker: WorkerID(1), from: start + Self.second / 5, to: start + Self.second / 5 + 1_000)
        for n in 0..<20_000 {
            let from = start + UInt64(n) * 30_000_000  // a 30 ms chunk each, back to back, 600 s in all
            timeline.paint(n % 2 == 0 ? .done : .doneAlternate, worker: WorkerID(1 + n % 2), from: from, to: from + 30_000_000)
        }
        #expect(timeline.lanes.count == 2 && timeline.lanes.allSatisfy { $0.count == JobTimeline.columns })
        // 600 s in 1,024 cells: each covers 2^10 ms, the first power of two that fits.
        #expect(timeline.cellNanos == 1_024_000_000)
        let one = timeline.lane(of: WorkerID(1))!
        #expect(one[0] == .killed)
        // Cells that cover many chunks show plain done; after the job's end, nothing.
        #expect(one[100] == .done)
        #expect(one[600] == .empty)
        #expect(timeline.lane(of: WorkerID(3)) == nil)
    }

    @Test("workers whose rows are freed join one departed lane: 5,000 of them come and go and the lanes stay at two")
    func retired() {
        var timeline = JobTimeline(job: JobID(1), startNanos: 0)
        timeline.paint(.killed, worker: WorkerID(1), from: 0, to: 1_000_000)
        for n in 2...5_001 {
            let from = UInt64(n) * 1_000_000
            timeline.paint(.done, worker: WorkerID(n), from: from, to: from + 1_000_000)
            timeline.retire(WorkerID(n - 1))
        }
        #expect(timeline.lanes.count == 2, "one place in use, one freed and taken again")
        #expect(timeline.departedCount == 5_000)
        #expect(timeline.lane(of: WorkerID(1)) == nil, "its marks are the departed lane's now")
        #expect(timeline.lane(of: JobTimeline.departedLane)?[0] == .killed, "what a departed worker did still shows")
        #expect(timeline.lane(of: WorkerID(5_001)) != nil)
    }

    @Test("painting a row's lane for its new worker retires the one before, whose marks join the departed lane")
    func laneByRow() {
        var timeline = JobTimeline(job: JobID(1), startNanos: 0)
        timeline.paint(.killed, worker: WorkerID(1), lane: 0, from: 0, to: 1_000_000)
        timeline.paint(.done, worker: WorkerID(2), lane: 3, from: 0, to: 1_000_000)
        timeline.paint(.done, worker: WorkerID(2_049), lane: 0, from: 2_000_000, to: 3_000_000)
        #expect(timeline.lane(of: WorkerID(1)) == nil)
        #expect(timeline.departedCount == 1)
        #expect(timeline.lane(of: JobTimeline.departedLane)?[0] == .killed)
        #expect(timeline.lane(of: WorkerID(2_049))?[0] == .empty, "the new worker's lane starts clean")
        #expect(timeline.lane(of: WorkerID(2_049))?[2] == .done)
        #expect(timeline.lane(of: WorkerID(2))?[0] == .done, "another row's lane is untouched")
        // A worker painted without a lane takes the first free one.
        timeline.retire(WorkerID(2))
        timeline.paint(.stolen, worker: WorkerID(7), from: 0, to: 1_000_000)
        #expect(timeline.lanes.count == 4)
        #expect(timeline.lanes[1].isEmpty == false, "lane 1 was the first without a worker")
    }

    @Test("a stretch that ends where the next begins does not spill into its cell")
    func boundaries() {
        var timeline = JobTimeline(job: JobID(1), startNanos: 0)
        timeline.paint(.done, worker: WorkerID(1), from: 0, to: 2_000_000)
        timeline.paint(.doneAlternate, worker: WorkerID(1), from: 2_000_000, to: 4_000_000)
        let lane = timeline.lane(of: WorkerID(1))!
        #expect(Array(lane.prefix(5)) == [.done, .done, .doneAlternate, .doneAlternate, .empty])
        // Drawn 1 ms to a cell, the picture is the lane's.
        #expect(timeline.cells(of: WorkerID(1), from: 0, to: 0.005, width: 5) == Array(lane.prefix(5)))
        // Two cells into one: different chunks merge to plain done.
        #expect(timeline.cells(of: WorkerID(1), from: 0, to: 0.004, width: 2) == [.done, .doneAlternate])
        #expect(timeline.cells(of: WorkerID(1), from: 0, to: 0.004, width: 1) == [.done])
    }

    @Test("the engine paints attempts, kills, redos and a pause while its thread is stopped")
    func engine() throws {
        // Worker 1's first sub-block is held at the gate until the test has asked for a pause: the
        // thread then stops at the next sub-block, inside its attempt.
        let gate = KernelGate(passing: { lo, _ in lo > 1 })
        let cluster = gate.cluster(workers: 1)
        defer {
            gate.open()
            cluster.shutdown()
        }
        let job = cluster.submit(try JobSpec(lo: 1, hi: 4_000_000, chunkSize: 1_000_000))
        #expect(gate.waitUntilHolding(1))
        #expect(cluster.pause(WorkerID(1)))
        gate.open()
        #expect(eventually { cluster.snapshot().workers[0].state == .paused })
        try #require(cluster.snapshot().workers[0].assignment != nil, "paused inside its attempt")
        var whole = try #require(cluster.timeline().whole)
        #expect(whole.job == job)
        var lane = try #require(whole.lane(of: WorkerID(1)))
        #expect(lane.contains(.paused), "a paused thread shows as paused")
        #expect(cluster.kill(WorkerID(1)))
        #expect(cluster.restart(WorkerID(1)))
        #expect(cluster.waitForJob(job, timeout: 60)?.verified == true)
        whole = try #require(cluster.timeline().whole)
        lane = try #require(whole.lane(of: WorkerID(1)))
        // The kill covers the paused attempt's cells: the rarer mark wins. The redo may fall in
        // the same millisecond cells as the kill, which then wins them too; the exact record has it.
        #expect(lane.contains(.killed), "\(lane.prefix(40))")
        #expect(cluster.timeline().segments.contains { $0.origin.isRedo && $0.worker == WorkerID(1) && $0.outcome == .done })
    }

    @Test("a worker throttled to 10% draws its attempts as slow, a full-speed one does not: the lanes differ")
    func slowLane() throws {
        // No backups: on a loaded machine the slow worker's attempts were all backed up and
        // superseded (CI saw a lane of nothing else), which is another lane.
        let cluster = makeCluster(workers: 2, backups: false)
        defer { cluster.shutdown() }
        #expect(cluster.setSpeed(WorkerID(2), to: 0.1))
        let job = cluster.submit(try JobSpec(lo: 1, hi: 100_000_000, chunkSize: 1_000_000))
        #expect(cluster.waitForJob(job, timeout: 120)?.verified == true)
        let whole = try #require(cluster.timeline().whole)
        func slowShare(_ worker: Int) throws -> Double {
            let lane = try #require(whole.lane(of: WorkerID(worker)))
            let done = lane.filter { $0.isDone || $0 == .slow }
            return Double(done.filter { $0 == .slow }.count) / Double(max(1, done.count))
        }
        // Throttled under half speed: slow from its first attempt on.
        #expect(try slowShare(2) == 1, "\(whole.lane(of: WorkerID(2))?.prefix(80) ?? [])")
        #expect(try slowShare(1) < 0.5, "\(whole.lane(of: WorkerID(1))?.prefix(80) ?? [])")
    }

    @Test("a slow stretch outranks done in a merged cell and yields to everything rarer")
    func slowMerges() {
        #expect(TimelineMark.merged(.done, .slow) == .slow && TimelineMark.merged(.slow, .doneAlternate) == .slow)
        #expect(TimelineMark.merged(.slow, .paused) == .paused && TimelineMark.merged(.slow, .killed) == .killed)
    }
}
