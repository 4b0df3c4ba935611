/// Workers in other processes. The engine treats them like its own threads: the same records,
/// the same `step` and `checkIn`, scheduling, fencing, pause, kill, split and removal; they only
/// keep a deeper attempt queue. A local thread makes those calls itself; a remote worker's
/// network session makes them on its behalf when a message arrives, and is woken through
/// `onWake` where a thread would be woken through its semaphore. What is here is what only a
/// worker across a network needs: joining, liveness, and progress reports.

/// Where a remote worker runs, for its dashboard row and the event log.
public struct RemoteWorkerInfo: Sendable, Equatable {
    public let host: String
    public let pid: Int32
    /// The thread's index in its process, from 0.
    public let thread: Int
    /// The kernel variant it runs, as its process reported it; empty if it did not say.
    public let kernel: String

    public init(host: String, pid: Int32, thread: Int, kernel: String = "") {
        self.host = host
        self.pid = pid
        self.thread = thread
        self.kernel = kernel
    }

    /// "host:pid/thread", as the dashboard shows it.
    public var label: String { "\(host):\(pid)/\(thread)" }
}

/// How the engine sees a remote worker, for its session to decide what to tell the thread.
public struct RemoteWorkerStatus: Sendable, Equatable {
    public let state: WorkerState
    public let current: AttemptID?
    /// Attempts queued behind the current one, in order.
    public let queued: [AttemptID]
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
            guard !s.isShuttingDown, s.canAddWorker(configuration) else { return nil }
            let cell = WorkerCell(id: WorkerID(s.workers.count + 1), onWake: onWake)
            s.workers.append(WorkerRecord(cell: cell, speed: 1, remote: info,
                                          queueElements: max(1, configuration.remoteQueueElements),
                                          queueNanos: max(0, configuration.remoteQueueSeconds) * 1e9))
            s.log(.remoteWorkerJoined(cell.id, host: info.host, pid: info.pid, thread: info.thread, kernel: info.kernel))
            return cell.id
        }
    }

    /// The measured round trip to these workers' process: each keeps queued, besides
    /// `remoteQueueSeconds` of work, twice the round trip's worth, so that its queue outlasts the
    /// trip of its results to here and of the next attempts back, with room for jitter.
    public func remoteRoundTrip(_ ids: [WorkerID], seconds: Double) {
        withState { s in
            for id in ids {
                guard let i = s.index(of: id) else { continue }
                s.noteRoundTrip(worker: i, seconds: seconds)
            }
        }
    }

    /// A result for an attempt the thread had already been told to drop: fenced off and counted.
    public func remoteDiscardResult(_ id: WorkerID, attempt: AttemptID) {
        withState { s in
            guard let i = s.index(of: id), s.workers[i].current?.attempt != attempt else { return }
            s.discardStale(worker: i, attempt: attempt)
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
                                   queued: s.workers[i].queue.map(\.attempt), leaseLost: s.workers[i].phase.leaseLost)
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
                s.setPhase(of: i, to: .dead(.leaseLost))
                s.log(.leaseExpired(id, chunk: lost, silence: silence))
                s.logRequeue(lost, from: i)
            case .disconnected:
                guard s.workers[i].phase != .removed else { return }
                let lost = s.dropAttempt(of: i)
                s.setPhase(of: i, to: .removed)
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
            s.setPhase(of: i, to: .idle)
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
