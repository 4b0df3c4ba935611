import ClusterModel
import Foundation
import Testing
@testable import ClusterEngine

/// Runs: with tiny chunks a local thread's attempt covers a run of whole consecutive chunks
/// lasting about 50 µs, so the engine's work per attempt is done once per run. Driven through
/// the engine by hand with a manual clock, so exact whatever the machine's speed.
@Suite("Runs of tiny chunks")
struct ChunkRunTests {
    let t0 = MonotonicClock.nanoseconds() + 1_000_000_000

    /// `workers` local threads that claim 100 µs ahead in runs of 50 µs (as `Cluster` makes
    /// them), on a job of `chunks` chunks of 100 elements.
    func engine(workers: Int = 1, chunks: Int64 = 10_000, schedule: SchedulePolicy = .dynamic,
                runNanos: Double = 50_000) throws -> EngineState {
        var configuration = ClusterConfiguration()
        configuration.auditsAcceptedChunks = true
        var s = EngineState(configuration: configuration, startNanos: 0)
        for w in 1...workers {
            s.workers.append(WorkerRecord(cell: WorkerCell(id: WorkerID(w)), speed: 1, queueNanos: 100_000, runNanos: runNanos))
            s.liveWorkers += 1
        }
        _ = s.submit(try JobSpec(lo: 1, hi: chunks * 100, chunkSize: 100, schedule: schedule))
        return s
    }

    /// Runs every attempt of `step`, each chunk taking `nanosPerChunk`, and returns the held
    /// results and the time after the last.
    func run(_ step: WorkerStep, from now: UInt64, nanosPerChunk: UInt64 = 1_000) -> (held: [HeldResult], now: UInt64) {
        var now = now
        var held: [HeldResult] = []
        for task in step.tasks {
            now += nanosPerChunk * UInt64(task.elements.count64 / 100)
            held.append(HeldResult(attempt: task.attempt, sum: SumOfSquaresKernel.sum(task.elements.lowerBound, task.elements.upperBound),
                                   finishedNanos: now, elements: task.elements.count64))
        }
        return (held, now)
    }

    /// Worker 0 runs its first chunk at 1 µs a chunk and claims again: its current attempt is
    /// then a run of 50 chunks from chunk 1.
    func startRun(_ s: inout EngineState) throws -> CurrentAttempt {
        let first = s.step(worker: 0, now: t0)
        s.handIn(worker: 0, held: run(first, from: t0).held)
        _ = s.step(worker: 0, now: t0 + 1_000)
        let current = try #require(s.workers[0].current)
        #expect(current.chunk == 1 && current.chunkCount == 50 && current.elements == 101...5_100)
        return current
    }

    /// Worker `w` runs `step` and every step after it until it gets nothing; returns the time after.
    func finish(_ s: inout EngineState, worker w: Int, from step: WorkerStep, now start: UInt64) -> UInt64 {
        var step = step, now = start
        while !step.tasks.isEmpty {
            let (held, end) = run(step, from: now)
            s.handIn(worker: w, held: held)
            now = end
            step = s.step(worker: w, now: now)
        }
        return now
    }

