import Synchronization
import Testing
@testable import ClusterEngine

/// A local thread's claim ahead, driven through the engine by hand with a manual clock: how many
/// tiny chunks it claims at a visit, how their held results are handed in, and what a kill or a
/// pause does to attempts it claimed but has not started. Exact, whatever the machine's speed.
@Suite("Local claim ahead")
struct ClaimAheadTests {
    /// The manual clock's zero: the job starts on the real clock, just before it.
    let t0 = MonotonicClock.nanoseconds() + 1_000_000_000

    /// An engine with `workers` local threads that claim 100 µs ahead, running a job of `chunks`
    /// chunks of 100 elements.
    func engine(workers: Int = 1, chunks: Int64 = 1000, schedule: SchedulePolicy = .dynamic,
                subBlock: Int64 = 1 << 16) throws -> EngineState {
        var configuration = ClusterConfiguration()
        configuration.auditsAcceptedChunks = true
        configuration.subBlockSize = subBlock
        var s = EngineState(configuration: configuration, startNanos: 0)
        for w in 1...workers {
            s.workers.append(WorkerRecord(cell: WorkerCell(id: WorkerID(w)), speed: 1, queueNanos: 100_000))
        }
        _ = s.submit(try JobSpec(lo: 1, hi: chunks * 100, chunkSize: 100, schedule: schedule))
        return s
    }

    func sum(_ task: AttemptTask) -> UInt128 { SumOfSquaresKernel.sum(task.elements.lowerBound, task.elements.upperBound) }

    @Test("a pause inside a local thread's attempt is not slowness: the attempt's pace leaves the paused second out")
    func localPauseIsNotPace() throws {
        var s = try engine()
        let task = s.step(worker: 0, now: t0).tasks[0]
        // Stopped half-way through, paused for a second, resumed, and done a microsecond later.
        let paused = s.pause(worker: 0, now: t0 + 500)
        let stopped = s.checkIn(worker: 0, attempt: task.attempt, position: task.elements.lowerBound + 50, sum: 0, now: t0 + 500)
        let resumed = s.resume(worker: 0, now: t0 + 1_000_000_500)
        let going = s.checkIn(worker: 0, attempt: task.attempt, position: task.elements.lowerBound + 50, sum: 0, now: t0 + 1_000_000_500)
        #expect(paused && resumed && stopped == .hold)
        #expect(going == .proceed(last: task.elements.upperBound, speed: 1))
        s.handIn(worker: 0, held: [HeldResult(attempt: task.attempt, sum: sum(task), finishedNanos: t0 + 1_000_001_000,
                                              elements: task.elements.count64)])
        // 100 elements in 1 µs of work: 10 ns each (the paused second counted would read 10 ms).
        #expect(s.workers[0].nanosPerElement == 10)
    }

    /// Worker `i` runs every attempt of `step` in order, each taking `nanosEach` from `now`, and
    /// holds the results; returns them and the time after the last.
    func run(_ step: WorkerStep, from now: UInt64, nanosEach: UInt64) -> (held: [HeldResult], now: UInt64) {
        var now = now
        var held: [HeldResult] = []
        for task in step.tasks {
            now += nanosEach
            held.append(HeldResult(attempt: task.attempt, sum: sum(task), finishedNanos: now, elements: task.elements.count64))
        }
        return (held, now)
    }

    @Test("one chunk at a time until the pace is known; then as many as 100 µs holds, at most maxLocalDepth")
    func depthFollowsPace() throws {
        var s = try engine()
        let first = s.step(worker: 0, now: t0)
        #expect(first.tasks.count == 1, "no pace yet: no claim ahead")
        // 100 elements in 1 µs: a chunk lasts 1 µs, so 100 fit in the window behind the current one.
        s.handIn(worker: 0, held: run(first, from: t0, nanosEach: 1_000).held)
        let batch = s.step(worker: 0, now: t0 + 1_000)
        #expect(batch.tasks.count == 101)
        #expect(s.workers[0].queue.count == 100)
        // 100 elements in 100 ns: 1,000 would fit; the depth stops them at maxLocalDepth.
        var fast = try engine(chunks: 2_000)
        let start = fast.step(worker: 0, now: t0)
        fast.handIn(worker: 0, held: run(start, from: t0, nanosEach: 100).held)
        let fastBatch = fast.step(worker: 0, now: t0 + 100)
        #expect(fastBatch.tasks.count == 1 + EngineState.maxLocalDepth)
        #expect(fast.workers[0].queue.count == EngineState.maxLocalDepth)
        // Slower: 100 elements in 10 µs leaves room for 10 behind the current one.
        var slow = try engine()
        let one = slow.step(worker: 0, now: t0)
        slow.handIn(worker: 0, held: run(one, from: t0, nanosEach: 10_000).held)
        let slowBatch = slow.step(worker: 0, now: t0 + 10_000)
        #expect(slowBatch.tasks.count == 11)
        // Chunks longer than the window are claimed one at a time.
        var long = try engine()
        let single = long.step(worker: 0, now: t0)
        long.handIn(worker: 0, held: run(single, from: t0, nanosEach: 200_000).held)
        let longStep = long.step(worker: 0, now: t0 + 200_000)
        #expect(longStep.tasks.count == 1)
    }

