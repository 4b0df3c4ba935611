import BigInt
import Synchronization
import Testing
@testable import ClusterEngine

/// Counts the engine's wake-ups of a remote worker, as its network session would receive them.
final class WakeCounter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    var wake: @Sendable () -> Void { { [self] in count.add(1, ordering: .relaxed) } }
}

/// Drives remote workers through the engine's remote API by hand, the way a network session
/// does, so every interleaving below is exact rather than timed.
@Suite("Remote workers in the engine")
struct RemoteWorkerTests {
    let cluster: Cluster

    init() {
        var configuration = ClusterConfiguration()
        configuration.auditsAcceptedChunks = true
        configuration.subBlockSize = 1 << 10
        // Queues of 4 M elements: four chunks of 1 M, all ten chunks of 100 K; by elements
        // always, not by the pace the clock would measure between these calls.
        configuration.remoteQueueElements = 4_000_000
        configuration.remoteQueueSeconds = 0
        cluster = Cluster(configuration: configuration)
    }

    func join(_ thread: Int = 0, wakes: WakeCounter = WakeCounter()) throws -> RemoteWorkerHandle {
        try #require(cluster.addRemoteWorker(RemoteWorkerInfo(host: "node-\(thread)", pid: 4242, thread: thread),
                                             onWake: wakes.wake))
    }

    /// The attempts a step appends to the thread's queue; a test failure if it gives none.
    func tasks(_ step: WorkerStep) throws -> [AttemptTask] {
        let tasks = step.tasks
        guard !tasks.isEmpty else {
            Issue.record("expected work, got \(step)")
            throw CancellationError()
        }
        return tasks
    }

    /// The attempt a step starts the thread on (the first of those it sends).
    func task(_ step: WorkerStep) throws -> AttemptTask { try tasks(step)[0] }

    /// Sums a task the way a remote thread would.
    func sum(_ task: AttemptTask) -> UInt128 { SumOfSquaresKernel.sum(task.elements.lowerBound, task.elements.upperBound) }

    /// Runs `id`'s queue, in order, until it has nothing more to do; returns the attempts it
    /// completed.
    @discardableResult
    func drain(_ id: RemoteWorkerHandle, after first: WorkerStep? = nil) throws -> Int {
        var step = first ?? cluster.step(id)
        var queue: [AttemptTask] = []
        var done = 0
        while true {
            queue += step.tasks
            guard !queue.isEmpty else { return done }
            let task = queue.removeFirst()
            step = cluster.step(id, finished: (task.attempt, sum(task)))
            done += 1
        }
    }

    @Test("a remote worker's results add up to the exact, verified total")
    func exactTotal() throws {
        let id = try join()
        let job = cluster.submit(try JobSpec(lo: -3_000, hi: 50_000, chunkSize: 997))
        #expect(try drain(id) == 54)
        let summary = try #require(cluster.summary(of: job))
        #expect(summary.verified)
        #expect(BigInt(summary.total) == ClosedForm.sumOfSquares(-3_000, 50_000))
        let row = try #require(cluster.snapshot().workers.first)
        #expect(row.remote == RemoteWorkerInfo(host: "node-0", pid: 4242, thread: 0))
        #expect(row.chunksDone == 54)
        #expect(cluster.events(after: 0).contains { $0.kind == .remoteWorkerJoined(id.id, host: "node-0", pid: 4242, thread: 0, kernel: "") })
    }

    @Test("killing a remote worker re-queues its chunk; its late result is discarded and counted")
    func killFencesTheLateResult() throws {
        let wakes = WakeCounter()
        let victim = try join(0, wakes: wakes)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 10_000, chunkSize: 1_000))
        let held = try task(cluster.step(victim))
        let wakesBefore = wakes.value
        #expect(cluster.kill(victim.id))
        #expect(wakes.value > wakesBefore, "the session must hear of the kill to tell the thread")
        #expect(cluster.remoteStatus(victim)?.current == nil)
        #expect(cluster.remoteStatus(victim)?.state == .dead)
        // The result was already on the wire when the kill happened.
        #expect(cluster.step(victim, finished: (held.attempt, sum(held))) == .wait)
        let rescuer = try join(1)
        try drain(rescuer)
        let summary = try #require(cluster.summary(of: job))
        #expect(summary.verified)
        #expect(summary.staleResults == 1)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<10), "every chunk counted exactly once")
        #expect(cluster.events(after: 0).contains {
            $0.kind == .chunkRedistributed(chunk: held.chunk, from: victim.id, to: rescuer.id)
        })
    }

    @Test("a lapsed lease re-queues the chunk; heard from again, the worker returns and its late result is fenced off")
    func leaseExpiry() throws {
        let sleeper = try join(0)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 8_000, chunkSize: 1_000))
        let held = try task(cluster.step(sleeper))
        cluster.remoteLost(sleeper, .leaseExpired(silence: 1.25))
        let status = try #require(cluster.remoteStatus(sleeper))
        #expect(status.state == .dead && status.leaseLost && status.current == nil)
        #expect(cluster.step(sleeper) == .wait, "no work for a worker that lost its lease")
        #expect(cluster.events(after: 0).contains { $0.kind == .leaseExpired(sleeper.id, chunk: held.chunk, silence: 1.25) })
        #expect(cluster.snapshot().workers[0].leaseLost)

        // It wakes up (SIGCONT) and its first words are the late result.
        #expect(cluster.remoteHeardFrom(sleeper))
        #expect(!cluster.remoteHeardFrom(sleeper), "only once")
        let next = cluster.step(sleeper, finished: (held.attempt, sum(held)))
        try drain(sleeper, after: next)
        let summary = try #require(cluster.summary(of: job))
        #expect(summary.verified)
        #expect(summary.staleResults == 1)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<8))
        #expect(cluster.events(after: 0).contains { $0.kind == .remoteWorkerReturned(sleeper.id) })
    }

    @Test("a user's kill is not undone by the worker being heard from")
    func killedStaysDead() throws {
        let id = try join()
        #expect(cluster.kill(id.id))
        #expect(!cluster.remoteHeardFrom(id))
        #expect(cluster.remoteStatus(id)?.state == .dead)
        #expect(cluster.restart(id.id))
        #expect(cluster.remoteStatus(id)?.state == .idle)
    }

    @Test("a dropped connection re-queues the chunk at once and removes the worker")
    func disconnect() throws {
        let gone = try join(0)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 5_000, chunkSize: 1_000))
        let held = try task(cluster.step(gone))
        cluster.remoteLost(gone, .disconnected)
        #expect(cluster.remoteStatus(gone)?.state == .removed)
        #expect(cluster.step(gone) == .exit)
        #expect(cluster.events(after: 0).contains { $0.kind == .remoteWorkerDisconnected(gone.id, chunk: held.chunk) })
        try drain(try join(1))
        #expect(try #require(cluster.summary(of: job)).verified)
    }

    @Test("pause holds a remote thread where it checks in; resume and throttle let it proceed")
    func pauseResumeThrottle() throws {
        let wakes = WakeCounter()
        let id = try join(0, wakes: wakes)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 4_000, chunkSize: 4_000))
        let held = try task(cluster.step(id))
        let middle = held.elements.lowerBound + 1_500
        let partial = SumOfSquaresKernel.sum(held.elements.lowerBound, middle - 1)

        #expect(cluster.pause(id.id))
        #expect(wakes.value >= 1)
        #expect(cluster.checkIn(id, attempt: held.attempt, position: middle, sum: partial) == .hold)
        #expect(cluster.snapshot().workers[0].state == .paused)
        #expect(cluster.resume(id.id))
        #expect(cluster.checkIn(id, attempt: held.attempt, position: middle, sum: partial)
                == .proceed(last: held.elements.upperBound, speed: 1))
        #expect(cluster.setSpeed(id.id, to: 0.25))
        #expect(cluster.checkIn(id, attempt: held.attempt, position: middle, sum: partial)
                == .proceed(last: held.elements.upperBound, speed: 0.25))
        // A check-in for an attempt that is not current is told to drop it.
        #expect(cluster.checkIn(id, attempt: AttemptID(held.attempt.rawValue + 99), position: middle, sum: 0) == .abandon)
        _ = cluster.step(id, finished: (held.attempt, sum(held)))
        #expect(try #require(cluster.summary(of: job)).verified)
    }

    @Test("under stealing, a paused remote worker hands in what it did and a thief takes the rest")
    func stealingFromPausedRemote() throws {
        let slowWakes = WakeCounter()
        let paused = try join(0, wakes: slowWakes)
        let thief = try join(1)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 200_000, chunkSize: 100_000, schedule: .stealing))
        let pausedTask = try task(cluster.step(paused))
        let thiefTask = try task(cluster.step(thief))
        let position = pausedTask.elements.lowerBound + 30_000
        let partial = SumOfSquaresKernel.sum(pausedTask.elements.lowerBound, position - 1)
        #expect(cluster.pause(paused.id))
        #expect(cluster.checkIn(paused, attempt: pausedTask.attempt, position: position, sum: partial) == .hold)

        // The thief finishes its own chunk and finds nothing left: it asks the paused one to split.
        let wakesBefore = slowWakes.value
        #expect(cluster.step(thief, finished: (thiefTask.attempt, sum(thiefTask))) == .wait)
        #expect(slowWakes.value > wakesBefore, "the victim's session is woken to split")
        // The session answers the wake with the position it knows the thread is parked at.
        #expect(cluster.checkIn(paused, attempt: pausedTask.attempt, position: position, sum: partial) == .abandon)
        let rest = try task(cluster.step(thief))
        #expect(rest.elements == position...pausedTask.elements.upperBound)
        _ = cluster.step(thief, finished: (rest.attempt, sum(rest)))
        let summary = try #require(cluster.summary(of: job))
        #expect(summary.verified)
        #expect(summary.chunksSplit == 1)
        #expect(summary.acceptedChunks?.sorted() == [0, 1])
    }

    @Test("removal releases an idle remote thread and lets a busy one finish first")
    func removal() throws {
        let busy = try join(0)
        let idle = try join(1)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 1_000, chunkSize: 1_000))
        let held = try task(cluster.step(busy))
        #expect(cluster.step(idle) == .wait)
        #expect(cluster.remove(idle.id))
        #expect(cluster.step(idle) == .exit)
        #expect(cluster.remove(busy.id))
        #expect(cluster.step(busy, finished: (held.attempt, sum(held))) == .exit)
        #expect(try #require(cluster.summary(of: job)).verified)
    }

    @Test("a remote worker gets attempts queued ahead; paused, it gives back those behind the one it checks in from")
    func queueAndGiveBack() throws {
        let paused = try join(0)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 1_000_000, chunkSize: 100_000))
        let tasks = try self.tasks(cluster.step(paused))
        #expect(tasks.map(\.chunk) == Array(0..<10), "the current attempt and nine queued behind it")
        #expect(cluster.remoteStatus(paused)?.queued == tasks.dropFirst().map(\.attempt))
        #expect(cluster.snapshot().job?.chunksInFlight == 1, "queued attempts are not in flight")

        // Its thread may be past what the controller saw: the queue stays until it checks in.
        #expect(cluster.pause(paused.id))
        #expect(cluster.remoteStatus(paused)?.queued == tasks.dropFirst().map(\.attempt))
        // Results it held back while the pause was on its way count, paused or not...
        #expect(cluster.step(paused, finished: (tasks[0].attempt, sum(tasks[0]))) == .wait)
        #expect(cluster.step(paused, finished: (tasks[1].attempt, sum(tasks[1]))) == .wait)
        #expect(cluster.remoteStatus(paused)?.current == tasks[2].attempt)
        // ...and stopped inside its third attempt, it keeps that one and gives back the rest.
        #expect(cluster.checkIn(paused, attempt: tasks[2].attempt, position: tasks[2].elements.lowerBound + 10, sum: 0) == .hold)
        #expect(cluster.remoteStatus(paused)?.queued == [])
        #expect(cluster.snapshot().workers[0].assignment?.chunk == 2, "the paused row keeps its chunk")
        let other = try join(1)
        #expect(try drain(other) == 7)
        #expect(cluster.resume(paused.id))
        // A result for a queued attempt that was given back is stale.
        _ = cluster.step(paused, finished: (tasks[3].attempt, sum(tasks[3])))
        _ = cluster.step(paused, finished: (tasks[2].attempt, sum(tasks[2])))
        let summary = try #require(cluster.summary(of: job))
        #expect(summary.verified)
        #expect(summary.chunksRequeued == 0, "given back untouched is not a re-queue")
        #expect(summary.staleResults == 1)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<10))
    }

    @Test("a redo queued on a remote worker and given back counts as one redo when it is taken again")
    func redoGivenBackCountsOnce() throws {
        let crashed = try join(0), queuing = try join(1)
        // Chunks of 1 M: each remote worker queues four behind its current one.
        let job = cluster.submit(try JobSpec(lo: 1, hi: 20_000_000, chunkSize: 1_000_000))
        let lost = try task(cluster.step(crashed))
        let initial = try tasks(cluster.step(queuing))
        try #require(initial.count == 5)
        #expect(cluster.kill(crashed.id))
        // Its next refill queues the lost chunk behind its current one.
        let refill = try tasks(cluster.step(queuing, finished: (initial[0].attempt, sum(initial[0]))))
        #expect(refill.contains { $0.chunk == lost.chunk })
        #expect(cluster.snapshot().job?.chunksRedone == 1)
        // Paused, it gives the queue back when it checks in, and another worker redoes the
        // lost chunk.
        #expect(cluster.pause(queuing.id))
        #expect(cluster.checkIn(queuing, attempt: initial[1].attempt, position: initial[1].elements.lowerBound, sum: 0) == .hold)
        let rescuer = try join(2)
        try drain(rescuer)
        #expect(cluster.snapshot().job?.chunksRedone == 1, "one lost chunk, redone once")
        #expect(cluster.snapshot().job?.chunksRequeued == 1)
        #expect(cluster.resume(queuing.id))
        _ = cluster.step(queuing, finished: (initial[1].attempt, sum(initial[1])))
        let summary = try #require(cluster.summary(of: job))
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<20))
    }

    @Test("a worker with nothing to do takes back the last attempt queued on another")
    func idleWorkerReclaims() throws {
        let busy = try join(0)
        let job = cluster.submit(try JobSpec(lo: 1, hi: 400_000, chunkSize: 100_000))
        let tasks = try self.tasks(cluster.step(busy))
        #expect(tasks.count == 4)
        let idle = try join(1)
        let taken = try task(cluster.step(idle))
        #expect(taken.chunk == 3, "the one furthest from starting")
        #expect(cluster.remoteStatus(busy)?.queued == tasks[1...2].map(\.attempt))
        // Done, it is idle again and takes queued attempts back one by one while any are left.
        let alsoTaken = try drain(idle, after: cluster.step(idle, finished: (taken.attempt, sum(taken))))
        #expect(alsoTaken >= 1)
        #expect(cluster.remoteStatus(busy)?.queued.count == 2 - alsoTaken)
        for task in tasks { _ = cluster.step(busy, finished: (task.attempt, sum(task))) }
        let summary = try #require(cluster.summary(of: job))
        #expect(summary.verified)
        // Every result of a taken-back attempt came too late. Some arrive after the job
        // finished, so count them on the cluster, not the job.
        #expect(cluster.snapshot().staleResults == 1 + alsoTaken)
        #expect(summary.acceptedChunks?.sorted() == [0, 1, 2, 3])
    }

    @Test("a process that reconnects gets its rows back, counts, speed and pause kept; the old session's handle is void")
    func reconnectingProcessGetsItsRowsBack() throws {
        let job = cluster.submit(try JobSpec(lo: 1, hi: 4_000_000, chunkSize: 1_000_000))
        func join(_ thread: Int, instance: UInt64) -> RemoteWorkerHandle? {
            cluster.addRemoteWorker(RemoteWorkerInfo(host: "laptop", pid: 77, thread: thread, instance: instance), onWake: {})
        }
        let old = try [0, 1].map { try #require(join($0, instance: 7)) }
        // Thread 0 finishes a chunk and holds the next; thread 1 is throttled and paused.
        let sent = try tasks(cluster.step(old[0]))
        let (first, held) = (sent[0], sent[1])
        _ = cluster.step(old[0], finished: (first.attempt, sum(first)))
        #expect(cluster.setSpeed(old[1].id, to: 0.5) && cluster.pause(old[1].id))
        // Thread 0's connection goes silent; the process reconnects before the old session ends.
        cluster.remoteLost(old[0], .leaseExpired(silence: 2))
        let new = try [0, 1].map { try #require(join($0, instance: 7)) }
        #expect(new.map(\.id) == old.map(\.id), "the same rows")
        #expect(new != old, "under a new session")
        let rows = cluster.snapshot().workers
        #expect(rows.count == 2)
        #expect(rows[0].state == .idle && rows[0].chunksDone == 1)
        #expect(rows[1].state == .paused && rows[1].speed == 0.5)
        let events = cluster.events(after: 0).map(\.kind)
        #expect(events.contains(.remoteWorkerRejoined(old[0].id, host: "laptop", pid: 77, thread: 0, unencryptedFrom: nil)))
        #expect(events.contains(.remoteWorkerDisconnected(old[1].id, chunk: nil)), "thread 1's old connection is over")

        // The old session, still running somewhere, can no longer touch the rows.
        #expect(cluster.remoteStatus(old[0]) == nil)
        #expect(cluster.step(old[0], finished: (held.attempt, sum(held))) == .exit)
        #expect(cluster.checkIn(old[0], attempt: held.attempt, position: held.elements.lowerBound, sum: 0) == .abandon)
        cluster.remoteLost(old[0], .disconnected)
        #expect(!cluster.remoteHeardFrom(old[0]))
        #expect(cluster.snapshot().workers[0].state == .idle, "its end did not remove the row")
        #expect(cluster.snapshot().staleResults == 0, "nothing from the old session was counted at all")

        // Another process on the same host with the same pid (a restart) gets new rows; so does
        // one that does not say which process it is.
        #expect(join(0, instance: 8)?.id == WorkerID(3))
        #expect(join(0, instance: 0)?.id == WorkerID(4))

        // The rows taken back finish the job, the held chunk among them.
        #expect(cluster.resume(old[1].id))
        try drain(new[0])
        try drain(new[1])
        for extra in [WorkerID(3), WorkerID(4)] { #expect(cluster.remove(extra)) }
        let summary = try #require(cluster.summary(of: job))
        #expect(summary.verified && summary.acceptedChunks?.sorted() == [0, 1, 2, 3])
    }

    @Test("the worker limit counts live workers: machines that leave free their places; the table keeps the removed rows until their place is needed, while ids grow")
    func limitCountsLiveWorkers() throws {
        var configuration = ClusterConfiguration()
        configuration.maxWorkers = 3
        configuration.maxWorkerRecords = 5
        let small = Cluster(configuration: configuration)
        defer { small.shutdown() }
        func join(_ n: Int) -> RemoteWorkerHandle? { small.addRemoteWorker(RemoteWorkerInfo(host: "node", pid: Int32(n), thread: 0), onWake: {}) }
        let first = try (1...3).map { try #require(join($0)) }
        #expect(join(4) == nil, "three alive: full")
        small.remoteLost(first[0], .disconnected)
        small.remoteLost(first[1], .disconnected)
        let fourth = try #require(join(4), "two left: two places")
        #expect(fourth.id == WorkerID(4), "new ids: the rows of those that left stay for the record")
        #expect(join(5)?.id == WorkerID(5))
        #expect(join(6) == nil, "three alive again")
        small.remoteLost(fourth, .disconnected)
        // The table is full (five rows): the row removed longest ago (worker 1's) is freed.
        let sixth = try #require(join(6), "a machine that left frees its row, for ever")
        #expect(sixth.id == WorkerID(6))
        var ids = small.snapshot().workers.map(\.id.rawValue)
        #expect(ids == [2, 3, 4, 5, 6], "worker 1's row went to worker 6; rows in id order")
        #expect(small.step(WorkerID(1)) == .exit, "worker 1's id no longer finds the row it had")
        #expect(small.step(WorkerID(6)) == .wait, "worker 6 has it, and no job to run")
        // Hundreds more come and go: ids grow, the table does not.
        var last = sixth
        for n in 7...500 {
            small.remoteLost(last, .disconnected)
            last = try #require(join(n), "join \(n)")
        }
        ids = small.snapshot().workers.map(\.id.rawValue)
        #expect(ids.count == 5 && ids.last == 500)
        #expect(small.snapshot().workers.filter { $0.state != .removed }.map(\.id.rawValue) == [3, 5, 500])
    }

    @Test("a host may hold so many live threads: past that its processes are refused, other hosts still join, and a rejoining process is no newcomer")
    func hostLimit() throws {
        var configuration = ClusterConfiguration()
        configuration.maxRemoteWorkersPerHost = 4
        let cluster = Cluster(configuration: configuration)
        defer { cluster.shutdown() }
        func infos(_ address: String, pid: Int32, threads: Int, instance: UInt64) -> [RemoteWorkerInfo] {
            (0..<threads).map { RemoteWorkerInfo(host: "h", pid: pid, thread: $0, instance: instance, address: address) }
        }
        let first = try cluster.addRemoteWorkers(infos("10.0.0.7", pid: 1, threads: 3, instance: 11), onWake: { _ in }).get()
        #expect(cluster.addRemoteWorkers(infos("10.0.0.7", pid: 2, threads: 2, instance: 12), onWake: { _ in })
                == .failure(.hostLimit(address: "10.0.0.7", live: 3, limit: 4)), "all or none")
        #expect(cluster.snapshot().workers.count == 3, "nothing of the refused process stays")
        #expect(try cluster.addRemoteWorkers(infos("10.0.0.8", pid: 3, threads: 4, instance: 13), onWake: { _ in }).get().count == 4)
        // The first process reconnects: its rows come back, which takes no place of anyone's.
        let again = try cluster.addRemoteWorkers(infos("10.0.0.7", pid: 1, threads: 3, instance: 11), onWake: { _ in }).get()
        #expect(again.map(\.id) == first.map(\.id))
        // It leaves: its places are free again.
        for handle in again { cluster.remoteLost(handle, .disconnected) }
        #expect(try cluster.addRemoteWorkers(infos("10.0.0.7", pid: 2, threads: 4, instance: 12), onWake: { _ in }).get().count == 4)
    }

    @Test("shutdown releases remote threads")
    func shutdownReleases() throws {
        let id = try join()
        cluster.shutdown()
        #expect(cluster.step(id) == .exit)
        #expect(cluster.addRemoteWorker(RemoteWorkerInfo(host: "late", pid: 1, thread: 0), onWake: {}) == nil)
    }
}