    @Test("one chunk until the pace is known; then runs of 50 µs of chunks, handed in whole; at the tail single chunks again; every chunk counted once and the total exact")
    func runsThenSingles() throws {
        var s = try engine()
        let first = s.step(worker: 0, now: t0)
        #expect(first.tasks.count == 1 && s.workers[0].current?.chunkCount == 1, "no pace yet: one chunk")
        var (held, now) = run(first, from: t0)
        s.handIn(worker: 0, held: held)
        // 1 µs a chunk: a run is 50 chunks, 5,000 consecutive elements; 100 µs ahead is two more.
        var step = s.step(worker: 0, now: now)
        #expect(step.tasks.count == 3)
        #expect(s.workers[0].current?.chunk == 1 && s.workers[0].current?.chunkCount == 50)
        #expect(step.tasks.map(\.elements) == [101...5_100, 5_101...10_100, 10_101...15_100])
        var attempts = 1
        while !step.tasks.isEmpty {
            attempts += step.tasks.count
            (held, now) = run(step, from: now)
            s.handIn(worker: 0, held: held)
            step = s.step(worker: 0, now: now)
        }
        let summary = try #require(s.jobs.summaries.values.first)
        #expect(summary.verified)
        #expect(summary.acceptedChunks == Array(0..<10_000), "each chunk once, in order")
        #expect(s.workers[0].chunksDone == 10_000 && s.workers[0].jobChunksDone == 10_000)
        #expect(attempts < 10_000 / 50 + 50, "\(attempts) attempts for 10,000 chunks")
        // Runs never take more than half of what is left: the job's last attempts are single chunks.
        let entries = Array(s.timeline.entries)
        #expect(entries.reduce(0) { $0 + $1.attempt.chunkCount } == 10_000)
        #expect(entries.last?.attempt.chunkCount == 1)
        #expect(entries.last?.attempt.chunk == 9_999)
        // A run's timeline segment says which chunks it covered.
        let segment = entries[1].segment(since: 0)
        #expect(segment.chunk == 1 && segment.chunkCount == 50 && segment.elements == 101...5_100)
    }