    @Test("held results count in the order finished, each from its own finish time; the total is exact")
    func heldResultsInOrder() throws {
        var s = try engine(chunks: 200)
        var step = s.step(worker: 0, now: t0)
        var now = t0
        var visits = 0
        while !step.tasks.isEmpty {
            let (held, end) = run(step, from: now, nanosEach: 1_000)
            s.handIn(worker: 0, held: held)
            now = end
            visits += 1
            step = s.step(worker: 0, now: now)
        }
        let summary = try #require(s.jobs.summaries.values.first)
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<200))
        #expect(visits < 10, "200 chunks in \(visits) visits, not one per chunk")
        // Back to back on the timeline: each attempt starts when the one before it finished.
        let entries = Array(s.timeline.entries)
        #expect(entries.count == 200)
        for (before, after) in zip(entries, entries.dropFirst()) {
            #expect(after.attempt.startNanos == before.endNanos)
        }
        #expect(entries.last?.endNanos == t0 + 200_000)
    }

    /// Two workers on 100 chunks: worker 0 runs its first chunk in 1 µs, then claims all 99 left
    /// (fewer than 100 µs' worth) at its next visit; returns that visit's step.
    func claimTheRest(_ s: inout EngineState) -> WorkerStep {
        let first = s.step(worker: 0, now: t0)
        s.handIn(worker: 0, held: run(first, from: t0, nanosEach: 1_000).held)
        let batch = s.step(worker: 0, now: t0 + 1_000)
        #expect(batch.tasks.count == 99 && s.workers[0].queue.count == 98)
        return batch
    }

    @Test("a kill: the current attempt is re-queued, the claimed ones go back untouched, held results are stale")
    func killWithClaims() throws {
        var s = try engine(workers: 2, chunks: 100)
        let batch = claimTheRest(&s)
        // The thread finished 5 of the 99, holds their results, and is killed in the sixth.
        let (held, _) = run(WorkerStep.run(batch.tasks[0], then: Array(batch.tasks[1..<5])), from: t0 + 1_000, nanosEach: 1_000)
        let killed = s.kill(worker: 0)
        #expect(killed)
        #expect(s.workers[0].queue.isEmpty)
        s.handIn(worker: 0, held: held)
        #expect(s.jobs.staleResults == 5)
        // The other worker does everything left, and the total is exact.
        var step = s.step(worker: 1, now: t0 + 10_000)
        var now = t0 + 10_000
        while !step.tasks.isEmpty {
            let (results, end) = run(step, from: now, nanosEach: 1_000)
            s.handIn(worker: 1, held: results)
            now = end
            step = s.step(worker: 1, now: now)
        }
        let summary = try #require(s.jobs.summaries.values.first)
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<100))
        #expect(summary.chunksRequeued == 1, "only the attempt in progress was lost; the claimed ones were never started")
    }

    @Test("an idle local thread does not take back another local thread's claims, which that thread may have begun: the job ends with no stale result")
    func idleDoesNotReclaimLocalClaims() throws {
        var s = try engine(workers: 2, chunks: 100)
        let batch = claimTheRest(&s)
        // Worker 1 finds nothing left in the pool: it waits, and worker 0's claims stay its own.
        #expect(s.step(worker: 1, now: t0 + 1_000) == .wait)
        #expect(s.workers[0].queue.count == 98)
        s.handIn(worker: 0, held: run(batch, from: t0 + 1_000, nanosEach: 1_000).held)
        let summary = try #require(s.jobs.summaries.values.first)
        #expect(summary.verified && summary.staleResults == 0)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<100))
    }

    @Test("static: a paused worker's claims go back to its own slice, and an idle one does not take them")
    func staticKeepsClaimsInTheSlice() throws {
        var s = try engine(workers: 2, chunks: 100, schedule: .static)
        let first = s.step(worker: 0, now: t0)
        s.handIn(worker: 0, held: run(first, from: t0, nanosEach: 1_000).held)
        let batch = s.step(worker: 0, now: t0 + 1_000)
        let current = try #require(batch.tasks.first)
        let paused = s.pause(worker: 0)
        #expect(paused)
        let answer = s.checkIn(worker: 0, attempt: current.attempt, position: current.elements.lowerBound, sum: 0)
        #expect(answer == .hold)
        #expect(s.workers[0].queue.isEmpty)
        // Worker 1 runs its own slice, chunks 50..<100, and then waits: 0..<50 stay worker 0's.
        var step = s.step(worker: 1, now: t0)
        var chunks: [Int64] = []
        var now = t0
        while !step.tasks.isEmpty {
            chunks += step.tasks.map(\.chunk)
            let (results, end) = run(step, from: now, nanosEach: 1_000)
            s.handIn(worker: 1, held: results)
            now = end
            step = s.step(worker: 1, now: now)
        }
        #expect(step == .wait)
        #expect(chunks.sorted() == Array(50..<100))
        // Resumed, worker 0 takes its slice back in order, from the chunk after its current one.
        let resumed = s.resume(worker: 0)
        #expect(resumed)
        let after = s.checkIn(worker: 0, attempt: current.attempt, position: current.elements.lowerBound, sum: 0)
        #expect(after == .proceed(last: current.elements.upperBound, speed: 1))
        s.handIn(worker: 0, held: [HeldResult(attempt: current.attempt, sum: sum(current), finishedNanos: now + 1_000, elements: current.elements.count64)])
        let next = s.step(worker: 0, now: now + 1_000)
        #expect(next.tasks.first?.chunk == current.chunk + 1)
    }
}

