import BigInt
import Foundation
import Dispatch
import Synchronization
import Testing
import ClusterTestSupport
@testable import ClusterEngine

func makeCluster(workers: Int, subBlock: Int64 = 1 << 12, audit: Bool = true,
                 kernel: (@Sendable (Int64, Int64) -> UInt128)? = nil, backups: Bool = true) -> Cluster {
    var configuration = ClusterConfiguration()
    configuration.subBlockSize = subBlock
    if !backups { configuration.backupWatchSeconds = .infinity }
    configuration.auditsAcceptedChunks = audit
    if let kernel {
        configuration.kernel = kernel
        // A kernel that blocks on purpose must not keep the other workers from summing, nor
        // hold back results of chunks finished before it (see `KernelGate.cluster`).
        configuration.cpuTokens = .unbounded()
        configuration.localClaimAheadSeconds = 0
    }
    let cluster = Cluster(configuration: configuration)
    for _ in 0..<workers { cluster.addWorker() }
    return cluster
}

@Suite("Cluster engine")
struct ClusterTests {
    @Test("the seed's example runs on four workers and verifies")
    func seedExample() throws {
        let cluster = makeCluster(workers: 4)
        defer { cluster.shutdown() }
        let job = cluster.submit(try JobSpec(lo: 1, hi: 100, chunkSize: 7))
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        #expect(summary.total == 338_350)
        #expect(summary.closedForm == "338350")
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<15))
    }

    @Test("static and dynamic schedules both give the exact total", arguments: SchedulePolicy.allCases)
    func schedules(policy: SchedulePolicy) throws {
        let cluster = makeCluster(workers: 3)
        defer { cluster.shutdown() }
        let job = cluster.submit(try JobSpec(lo: -40_000, hi: 90_000, chunkSize: 1000, schedule: policy))
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        #expect(summary.verified)
        #expect(BigInt(summary.total) == ClosedForm.sumOfSquares(-40_000, 90_000))
    }

    @Test("jobs run one after another; one submitted mid-run is queued, then run")
    func jobQueue() throws {
        let cluster = makeCluster(workers: 2)
        defer { cluster.shutdown() }
        let first = cluster.submit(try JobSpec(lo: 1, hi: 300_000, chunkSize: 10_000))
        let second = cluster.submit(try JobSpec(lo: -10, hi: 10, chunkSize: 3))
        #expect(cluster.snapshot().queuedJobs <= 1)
        #expect(try #require(cluster.waitForJob(first, timeout: 120)).verified)
        let summary = try #require(cluster.waitForJob(second, timeout: 120))
        #expect(summary.total == 770)
        let events = cluster.events(after: 0)
        let finished = try #require(events.first {
            if case .jobFinished(second, verified: true, total: 770, _) = $0.kind { true } else { false }
        })
        // Its line says how long it took, to the millisecond, as its summary does.
        let seconds = String(format: "%.3f", summary.elapsed)
        #expect(finished.message == "job 2 finished in \(seconds) s: verified against the closed form")
    }

    @Test("a paused worker is pausing until its thread stops, then paused: its position no longer moves while others finish the job around it")
    func pauseKeepsProgress() throws {
        // Sub-blocks of the first chunk pass; every other one waits at the gate.
        let gate = KernelGate { _, hi in hi <= 100_000 }
        let cluster = makeCluster(workers: 2, subBlock: 1000, kernel: gate.kernel)
        defer { cluster.shutdown() }
        let a = WorkerID(1)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 2_000_000, chunkSize: 100_000))
        // Both workers hold a chunk past the first (the first is done): each is inside the kernel.
        #expect(gate.waitUntilHolding(2))
        let held = try #require(cluster.snapshot().workers[0].assignment)
        #expect(cluster.pause(a))
        #expect(cluster.snapshot().workers[0].state == .pausing, "its thread is still inside a sub-block")
        #expect(!cluster.pause(a), "a pause already asked for")
        gate.open()
        #expect(eventually { cluster.snapshot().workers[0].state == .paused })
        let frozen = try #require(cluster.snapshot().workers[0].assignment)
        #expect(frozen.attempt == held.attempt)
        #expect(frozen.elementsDone > 0 && frozen.elementsDone < frozen.elementCount)
        // Every chunk but the paused one gets done by the other worker: a fact that takes as long
        // as it takes, during which the paused worker would have moved if it could.
        #expect(eventually { cluster.snapshot().job?.chunksDone == 19 })
        #expect(cluster.snapshot().workers[1].chunksDone == 19 - cluster.snapshot().workers[0].chunksDone)
        let later = try #require(cluster.snapshot().workers[0].assignment)
        #expect(later == frozen, "a paused worker made progress")
        #expect(cluster.snapshot().workers[0].state == .paused)
        #expect(cluster.resume(a))
        #expect(try #require(cluster.waitForJob(job, timeout: 120)).verified)
    }

    @Test("kill re-queues the chunk at once and another worker redoes it")
    func killRedistributes() throws {
        let gate = KernelGate()
        let cluster = makeCluster(workers: 2, subBlock: 256, kernel: gate.kernel)
        defer { cluster.shutdown() }
        let (a, b) = (WorkerID(1), WorkerID(2))
        cluster.pause(b)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 400_000, chunkSize: 200_000))
        #expect(gate.waitForEntry())
        let lost = try #require(cluster.snapshot().workers[0].assignment?.chunk)
        #expect(cluster.kill(a))
        #expect(cluster.snapshot().workers[0].state == .dead)
        gate.open()
        #expect(cluster.resume(b))
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        #expect(summary.verified)
        #expect(summary.chunksRequeued == 1)
        #expect(summary.acceptedChunks?.sorted() == [0, 1])
        let events = cluster.events(after: 0).map(\.kind)
        #expect(events.contains(.workerKilled(a, chunk: lost)))
        #expect(events.contains(.chunkRedistributed(chunk: lost, from: a, to: b)))
        #expect(cluster.restart(a))
        #expect(cluster.snapshot().workers[0].state == .idle)
    }

    @Test("a result from a killed attempt is discarded and counted, never added")
    func staleResultIsFenced() throws {
        // A kernel that parks the first call until the test releases it.
        let gate = DispatchSemaphore(value: 0)
        let entered = DispatchSemaphore(value: 0)
        let calls = Atomic<Int>(0)
        let cluster = makeCluster(workers: 1, subBlock: 1 << 20) { lo, hi in
            if calls.wrappingAdd(1, ordering: .relaxed).oldValue == 0 {
                entered.signal()
                gate.wait()
            }
            return SumOfSquaresKernel.sum(lo, hi)
        }
        defer { cluster.shutdown() }
        let worker = WorkerID(1)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 1000, chunkSize: 1000))
        #expect(entered.wait(timeout: .now() + 10) == .success)
        #expect(cluster.kill(worker))
        #expect(cluster.restart(worker))
        gate.signal()  // the killed attempt now finishes its only sub-block and hands it in
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        #expect(summary.verified)
        #expect(summary.staleResults == 1)
        #expect(summary.acceptedChunks == [0])
        #expect(cluster.snapshot().staleResults == 1)
    }

    @Test("a faulty kernel is caught: the job finishes as a mismatch")
    func mismatchDetected() throws {
        let cluster = makeCluster(workers: 2, kernel: { lo, hi in SumOfSquaresKernel.sum(lo, hi) + (lo == 1 ? 1 : 0) })
        defer { cluster.shutdown() }
        let job = cluster.submit(try JobSpec(lo: 1, hi: 5000, chunkSize: 100))
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        #expect(!summary.verified)
        #expect(cluster.snapshot().job?.status == .mismatch)
    }

    @Test("remove lets a worker finish its chunk, then it leaves")
    func removeFinishesChunk() throws {
        let gate = KernelGate()
        let cluster = makeCluster(workers: 1, subBlock: 256, kernel: gate.kernel)
        defer { cluster.shutdown() }
        let worker = WorkerID(1)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 200_000, chunkSize: 100_000))
        #expect(gate.waitForEntry())
        #expect(cluster.remove(worker))
        #expect(cluster.snapshot().workers[0].isLeaving)
        gate.open()
        #expect(eventually { cluster.snapshot().workers[0].state == .removed })
        let snapshot = cluster.snapshot()
        #expect(snapshot.workers[0].chunksDone == 1)
        #expect(snapshot.job?.chunksDone == 1)
        #expect(cluster.addWorker() == WorkerID(2))
        #expect(try #require(cluster.waitForJob(job, timeout: 120)).verified)
    }

    @Test("the throttle sleeps in proportion to the work, in slices of at least a millisecond", arguments: [0.5, 0.1, 0.01])
    func throttleOwesSleep(speed: Double) {
        var throttle = Throttle()
        var asked: [Int] = []
        // 100 µs of work at a time, back to back: at speed s that is 100 µs × (1/s − 1) of sleep owed.
        for step in 1...200 {
            throttle.sleep(afterWorking: 100_000, endingAt: UInt64(step) * 100_000, speed: speed) { nanos in
                asked.append(nanos)
                return true  // woken at once, as news would: the debt is forgiven
            }
        }
        let owedPerStep = 100_000 * (1 / speed - 1)
        let stepsPerSleep = max(1, (1_000_000 / owedPerStep).rounded(.up))
        #expect(asked.allSatisfy { $0 >= 1_000_000 }, "no sleep under a millisecond")
        #expect(asked.count == Int((200 / stepsPerSleep).rounded(.down)))
        #expect(asked.allSatisfy { Double($0) == owedPerStep * stepsPerSleep })
    }

    @Test("time spent waiting (for a CPU token, to be woken) counts as the throttle's time off")
    func throttleCountsWaits() {
        /// 100 µs sub-blocks with `wait` between them on a simulated clock; a sleep takes as long
        /// as asked. Returns the sleeps asked for, with the sub-block after which each came.
        func sleeps(at speed: Double, wait: UInt64, steps: Int = 100, clockStart: UInt64 = 0) -> [(step: Int, nanos: Int)] {
            var throttle = Throttle()
            var clock = clockStart
            var asked: [(step: Int, nanos: Int)] = []
            for step in 1...steps {
                clock += wait + 100_000
                throttle.sleep(afterWorking: 100_000, endingAt: clock, speed: speed) { nanos in
                    asked.append((step, nanos))
                    clock += UInt64(nanos)
                    return false
                }
            }
            return asked
        }
        // 300 µs of waiting after each 100 µs: at 25% the waits alone keep it there, no sleep.
        #expect(sleeps(at: 0.25, wait: 300_000).isEmpty)
        // At 10% it owes 1 ms per sub-block and the wait pays 0.3 of it: a sleep every other
        // sub-block, and work stays a tenth of the time that passes.
        let tenth = sleeps(at: 0.1, wait: 300_000)
        #expect(tenth.count == 50 && tenth.allSatisfy { $0.nanos >= 1_000_000 })
        let slept = tenth.reduce(0) { $0 + $1.nanos }
        let share = 100.0 * 100_000 / Double(100 * 400_000 + slept)
        #expect(abs(share - 0.1) < 0.005, "worked \(share) of the time")
    }

    @Test("a long wait buys at most 10 ms of work at full speed before a throttled worker sleeps again")
    func throttleCreditIsCapped() {
        var throttle = Throttle()
        var firstSleep: Int?
        // One sub-block, then an hour's wait (a paused worker), then back-to-back sub-blocks.
        throttle.sleep(afterWorking: 100_000, endingAt: 100_000, speed: 0.5) { _ in false }
        var clock: UInt64 = 3_600_000_000_000
        for step in 1...200 where firstSleep == nil {
            clock += 100_000
            throttle.sleep(afterWorking: 100_000, endingAt: clock, speed: 0.5) { _ in
                firstSleep = step
                return false
            }
        }
        // The wait leaves 10 ms of credit (not an hour's), repaid at 100 µs per sub-block; a
        // millisecond owed after that: the sleep comes 110 sub-blocks after the wait's.
        #expect(firstSleep == 111)
    }

    @Test("a throttled attempt sleeps through the runner, and news cuts the sleep short")
    func runnerThrottles() {
        final class Counts: @unchecked Sendable { var dozes = 0, settles = 0, news = false }
        struct Recorder: ChunkControl {
            let counts: Counts
            mutating func hasNews() -> Bool { counts.news }
            mutating func settle(position: Int64, sum: UInt128, last: inout Int64, speed: inout Double) -> ChunkRunner.Verdict {
                counts.settles += 1
                counts.news = false
                speed = 1  // news: full speed from here
                return .proceed
            }
            func publish(done: Int64, added: Int64) {}
            func doze(nanoseconds: Int) -> Bool {
                counts.dozes += 1
                counts.news = true
                return true
            }
        }
        // A kernel that works a millisecond per sub-block, however fast the machine: at half
        // speed, a millisecond of sleep is owed after each.
        let runner = ChunkRunner(kernel: { lo, hi in
            let until = MonotonicClock.nanoseconds() + 1_000_000
            while MonotonicClock.nanoseconds() < until {}
            return SumOfSquaresKernel.sum(lo, hi)
        }, subBlock: 10, clock: .live)
        let counts = Counts()
        var control = Recorder(counts: counts)
        let hold = CPUTokens.Hold(runner.tokens)
        var throttle = Throttle()
        #expect(runner.run(1...30, speed: 0.5, control: &control, hold: hold, throttle: &throttle) == .finished(SumOfSquaresKernel.sum(1, 30)))
        #expect(counts.dozes == 1, "one sleep, cut short by news")
        #expect(counts.settles == 1, "the news was answered before the next sub-block")
    }

    @Test("snapshot reports chunk counts that add up")
    func snapshotCounts() throws {
        // The first chunk passes; every other sub-block waits at the gate: the job holds at one
        // chunk done and two in flight, however fast the kernel is.
        let gate = KernelGate { _, hi in hi <= 100_000 }
        let cluster = makeCluster(workers: 2, audit: false, kernel: gate.kernel)
        defer {
            gate.open()
            cluster.shutdown()
        }
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000, chunkSize: 100_000))
        #expect(gate.waitUntilHolding(2))
        let job = try #require(cluster.snapshot().job)
        #expect(job.chunksTotal == 100)
        #expect(job.chunksDone == 1)
        #expect(job.chunksInFlight == 2)
        #expect(job.chunksDone + job.chunksInFlight + job.chunksQueued == job.chunksTotal)
        #expect(job.progress > 0 && job.progress < 1)
        #expect(job.status == .running)
    }
}