    @Test("a kill in a run: its first chunk is redone, as a lost chunk is, and logged; the rest go back untouched; the job ends exact, every chunk once")
    func killInARun() throws {
        var s = try engine(workers: 2, chunks: 1_000)
        let lost = try startRun(&s)
        let killed = s.kill(worker: 0)
        #expect(killed)
        let kinds = s.events.events.map(\.kind)
        #expect(kinds.contains(.workerKilled(WorkerID(1), chunk: lost.chunk)))
        #expect(kinds.contains(.chunkRequeued(chunk: lost.chunk, from: WorkerID(1))))
        #expect(s.jobs.current?.chunksRequeued == 1)
        // Worker 1 takes the redo of the run's first chunk, alone, before anything else.
        let next = s.step(worker: 1, now: t0 + 2_000)
        #expect(next.tasks.first?.chunk == lost.chunk && next.tasks.first?.elements == 101...200)
        #expect(s.workers[1].current?.origin == .redo(lostBy: WorkerID(1)) && s.workers[1].current?.chunkCount == 1)
        _ = finish(&s, worker: 1, from: next, now: t0 + 2_000)
        let summary = try #require(s.jobs.summaries.values.first)
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<1_000))
        #expect(summary.chunksRequeued == 1)
    }

    @Test("a pause inside a run keeps the chunk it is on and gives the rest back: another worker takes them, and after the resume the run ends with that chunk; the job ends exact")
    func pauseTrimsARun() throws {
        var s = try engine(workers: 2, chunks: 1_000)
        let held = try startRun(&s)
        // Paused 50 elements into the run's third chunk (chunk 3, elements 301...400).
        let paused = s.pause(worker: 0)
        let answer = s.checkIn(worker: 0, attempt: held.attempt, position: 351, sum: SumOfSquaresKernel.sum(101, 350))
        #expect(paused && answer == .hold)
        #expect(s.workers[0].current?.chunkCount == 3 && s.workers[0].current?.elements == 101...400)
        // Worker 1 takes chunk 4 on: the rest of the run, untouched, at the front.
        let taken = s.step(worker: 1, now: t0 + 2_000)
        #expect(taken.tasks.first?.chunk == 4 && taken.tasks.first?.elements.lowerBound == 401)
        let now = finish(&s, worker: 1, from: taken, now: t0 + 2_000)
        #expect(s.jobs.summaries.isEmpty, "the paused worker's three chunks are still out")
        let resumed = s.resume(worker: 0)
        let going = s.checkIn(worker: 0, attempt: held.attempt, position: 351, sum: SumOfSquaresKernel.sum(101, 350))
        #expect(resumed && going == .proceed(last: 400, speed: 1))
        s.handIn(worker: 0, held: [HeldResult(attempt: held.attempt, sum: SumOfSquaresKernel.sum(101, 400),
                                              finishedNanos: now + 1_000, elements: 300)])
        let summary = try #require(s.jobs.summaries.values.first)
        #expect(summary.verified && summary.staleResults == 0)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<1_000))
        #expect(s.workers[0].chunksDone == 4, "its first chunk and the three it kept")
    }

    @Test("no runs under work stealing, for a remote worker, without claiming ahead, or with chunks longer than a run")
    func whereNoRuns() throws {
        func runLength(_ s: inout EngineState, nanosPerChunk: UInt64 = 1_000) -> Int64 {
            let first = s.step(worker: 0, now: t0)
            s.handIn(worker: 0, held: run(first, from: t0, nanosPerChunk: nanosPerChunk).held)
            return s.runLength(worker: 0)
        }
        var dynamic = try engine()
        #expect(runLength(&dynamic) == 50)
        var stealing = try engine(schedule: .stealing)
        #expect(runLength(&stealing) == 1)
        var long = try engine()
        #expect(runLength(&long, nanosPerChunk: 60_000) == 1, "a chunk of 60 µs is longer than a run")
        var noClaim = EngineState(configuration: ClusterConfiguration(), startNanos: 0)
        noClaim.workers.append(WorkerRecord(cell: WorkerCell(id: WorkerID(1)), speed: 1, queueNanos: 0, runNanos: 50_000))
        _ = noClaim.submit(try JobSpec(lo: 1, hi: 1_000_000, chunkSize: 100))
        #expect(runLength(&noClaim) == 1)
        let remote = WorkerRecord(cell: WorkerCell(id: WorkerID(2), onWake: {}), speed: 1,
                                  remote: RemoteWorkerInfo(host: "node", pid: 1, thread: 0), queueNanos: 100_000, runNanos: 50_000)
        #expect(remote.runNanos == 0)
    }

    @Test("a run is never backed up: long past the backup watch, a stalled single chunk gets a copy, a stalled run none")
    func runsAreNotBackedUp() throws {
        for runNanos in [0.0, 50_000] {
            var s = try engine(workers: 2, chunks: 1_000, runNanos: runNanos)
            if runNanos > 0 {
                _ = try startRun(&s)
            } else {
                s.handIn(worker: 0, held: run(s.step(worker: 0, now: t0), from: t0).held)
                _ = s.step(worker: 0, now: t0 + 1_000)
                #expect(s.workers[0].current?.chunkCount == 1)
            }
            let choice = s.backupChoice(for: 1, now: t0 + 10_000_000_000)
            #expect((choice != nil) == (runNanos == 0), "runs: \(runNanos > 0), copy: \(String(describing: choice))")
        }
    }

    @Test("the pool hands out consecutive whole chunks up to the run, never more than a share of those left, and takes them back in order")
    func poolRuns() {
        var pool = WorkPool(chunkCount: 100, policy: .dynamic, workers: [])
        let a = pool.next(for: WorkerID(1), run: 30, runShare: 2)
        #expect(a?.chunks == ChunkSpan(first: 0, end: 30) && a?.piece == nil)
        let b = pool.next(for: WorkerID(1), run: 60, runShare: 2)
        #expect(b?.chunks == ChunkSpan(first: 30, end: 65), "half of the 70 left")
        pool.giveBack(chunks: ChunkSpan(first: 30, end: 65), piece: nil)
        #expect(pool.next(for: WorkerID(2), run: 1, runShare: 1)?.chunks == ChunkSpan(first: 30, end: 31))
        #expect(pool.next(for: WorkerID(2), run: 100, runShare: 1)?.chunks == ChunkSpan(first: 31, end: 65), "a run never spans a gap")
        var last = WorkPool(chunkCount: 1, policy: .dynamic, workers: [])
        #expect(last.next(for: WorkerID(1), run: 50, runShare: 4)?.chunks == ChunkSpan(first: 0, end: 1))
        #expect(last.next(for: WorkerID(1), run: 50, runShare: 4) == nil)
    }
}