extension ClaimAheadTests {
    @Test("a paused thread split by a thief gives back its claims too, so it never holds an attempt it will not run")
    func pausedSplitGivesBackClaims() throws {
        // Stealing: worker 0 owns chunks 0..<50, worker 1 chunks 50..<100; sub-blocks of 2
        // elements, so a chunk of 100 is worth splitting.
        var s = try engine(workers: 2, chunks: 100, schedule: .stealing, subBlock: 2)
        let first = s.step(worker: 0, now: t0)
        s.handIn(worker: 0, held: run(first, from: t0, nanosEach: 1_000).held)
        let batch = s.step(worker: 0, now: t0 + 1_000)
        let current = try #require(batch.tasks.first)
        #expect(s.workers[0].queue.count == 48, "the rest of its slice of 50, behind the current chunk")
        let paused = s.pause(worker: 0)
        #expect(paused)
        // Worker 1 does its own slice and steals the rest of worker 0's, until it must ask worker
        // 0 for a split (a paused worker first) and, meanwhile, takes one of its claims.
        var now = t0
        var step = s.step(worker: 1, now: now)
        while s.workers[0].splitRequestedBy == nil, !step.tasks.isEmpty {
            let (results, end) = run(step, from: now, nanosEach: 1_000)
            s.handIn(worker: 1, held: results)
            now = end
            step = s.step(worker: 1, now: now)
        }
        #expect(s.workers[0].splitRequestedBy == 1)
        // Worker 0's thread stops half-way through its chunk: it hands in that half, gives the
        // other to the thief, and gives back what it claimed; it holds nothing.
        let half = current.elements.lowerBound + 50
        let answer = s.checkIn(worker: 0, attempt: current.attempt, position: half,
                               sum: SumOfSquaresKernel.sum(current.elements.lowerBound, half - 1))
        #expect(answer == .abandon)
        #expect(s.workers[0].current == nil && s.workers[0].queue.isEmpty)
        // Resumed, both finish the job between them, exactly (worker 1 first runs what it took).
        _ = s.resume(worker: 0)
        var pending = [WorkerStep.wait, step]
        for _ in 0..<200 where s.jobs.summaries.isEmpty {
            for w in [0, 1] {
                let (results, end) = run(pending[w], from: now, nanosEach: 1_000)
                s.handIn(worker: w, held: results)
                now = end
                pending[w] = s.step(worker: w, now: now)
            }
        }
        let summary = try #require(s.jobs.summaries.values.first)
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<100))
    }
}

/// A remote thread's queue, sized in time at the pace its results show.
@Suite("Remote queue depth in time")
struct RemoteQueueDepthTests {
    let t0 = MonotonicClock.nanoseconds() + 1_000_000_000