@Suite("Compute priority")
struct ComputePriorityTests {
    @Test("worker threads sum in the lowest scheduling class, and other threads are left alone")
    func workersYield() throws {
        #if os(Linux)
        final class Seen: @unchecked Sendable { var lowered: Bool?; let lock = NSLock() }
        let seen = Seen()
        let cluster = makeCluster(workers: 1) { lo, hi in
            seen.lock.withLock { seen.lowered = ComputePriority.isLoweredForCurrentThread }
            return SumOfSquaresKernel.sum(lo, hi)
        }
        defer { cluster.shutdown() }
        let job = cluster.submit(try JobSpec(lo: 1, hi: 1000, chunkSize: 1000))
        #expect(try #require(cluster.waitForJob(job, timeout: 120)).verified)
        #expect(seen.lock.withLock { seen.lowered } == true)
        #expect(!ComputePriority.isLoweredForCurrentThread, "the test's own thread keeps its class")
        #endif
    }

    @Test("a worker thread waits for work in its own class, where the system lets it leave the lowest")
    func waitsForWorkInItsOwnClass() throws {
        #if os(Linux)
        final class Seen: @unchecked Sendable {
            var mayLeave = false, untouched = true, handedOn = false, waitingForWork = true, summingAgain = false
        }
        let seen = Seen()
        // Each probe runs on a fresh thread: a thread's class outlives the code that set it, and
        // threads inherit it.
        func onThread(_ body: @escaping @Sendable () -> Void) {
            let finished = DispatchSemaphore(value: 0)
            Thread {
                body()
                finished.signal()
            }.start()
            finished.wait()
        }
        // Whether this process may leave SCHED_IDLE at all (root or CAP_SYS_NICE may).
        onThread {
            guard let previous = ComputePriority.lowerCurrentThread() else { return }
            seen.mayLeave = ComputePriority.restoreCurrentThread(previous)
        }
        // A hold that was given no class leaves the thread's alone (a test's own thread may run
        // a chunk runner).
        onThread {
            let hold = CPUTokens.Hold(CPUTokens(count: 1, clock: .live))
            _ = hold.take()
            hold.giveBackBeforeWaiting()
            _ = hold.take()
            seen.untouched = !ComputePriority.isLoweredForCurrentThread
        }
        onThread {
            let hold = CPUTokens.Hold(CPUTokens(count: 1, clock: .live), normalClass: ComputePriority.lowerCurrentThread())
            _ = hold.take()
            hold.giveBack()
            seen.handedOn = ComputePriority.isLoweredForCurrentThread
            hold.giveBackBeforeWaiting()
            seen.waitingForWork = ComputePriority.isLoweredForCurrentThread
            _ = hold.take()
            seen.summingAgain = ComputePriority.isLoweredForCurrentThread
        }
        #expect(seen.untouched)
        #expect(seen.handedOn, "a token handed on for a turn keeps the lowest class")
        // Waking in the normal class is what lets a woken worker start at once (figure 6).
        #expect(seen.waitingForWork == !seen.mayLeave)
        #expect(seen.summingAgain, "the next token takes it down again")
        #endif
    }
}

