import Dispatch

/// The body of one worker thread: take a chunk, sum it sub-block by sub-block, hand it in.
///
/// Between sub-blocks the thread does one relaxed atomic load to see whether a controller changed
/// anything; only then does it take the engine lock. That keeps pause and kill within one
/// sub-block (well under a millisecond at full speed) while the hot loop stays free of shared state.
struct WorkerLoop {
    let cluster: Cluster
    let cell: WorkerCell
    let index: Int
    // Read once: copying the configuration (and its closure) per chunk shows up with tiny chunks.
    let kernel: @Sendable (Int64, Int64) -> UInt128
    let subBlock: Int64

    init(cluster: Cluster, cell: WorkerCell, index: Int) {
        self.cluster = cluster
        self.cell = cell
        self.index = index
        kernel = cluster.configuration.kernel
        subBlock = cluster.configuration.subBlockSize
    }

    func run() {
        var finished: (attempt: AttemptID, sum: UInt128)?
        while true {
            // One lock acquisition and one clock read hand in the previous result and take the
            // next chunk.
            let step = cluster.withState { s -> WorkerStep in
                let now = MonotonicClock.nanoseconds()
                if let finished { s.complete(worker: index, attempt: finished.attempt, sum: finished.sum, now: now) }
                return s.nextStep(worker: index, now: now)
            }
            finished = nil
            switch step {
            case .exit:
                return
            case .wait:
                cell.wakeup.wait()
            case .run(let task):
                finished = execute(task).map { (task.attempt, $0) }
            }
        }
    }

    /// Sums the task's elements; nil if the attempt was taken away (killed or shut down).
    private func execute(_ task: WorkerTask) -> UInt128? {
        var sum: UInt128 = 0
        var next = task.elements.lowerBound
        var last = task.elements.upperBound
        var done: Int64 = 0
        var epoch = task.epoch
        var speed = task.speed
        var throttle = Throttle()
        while true {
            if cell.controlEpoch.load(ordering: .acquiring) != epoch {
                guard let update = awaitPermission(for: task.attempt, at: next, sum: sum) else {
                    return nil
                }
                (epoch, speed, last) = update
            }
            let blockLast = last - next < subBlock ? last : next + subBlock - 1
            let started = speed < 1 ? MonotonicClock.nanoseconds() : 0
            sum &+= kernel(next, blockLast)
            let count = blockLast - next + 1
            done += count
            cell.attemptProgress.store(done, ordering: .relaxed)
            cell.processed.store(cell.processed.load(ordering: .relaxed) &+ UInt64(count), ordering: .relaxed)
            if blockLast == last { return sum }
            next = blockLast + 1
            if speed < 1 {
                throttle.sleep(afterWorking: MonotonicClock.nanoseconds() - started, speed: speed, on: cell)
            }
        }
    }

    /// Reads the control state after a change: waits while paused, and returns the new epoch,
    /// speed and last element, or nil if this attempt is no longer the worker's. `position` and
    /// `sum` say how far it got, in case a thief splits its chunk.
    private func awaitPermission(for attempt: AttemptID, at position: Int64, sum: UInt128) -> (UInt64, Double, Int64)? {
        while true {
            switch cluster.withState({ $0.controlCheck(worker: index, attempt: attempt, position: position, sum: sum) }) {
            case .abandon:
                return nil
            case .pause:
                cell.wakeup.wait()
            case let .proceed(epoch, speed, last):
                return (epoch, speed, last)
            }
        }
    }
}

/// Makes a worker run at a fraction of its speed by sleeping in proportion to the time it works.
/// Sleeps are batched to at least a millisecond and can be cut short by a control change.
struct Throttle {
    private var owedNanos: Int64 = 0

    mutating func sleep(afterWorking workedNanos: UInt64, speed: Double, on cell: WorkerCell) {
        owedNanos += Int64(Double(workedNanos) * (1 / speed - 1))
        guard owedNanos >= 1_000_000 else { return }
        let start = MonotonicClock.nanoseconds()
        // A poke (pause, kill, speed change) signals the semaphore and ends the sleep early;
        // the epoch check that follows sees why.
        if cell.wakeup.wait(timeout: .now() + .nanoseconds(Int(owedNanos))) == .success {
            owedNanos = 0
            return
        }
        owedNanos -= Int64(MonotonicClock.nanoseconds() - start)
        owedNanos = max(owedNanos, -10_000_000)
    }
}