    /// An engine with one remote thread that queues 25 ms of work (4 M elements until its pace
    /// is known, and never less than `floor` elements), running a job of chunks of `chunkSize`.
    func engine(chunkSize: Int64, chunks: Int64 = 100_000, floor: Int64 = 4_000_000) throws -> EngineState {
        var s = EngineState(configuration: ClusterConfiguration(), startNanos: 0)
        let info = RemoteWorkerInfo(host: "node", pid: 1, thread: 0)
        s.workers.append(WorkerRecord(cell: WorkerCell(id: WorkerID(1), onWake: {}), speed: 1, remote: info,
                                      queueElements: floor, queueNanos: 25_000_000))
        _ = s.submit(try JobSpec(lo: 1, hi: chunks * chunkSize, chunkSize: chunkSize))
        return s
    }

    func sum(_ task: AttemptTask) -> UInt128 { SumOfSquaresKernel.sum(task.elements.lowerBound, task.elements.upperBound) }

    @Test("a pace that reads slow (results that arrive late over a long round trip) never queues less than the elements' worth")
    func depthFloor() throws {
        var s = try engine(chunkSize: 100_000)
        let first = s.step(worker: 0, now: t0)
        let results = first.tasks[0..<20].map { (attempt: $0.attempt, sum: sum($0)) }
        s.handIn(worker: 0, arrived: Array(results[0..<10]), now: t0 + 30_000_000)
        // 1 M elements in a second: a round trip's wait counted as work, 1,000 ns per element.
        s.handIn(worker: 0, arrived: Array(results[10..<20]), now: t0 + 1_030_000_000)
        #expect(s.workers[0].nanosPerElement == 1_000)
        #expect(s.queueDepth(worker: 0, chunkSize: 100_000) == 40, "25 ms at that pace is 0.25 chunks; 4 M elements are 40")
    }

    @Test("elements' worth until the pace is known; then 25 ms of it, whatever the chunk size, within 1...1024")
    func depthInTime() throws {
        var s = try engine(chunkSize: 100_000, floor: 1_000_000)
        let first = s.step(worker: 0, now: t0)
        #expect(first.tasks.count == 1 + 10, "1 M elements: the current chunk and 10 queued")
        func results(_ range: Range<Int>) -> [(attempt: AttemptID, sum: UInt128)] {
            first.tasks[range].map { (attempt: $0.attempt, sum: sum($0)) }
        }
        // The first message says nothing of its pace: the thread may have waited for its first
        // attempt. It is busy with a queued one now, so the next message counts from here.
        s.handIn(worker: 0, arrived: results(0..<5), now: t0 + 30_000_000)
        #expect(s.workers[0].nanosPerElement == 0)
        // Five more results 5 ms later: 0.5 M elements in 5 ms is 10 ns per element, a chunk
        // lasts 1 ms, so 25 ms of work is 25 chunks.
        s.handIn(worker: 0, arrived: results(5..<10), now: t0 + 35_000_000)
        #expect(s.workers[0].nanosPerElement == 10)
        #expect(s.queueDepth(worker: 0, chunkSize: 100_000) == 25)
        #expect(s.queueDepth(worker: 0, chunkSize: 1_000) == 1024, "tiny chunks: at most 1,024")
        #expect(s.queueDepth(worker: 0, chunkSize: 100_000_000) == 1, "huge chunks: at least one")
        // 0 queued: the next step tops the queue up to 25.
        let next = s.step(worker: 0, now: t0 + 35_000_000)
        #expect(next.tasks.count == 25)
        #expect(s.workers[0].queue.count == 25)
    }

    @Test("a measured round trip deepens the queue by twice its length in work")
    func roundTripDepth() throws {
        var s = try engine(chunkSize: 100_000, floor: 1_000_000)
        let first = s.step(worker: 0, now: t0)
        let results = first.tasks[0..<10].map { (attempt: $0.attempt, sum: sum($0)) }
        s.handIn(worker: 0, arrived: Array(results[0..<5]), now: t0 + 30_000_000)
        s.handIn(worker: 0, arrived: Array(results[5..<10]), now: t0 + 35_000_000)
        #expect(s.queueDepth(worker: 0, chunkSize: 100_000) == 25, "25 ms at 1 ms a chunk")
        s.noteRoundTrip(worker: 0, seconds: 0.1)
        #expect(s.queueDepth(worker: 0, chunkSize: 100_000) == 225, "25 ms and twice 100 ms")
        s.noteRoundTrip(worker: 0, seconds: 0.02)
        #expect(s.queueDepth(worker: 0, chunkSize: 100_000) == 65, "a shorter trip, a shorter queue")
        s.noteRoundTrip(worker: 0, seconds: 5)
        #expect(s.queueDepth(worker: 0, chunkSize: 100_000) == 1024, "never more than 1,024")
    }

