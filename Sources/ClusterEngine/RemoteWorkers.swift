/// Workers in other processes. The engine treats them like its own threads: the same records,
/// the same scheduling, fencing, pause, kill, split and removal. Only the driving differs. A
/// local thread calls into the engine between sub-blocks; a remote worker's network session
/// makes the same calls on its behalf when a message arrives, and is woken through `onWake`
/// where a thread would be woken through its semaphore.

/// Where a remote worker runs, for its dashboard row and the event log.
public struct RemoteWorkerInfo: Sendable, Equatable {
    public let host: String
    public let pid: Int32
    /// The thread's index in its process, from 0.
    public let thread: Int

    public init(host: String, pid: Int32, thread: Int) {
        self.host = host
        self.pid = pid
        self.thread = thread
    }

    /// "host:pid/thread", as the dashboard shows it.
    public var label: String { "\(host):\(pid)/\(thread)" }
}

/// What a remote worker's thread should do next.
public enum RemoteStep: Sendable, Equatable {
    /// Append these attempts to the thread's queue, in order.
    case run([RemoteTask])
    /// Nothing to do now; the session is woken when that changes.
    case wait
    /// The worker is removed or the cluster is shutting down: release the thread.
    case exit
}

/// A chunk attempt handed to a remote thread.
public struct RemoteTask: Sendable, Equatable {
    public let attempt: AttemptID
    public let chunk: Int64
    public let elements: ClosedRange<Int64>
    public let speed: Double
}

/// The answer to a remote thread that stopped to check in.
public enum RemoteControl: Sendable, Equatable {
    case proceed(last: Int64, speed: Double)
    /// Paused: stay stopped where you are.
    case hold
    /// The attempt is no longer yours: drop it without a result.
    case abandon
}

/// How the engine sees a remote worker, for its session to decide what to tell the thread.
public struct RemoteWorkerStatus: Sendable, Equatable {
    public let state: WorkerState
    public let current: AttemptID?
    /// Attempts queued behind the current one, in order.
    public let prefetched: [AttemptID]
    public let leaseLost: Bool
}

/// Why a remote worker stopped counting.
public enum RemoteLoss: Sendable, Equatable {
    /// Nothing was heard from it for `silence` seconds. It is dead until it is heard from again.
    case leaseExpired(silence: Double)
    /// Its connection ended. It is removed; a process that reconnects gets new worker ids.
    case disconnected
}

extension Cluster {
    /// Adds a worker whose thread runs in another process. `onWake` is called, with the engine
    /// lock held, whenever the worker should look for work or at its control state.
    public func addRemoteWorker(_ info: RemoteWorkerInfo, onWake: @escaping @Sendable () -> Void) -> WorkerID? {
        withState { s in
            guard !s.isShuttingDown, s.workers.count < configuration.maxWorkers else { return nil }
            let cell = WorkerCell(id: WorkerID(s.workers.count + 1), onWake: onWake)
            s.workers.append(WorkerRecord(cell: cell, speed: 1, remote: info))
            s.log(.remoteWorkerJoined(cell.id, host: info.host, pid: info.pid, thread: info.thread))
            return cell.id
        }
    }

    /// Hands in `finished` (if any) and decides what the thread does next, in one lock: new
    /// attempts to append to its queue (the first becomes current if it had none), nothing new,
    /// or release.
    public func remoteStep(_ id: WorkerID, finished: (attempt: AttemptID, sum: UInt128)? = nil) -> RemoteStep {
        withState { s in
            guard let i = s.index(of: id) else { return .exit }
            let now = MonotonicClock.nanoseconds()
            if let finished { s.complete(worker: i, attempt: finished.attempt, sum: finished.sum, now: now) }
            if s.isShuttingDown { return .exit }
            var tasks: [RemoteTask] = []
            let speed = s.workers[i].speed
            if s.workers[i].current == nil {
                switch s.nextStep(worker: i, now: now) {
                case .exit: return .exit
                case .wait: return .wait
                case .run(let task):
                    tasks.append(RemoteTask(attempt: task.attempt, chunk: s.workers[i].current!.chunk,
                                            elements: task.elements, speed: speed))
                }
            }
            tasks += s.refillPrefetched(worker: i).map {
                RemoteTask(attempt: $0.attempt, chunk: $0.chunk, elements: $0.elements, speed: speed)
            }
            return tasks.isEmpty ? .wait : .run(tasks)
        }
    }

