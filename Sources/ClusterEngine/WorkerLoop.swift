import Dispatch

/// The body of one local worker thread: claim work, run it through the chunk runner, hand it in.
///
/// Between sub-blocks the thread does one relaxed atomic load to see whether a controller changed
/// anything; only then does it take the engine lock. That keeps pause and kill within one
/// sub-block (well under a millisecond at full speed) while the hot loop stays free of shared state.
/// With tiny chunks it claims several at a visit and hands their results in together at the
/// next (see `ClusterConfiguration.localClaimAheadSeconds`), so the lock is not taken per chunk.
struct WorkerLoop {
    let cluster: Cluster
    let cell: WorkerCell
    let index: Int
    // Read once: copying the configuration (and its closure) per chunk shows up with tiny chunks.
    let runner: ChunkRunner

    init(cluster: Cluster, cell: WorkerCell, index: Int) {
        self.cluster = cluster
        self.cell = cell
        self.index = index
        runner = ChunkRunner(kernel: cluster.configuration.kernel, subBlock: cluster.configuration.subBlockSize,
                             clock: cluster.configuration.clock,
                             tokens: cluster.configuration.cpuTokens)
    }

    func run() {
        let hold = CPUTokens.Hold(runner.tokens, normalClass: ComputePriority.lowerCurrentThread())
        defer { hold.giveBack() }
        var control = LocalChunkControl(cluster: cluster, cell: cell, index: index)
        var throttle = Throttle()
        while true {
            guard let task = control.nextClaimed() else {
                switch control.visitEngine() {
                case .exit:
                    return
                case .wait:
                    hold.giveBackBeforeWaiting()
                    cell.wakeup.wait()
                case .run:
                    break
                }
                continue
            }
            switch runner.run(task.elements, speed: control.speed, control: &control, hold: hold, throttle: &throttle) {
            case .finished(let sum): control.hold(task.attempt, sum: sum, elements: task.elements.count64)
            case .abandoned, .quit: break  // killed or shut down: the engine knows already
            }
        }
    }
}

/// A local thread's side of the engine: the attempts it claimed, the results it has not handed in
/// yet, and its news (its control epoch moved), about which the engine decides under its lock.
struct LocalChunkControl: ChunkControl {
    let cluster: Cluster
    let cell: WorkerCell
    let index: Int
    /// Claimed at the last visit, in order; those from `nextIndex` on are not started yet.
    private var claimed: [AttemptTask] = []
    private var nextIndex = 0
    /// Finished since the last visit, in order.
    private var held: [HeldResult] = []
    /// The attempt being run.
    private var attempt = AttemptID(0)
    /// The control epoch as of the last visit.
    private var epoch: UInt64 = 0
    /// When the attempt being run was found whole; 0 until it is stamped (`stampHeld`).
    private var finishedNanos: UInt64 = 0
    /// The last moment a held result's finish time is measured from: the visit that claimed
    /// the batch, or the last stamped result.
    private var batchStartNanos: UInt64 = 0
    /// The speed the engine last gave.
    private(set) var speed: Double = 1

    init(cluster: Cluster, cell: WorkerCell, index: Int) {
        self.cluster = cluster
        self.cell = cell
        self.index = index
    }

    /// The next attempt claimed and not yet started, if any.
    mutating func nextClaimed() -> AttemptTask? {
        guard nextIndex < claimed.count else { return nil }
        let task = claimed[nextIndex]
        nextIndex += 1
        attempt = task.attempt
        return task
    }

    mutating func finished(at now: UInt64) { finishedNanos = now }

    /// Unstamped while more claimed attempts follow in this batch: the batch's last attempt, or
    /// the next hand-in, reads the clock, and the ones before are stamped in between.
    mutating func finishedUnstamped() -> Bool {
        guard nextIndex < claimed.count else { return false }
        finishedNanos = 0
        return true
    }

    /// Gives the held results found whole without a clock read their finish times: spread
    /// between the stamps around them in proportion to their elements (a batch lasts at most
    /// `localClaimAheadSeconds`, so none is off by more than that). The clock is read only to
    /// close a run of them that no stamp follows (the batch's last attempt was abandoned, or
    /// news came first); the batch's last attempt is stamped otherwise.
    private mutating func stampHeld() {
        var runStart = 0, from = batchStartNanos
        for index in held.indices where held[index].finishedNanos != 0 {
            spread(runStart..<index, from: from, to: held[index].finishedNanos, including: index)
            from = held[index].finishedNanos
            runStart = index + 1
        }
        if runStart < held.count { spread(runStart..<held.count, from: from, to: cluster.configuration.clock.now(), including: nil) }
    }