    @Test("a pause is not slowness: the message after a thread stopped does not count towards its pace")
    func pauseIsNotPace() throws {
        var s = try engine(chunkSize: 100_000)
        let tasks = s.step(worker: 0, now: t0).tasks
        s.handIn(worker: 0, arrived: [(tasks[0].attempt, sum(tasks[0]))], now: t0 + 1_000_000)
        s.handIn(worker: 0, arrived: [(tasks[1].attempt, sum(tasks[1]))], now: t0 + 2_000_000)
        #expect(s.workers[0].nanosPerElement == 10)
        // Paused inside its next attempt for a second, then resumed: that attempt's result comes
        // in a second late, and the pace stays what it was.
        let paused = s.pause(worker: 0)
        let stopped = s.checkIn(worker: 0, attempt: tasks[2].attempt, position: tasks[2].elements.lowerBound, sum: 0)
        let resumed = s.resume(worker: 0)
        let going = s.checkIn(worker: 0, attempt: tasks[2].attempt, position: tasks[2].elements.lowerBound, sum: 0)
        #expect(paused && resumed && stopped == .hold)
        #expect(going == .proceed(last: tasks[2].elements.upperBound, speed: 1))
        s.handIn(worker: 0, arrived: [(tasks[2].attempt, sum(tasks[2]))], now: t0 + 1_003_000_000)
        #expect(s.workers[0].nanosPerElement == 10)
    }
}

extension ClaimAheadTests {
    @Test("real threads on tiny chunks, most finished without a clock read: every attempt on the timeline ends after it starts, in order on its lane, between the job's start and the moment the timeline was read")
    func unstampedFinishesStayInOrder() throws {
        var configuration = ClusterConfiguration()
        configuration.timelineCapacity = 100_000
        let cluster = Cluster(configuration: configuration)
        defer { _ = cluster.shutdown() }
        for _ in 0..<2 { cluster.addWorker() }
        let job = cluster.submit(try JobSpec(lo: 1, hi: 4_096 * 20_000, chunkSize: 4_096))
        let summary = try #require(cluster.waitForJob(job, timeout: 600))
        #expect(summary.verified)
        let timeline = cluster.timeline()
        let done = timeline.segments.filter { $0.outcome == .done && $0.job == job }
        #expect(done.reduce(0) { $0 + $1.chunkCount } == 20_000, "every chunk once, alone or in a run")
        let start = try #require(timeline.jobStart)
        for lane in Dictionary(grouping: done, by: \.worker).values {
            let ordered = lane.sorted { $0.attempt < $1.attempt }
            for (before, after) in zip(ordered, ordered.dropFirst()) {
                let (end, nextEnd) = (try #require(before.end), try #require(after.end))
                #expect(end <= after.start + 1e-9 && nextEnd >= after.start, "\(before) then \(after)")
            }
            // No stamp from the future: a finish time spread over a batch is never later than
            // the clock read that closed the batch.
            for segment in ordered {
                #expect(segment.start >= start - 1e-9 && (segment.end ?? .infinity) <= timeline.now)
            }
        }
    }
}

extension ClaimAheadTests {
    @Test("the engine reads only the clock it is given: with a test's clock, the job starts, its events are stamped and a worker's first pace is measured at the test's times")
    func engineReadsItsGivenClock() throws {
        let manual = Atomic<UInt64>(1_000_000_000_000)
        var configuration = ClusterConfiguration()
        configuration.clock = EngineClock { manual.load(ordering: .relaxed) }
        configuration.backupWatchSeconds = .infinity
        let cluster = Cluster(configuration: configuration)
        defer { _ = cluster.shutdown() }
        manual.store(1_007_000_000_000, ordering: .relaxed)  // 7 s after the cluster started
        let job = cluster.submit(try JobSpec(lo: 1, hi: 1_000, chunkSize: 100))
        let started = try #require(cluster.events(after: 0).first { if case .jobStarted = $0.kind { true } else { false } })
        #expect(started.seconds == 7)
        manual.store(1_009_500_000_000, ordering: .relaxed)
        cluster.addWorker()
        let summary = try #require(cluster.waitForJob(job, timeout: 600))
        #expect(summary.verified)
        // The whole job ran while the test's clock stood still at 9.5 s: every event after the
        // start is stamped then, and the job, waiting for its first worker since 7 s, took no time.
        let later = cluster.events(after: started.sequence)
        #expect(!later.isEmpty && later.allSatisfy { $0.seconds == 9.5 }, "\(later)")
        #expect(summary.elapsed == 0)
    }
}
