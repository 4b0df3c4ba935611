import Dispatch

/// The body of one local worker thread: take a chunk, run it through the chunk runner, hand it in.
///
/// Between sub-blocks the thread does one relaxed atomic load to see whether a controller changed
/// anything; only then does it take the engine lock. That keeps pause and kill within one
/// sub-block (well under a millisecond at full speed) while the hot loop stays free of shared state.
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
                             tokens: cluster.configuration.cpuTokens)
    }

    func run() {
        ComputePriority.lowerCurrentThread()
        let hold = CPUTokens.Hold(runner.tokens)
        defer { hold.giveBack() }
        var finished: (attempt: AttemptID, sum: UInt128)?
        var throttle = Throttle()
        while true {
            // One lock acquisition hands in the previous result and takes the next chunk; the
            // control epoch read under it is the one the attempt starts from.
            let (step, epoch) = cluster.withState { s in
                (s.step(worker: index, finished: finished), cell.controlEpoch.load(ordering: .relaxed))
            }
            finished = nil
            switch step {
            case .exit:
                return
            case .wait:
                hold.giveBack()
                cell.wakeup.wait()
            case .run(let task, _):
                // A local thread keeps no queue: it is given exactly one attempt.
                var control = LocalChunkControl(cluster: cluster, cell: cell, index: index, attempt: task.attempt,
                                                epoch: epoch)
                switch runner.run(task.elements, speed: task.speed, control: &control, hold: hold, throttle: &throttle) {
                case .finished(let sum): finished = (task.attempt, sum)
                case .dropped, .quit: break  // killed or shut down: the engine knows already
                }
            }
        }
    }
}

/// A local thread's news: its control epoch moved. The engine decides under its lock.
struct LocalChunkControl: ChunkControl {
    let cluster: Cluster
    let cell: WorkerCell
    let index: Int
    let attempt: AttemptID
    var epoch: UInt64

    func hasNews() -> Bool { cell.controlEpoch.load(ordering: .acquiring) != epoch }

    /// Checks in, as a remote thread does, and waits while held; returns with the new speed and
    /// last element, or drops the attempt if it is no longer the worker's. `position` and `sum`
    /// say how far it got, in case a thief splits its chunk.
    mutating func settle(position: Int64, sum: UInt128, last: inout Int64, speed: inout Double) -> ChunkRunner.Verdict {
        while true {
            let (answer, seen) = cluster.withState { s in
                (s.checkIn(worker: index, attempt: attempt, position: position, sum: sum),
                 cell.controlEpoch.load(ordering: .relaxed))
            }
            epoch = seen
            switch answer {
            case .abandon:
                return .drop
            case .hold:
                cell.wakeup.wait()
            case let .proceed(newLast, newSpeed):
                (speed, last) = (newSpeed, newLast)
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