@Suite("CPU tokens")
struct CPUTokenTests {
    @Test("no more threads sum at once than there are tokens, and every worker gets its turns")
    func boundedAndFair() throws {
        final class Overlap: @unchecked Sendable {
            let lock = NSLock()
            var now = 0, most = 0, blocks: [Int: Int] = [:]
        }
        let overlap = Overlap()
        let tokens = CPUTokens(count: 2, clock: .live)
        struct Quiet: ChunkControl {
            func hasNews() -> Bool { false }
            func settle(position: Int64, sum: UInt128, last: inout Int64, speed: inout Double) -> ChunkRunner.Verdict { .proceed }
            func publish(done: Int64, added: Int64) {}
            func doze(nanoseconds: Int) -> Bool { false }
        }
        let group = DispatchGroup()
        for worker in 0..<6 {
            // Each sub-block works a millisecond, so whoever else could run would overlap it.
            let runner = ChunkRunner(kernel: { lo, hi in
                overlap.lock.withLock {
                    overlap.now += 1
                    overlap.most = max(overlap.most, overlap.now)
                    overlap.blocks[worker, default: 0] += 1
                }
                let until = MonotonicClock.nanoseconds() + 1_000_000
                while MonotonicClock.nanoseconds() < until {}
                overlap.lock.withLock { overlap.now -= 1 }
                return SumOfSquaresKernel.sum(lo, hi)
            }, subBlock: 10, clock: .live, tokens: tokens)
            DispatchQueue.global().async(group: group) {
                var control = Quiet()
                let hold = CPUTokens.Hold(tokens)
                var throttle = Throttle()
                #expect(runner.run(1...100, speed: 1, control: &control, hold: hold, throttle: &throttle) == .finished(SumOfSquaresKernel.sum(1, 100)))
                hold.giveBack()
            }
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        #expect(overlap.most <= 2, "\(overlap.most) threads summed at once with 2 tokens")
        #expect(overlap.blocks.count == 6 && overlap.blocks.values.allSatisfy { $0 == 10 })
    }
}