    /// Stamps `run`, unstamped, between `from` and `to`; the stamped result at `end` (if any)
    /// finished at `to`, so it takes its own share of the elements.
    private mutating func spread(_ run: Range<Int>, from: UInt64, to: UInt64, including end: Int?) {
        guard !run.isEmpty else { return }
        let total = held[run].reduce(0) { $0 + $1.elements } + (end.map { held[$0].elements } ?? 0)
        let span = to > from ? to - from : 0
        var elements: Int64 = 0
        for index in run {
            elements += held[index].elements
            held[index].finishedNanos = from + UInt64(Double(span) * Double(elements) / Double(max(1, total)))
        }
    }
    /// Keeps a finished attempt's result for the next visit, with the time it was found whole.
    mutating func hold(_ attempt: AttemptID, sum: UInt128, elements: Int64) {
        held.append(HeldResult(attempt: attempt, sum: sum, finishedNanos: finishedNanos, elements: elements))
    }

    enum Visit { case run, wait, exit }

    /// One lock acquisition hands in the results held and claims what comes next; the control
    /// epoch read under it is the one the claimed attempts start from.
    mutating func visitEngine() -> Visit {
        stampHeld()
        let results = held
        let index = index, cell = cell
        let (step, seen, now) = cluster.withState { s in
            if !results.isEmpty { s.handIn(worker: index, held: results) }
            // Read after the hand-in: it may have finished a job and started the next, and what
            // this visit claims of it must not start (nor its results be stamped) before it did.
            let now = cluster.configuration.clock.now()
            return (s.step(worker: index, now: now), cell.controlEpoch.load(ordering: .relaxed), now)
        }
        batchStartNanos = now
        held.removeAll(keepingCapacity: true)
        claimed.removeAll(keepingCapacity: true)
        nextIndex = 0
        epoch = seen
        switch step {
        case .exit:
            return .exit
        case .wait:
            return .wait
        case let .run(first, then):
            claimed.append(first)
            claimed.append(contentsOf: then)
            speed = first.speed
            return .run
        }
    }

    func hasNews() -> Bool { cell.controlEpoch.load(ordering: .acquiring) != epoch }

    /// Hands in the results held, then checks in, as a remote thread does, and waits while held;
    /// returns with the new speed and last element, or abandons the attempt if it is no longer the
    /// worker's. `position` and `sum` say how far it got, in case a thief splits its chunk.
    mutating func settle(position: Int64, sum: UInt128, last: inout Int64, speed: inout Double) -> ChunkRunner.Verdict {
        stampHeld()
        defer { batchStartNanos = cluster.configuration.clock.now() }  // a pause is no attempt's time
        while true {
            let results = held
            let (index, cell, attempt) = (index, cell, attempt)
            let notStarted = claimed[nextIndex...]
            let (answer, seen, stillMine) = cluster.withState { s in
                if !results.isEmpty { s.handIn(worker: index, held: results) }
                let answer = s.checkIn(worker: index, attempt: attempt, position: position, sum: sum)
                // Claimed attempts the engine took back meanwhile (a pause, a kill, an idle
                // worker's reclaim) are no longer this thread's; what it still holds is its
                // current attempt (a split may have handed this one over and made the next
                // current) and its queue.
                // One pass over each, under the lock: with 256 claimed, a search of the queue for
                // each claim was 65,000 comparisons at every check-in.
                let current = s.workers[index].current?.attempt
                var queued = Set<AttemptID>(minimumCapacity: s.workers[index].queue.count)
                for attempt in s.workers[index].queue { queued.insert(attempt.attempt) }
                let kept = notStarted.filter { $0.attempt == current || queued.contains($0.attempt) }
                return (answer, cell.controlEpoch.load(ordering: .relaxed), kept)
            }
            held.removeAll(keepingCapacity: true)
            epoch = seen
            if stillMine.count != notStarted.count {
                claimed.removeSubrange(nextIndex...)
                claimed.append(contentsOf: stillMine)
            }
            switch answer {
            case .abandon:
                return .abandon
            case .hold:
                cell.wakeup.wait()
            case let .proceed(newLast, newSpeed):
                (speed, last) = (newSpeed, newLast)
                self.speed = newSpeed
                return .proceed
            }
        }
    }

    func publish(done: Int64, added: Int64) {
        cell.attemptProgress.store(done, ordering: .relaxed)
        cell.processed.store(cell.processed.load(ordering: .relaxed) &+ UInt64(added), ordering: .relaxed)
    }

    func doze(nanoseconds: Int) -> Bool {
        cell.wakeup.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success
    }
}