    /// A result for an attempt the thread had already been told to drop: fenced off and counted.
    public func remoteDiscardResult(_ id: WorkerID, attempt: AttemptID) {
        withState { s in
            guard let i = s.index(of: id), s.workers[i].current?.attempt != attempt else { return }
            s.discardStale(worker: i, attempt: attempt)
        }
    }

    /// A remote thread stopped at `position` with `sum` of its attempt's elements before it.
    public func remoteCheckIn(_ id: WorkerID, attempt: AttemptID, position: Int64, sum: UInt128) -> RemoteControl {
        withState { s in
            guard let i = s.index(of: id) else { return .abandon }
            switch s.controlCheck(worker: i, attempt: attempt, position: position, sum: sum) {
            case .abandon: return .abandon
            case .pause: return .hold
            case let .proceed(_, speed, last): return .proceed(last: last, speed: speed)
            }
        }
    }

    /// Publishes a heartbeat's progress: elements done in `attempt`, and ever summed (nil when
    /// the message did not say).
    public func remoteProgress(_ id: WorkerID, attempt: AttemptID?, done: Int64, processed: UInt64?) {
        withState { s in
            guard let i = s.index(of: id) else { return }
            let cell = s.workers[i].cell
            if let processed { cell.processed.store(processed, ordering: .relaxed) }
            if let attempt, s.workers[i].current?.attempt == attempt {
                cell.attemptProgress.store(done, ordering: .relaxed)
            }
        }
    }

    public func remoteStatus(_ id: WorkerID) -> RemoteWorkerStatus? {
        withState { s in
            s.index(of: id).map { i in
                RemoteWorkerStatus(state: s.workers[i].phase.state, current: s.workers[i].current?.attempt,
                                   prefetched: s.workers[i].prefetched.map(\.attempt), leaseLost: s.workers[i].phase.leaseLost)
            }
        }
    }

    /// The worker's lease expired or its connection ended: its chunk is re-queued at once.
    public func remoteLost(_ id: WorkerID, _ loss: RemoteLoss) {
        withState { s in
            guard let i = s.index(of: id) else { return }
            switch loss {
            case .leaseExpired(let silence):
                guard !s.workers[i].phase.isDead, s.workers[i].phase != .removed else { return }
                let lost = s.dropAttempt(of: i)
                s.workers[i].phase = .dead(.leaseLost)
                s.log(.leaseExpired(id, chunk: lost, silence: silence))
                s.logRequeue(lost, from: i)
            case .disconnected:
                guard s.workers[i].phase != .removed else { return }
                let lost = s.dropAttempt(of: i)
                s.workers[i].phase = .removed
                s.log(.remoteWorkerDisconnected(id, chunk: lost))
                s.logRequeue(lost, from: i)
            }
        }
    }

    /// The worker was heard from again. One whose lease had expired comes back as idle; returns
    /// true if it did.
    @discardableResult
    public func remoteHeardFrom(_ id: WorkerID) -> Bool {
        withState { s in
            guard let i = s.index(of: id), s.workers[i].phase == .dead(.leaseLost) else { return false }
            s.workers[i].phase = .idle
            s.log(.remoteWorkerReturned(id))
            s.workers[i].cell.poke()
            return true
        }
    }

    /// Notes a worker process that was turned away, for the event log.
    public func logRefusedWorker(peer: String, reason: String) {
        withState { $0.log(.remoteWorkerRefused(peer: peer, reason: reason)) }
    }
}
