/// Workers in other processes. The engine treats them like its own threads: the same records,
/// the same `step` and `checkIn`, scheduling, fencing, pause, kill, split and removal; they only
/// keep a deeper attempt queue. A local thread makes those calls itself; a remote worker's
/// network session makes them on its behalf when a message arrives, and is woken through
/// `onWake` where a thread would be woken through its semaphore. What is here is what only a
/// worker across a network needs: joining, liveness, and progress reports.

/// A remote worker as one network session holds it. A process that reconnects gets its rows
/// back under a new `session`: every call with the old one then finds nothing, so a session
/// that lingers on a dead connection cannot touch the rows its successor took over.
public struct RemoteWorkerHandle: Sendable, Hashable {
    public let id: WorkerID
    let session: UInt64
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
    /// Its connection ended. It is removed; if its process reconnects, it gets this row back.
    case disconnected
}

/// Why the threads of a worker process could not join.
public enum RemoteJoinRefusal: Error, Equatable, Sendable {
    /// The coordinator is shutting down.
    case shuttingDown
    /// `maxWorkers` are alive, or the table has no row to give.
    case full
    /// Its address already holds `live` live threads, and the offered ones would pass `limit`.
    case hostLimit(address: String, live: Int, limit: Int)
}

extension Cluster {
    /// Adds the threads of a worker process, all or none, each a worker of this cluster.
    /// `onWake(t)` is called, with the engine lock held, whenever thread `t` should look for
    /// work or at its control state. A thread of a process that reconnects gets its row back
    /// (the same id, its counts, speed and pause kept): its new connection proves the old one
    /// dead, even if this side has not noticed yet, so whatever the row held goes back to the
    /// queue and the old session's handle stops working. Threads that are not rejoining count
    /// against their address's `maxRemoteWorkersPerHost`.
    public func addRemoteWorkers(_ infos: [RemoteWorkerInfo], onWake: @escaping @Sendable (Int) -> Void)
        -> Result<[RemoteWorkerHandle], RemoteJoinRefusal> {
        let queueElements = max(1, configuration.remoteQueueElements)
        let queueNanos = max(0, configuration.remoteQueueSeconds) * 1e9
        return withState { s in
            guard !s.isShuttingDown else { return .failure(.shuttingDown) }
            s.nextRemoteSession += 1
            let session = s.nextRemoteSession
            // The rows of this process, if it was here before: one pass over the table.
            var rowsOfProcess: [Int: Int] = [:]
            if let instance = infos.first?.instance, instance != 0 {
                for i in s.workers.indices where s.workers[i].remote?.instance == instance {
                    rowsOfProcess[s.workers[i].remote!.thread] = i
                }
            }
            let rejoining = infos.map { info in rowsOfProcess[info.thread].flatMap { s.workers[$0].remote?.isSameThread(as: info) == true ? $0 : nil } }
            let newcomers = rejoining.filter { $0 == nil }.count
            if let address = infos.first?.address, !address.isEmpty, newcomers > 0 {
                let live = s.workers.filter { $0.phase != .removed && $0.remote?.address == address }.count
                    - rejoining.compactMap { $0 }.filter { s.workers[$0].phase != .removed }.count
                if live + newcomers > configuration.maxRemoteWorkersPerHost {
                    return .failure(.hostLimit(address: address, live: live, limit: configuration.maxRemoteWorkersPerHost))
                }
            }
            var handles: [RemoteWorkerHandle] = []
            for (t, info) in infos.enumerated() {
                let record = { (id: WorkerID) in
                    WorkerRecord(cell: WorkerCell(id: id, onWake: { onWake(t) }), speed: 1, remote: info,
                                 queueElements: queueElements, queueNanos: queueNanos, session: session)
                }
                if let i = rejoining[t], s.workers[i].remote?.isSameThread(as: info) == true,
                   s.workers[i].phase != .removed || s.canAddWorker(configuration) {
                    s.rejoin(worker: i, as: record(s.workers[i].cell.id))
                    handles.append(RemoteWorkerHandle(id: s.workers[i].cell.id, session: session))
                    continue
                }
                guard s.canAddWorker(configuration) else {
                    // All or none: the threads added so far leave again, unseen by any session.
                    for handle in handles { s.dropJoined(handle) }
                    return .failure(.full)
                }
                let i = s.addRow(record, maxRows: configuration.maxWorkerRecords)
                let id = s.workers[i].cell.id
                s.log(.remoteWorkerJoined(id, host: info.host, pid: info.pid, thread: info.thread, kernel: info.kernel))
                handles.append(RemoteWorkerHandle(id: id, session: session))
            }
            return .success(handles)
        }
    }

    /// `addRemoteWorkers` for one thread; nil if it could not join.
    public func addRemoteWorker(_ info: RemoteWorkerInfo, onWake: @escaping @Sendable () -> Void) -> RemoteWorkerHandle? {
        try? addRemoteWorkers([info], onWake: { _ in onWake() }).get().first
    }

    /// The measured round trip to these workers' process: each keeps queued, besides
    /// `remoteQueueSeconds` of work, twice the round trip's worth, so that its queue outlasts the
    /// trip of its results to here and of the next attempts back, with room for jitter.
    /// `seconds`: smoothed; `sample`: this answer's own, for whoever observes round trips.
    public func remoteRoundTrip(_ workers: [RemoteWorkerHandle], seconds: Double, sample: Double? = nil) {
        withState { s in
            for worker in workers {
                guard let i = s.index(of: worker) else { continue }
                s.noteRoundTrip(worker: i, seconds: seconds)
            }
        }
        if let sample, let observer = roundTripObserver.withLock({ $0 }) { observer(sample) }
    }

    /// Calls `observer` with each round trip measured from now on (seconds, unsmoothed), on the
    /// session's thread: `--metrics` keeps them as a histogram.
    public func observeRoundTrips(_ observer: @escaping @Sendable (Double) -> Void) {
        roundTripObserver.withLock { $0 = observer }
    }

    /// A result for an attempt the thread had already been told to abandon: fenced off and counted.
    public func remoteDiscardResult(_ worker: RemoteWorkerHandle, attempt: AttemptID) {
        withState { s in
            guard let i = s.index(of: worker), s.workers[i].current?.attempt != attempt else { return }
            s.discardStale(worker: i, attempt: attempt)
        }
    }

    /// Publishes a heartbeat's progress: elements done in `attempt`, and ever summed (nil when
    /// the message did not say).
    public func remoteProgress(_ worker: RemoteWorkerHandle, attempt: AttemptID?, done: Int64, processed: UInt64?) {
        withState { s in
            guard let i = s.index(of: worker) else { return }
            let cell = s.workers[i].cell
            if let processed { cell.processed.store(processed, ordering: .relaxed) }
            if let attempt, s.workers[i].current?.attempt == attempt {
                cell.attemptProgress.store(done, ordering: .relaxed)
            }
        }
    }

    public func remoteStatus(_ worker: RemoteWorkerHandle) -> RemoteWorkerStatus? {
        withState { s in
            s.index(of: worker).map { i in
                RemoteWorkerStatus(state: s.workers[i].phase.state, current: s.workers[i].current?.attempt,
                                   queued: s.workers[i].queue.map(\.attempt), leaseLost: s.workers[i].phase.leaseLost)
            }
        }
    }

    /// The worker's lease expired or its connection ended: its chunk is re-queued at once.
    public func remoteLost(_ worker: RemoteWorkerHandle, _ loss: RemoteLoss) {
        let id = worker.id
        withState { s in
            guard let i = s.index(of: worker) else { return }
            switch loss {
            case .leaseExpired(let silence):
                guard !s.workers[i].phase.isDead, s.workers[i].phase != .removed else { return }
                let lost = s.abandonAttempt(of: i, outcome: .leaseLost)
                s.setPhase(of: i, to: .dead(.leaseLost))
                s.log(.leaseExpired(id, chunk: lost, silence: silence))
                s.logRequeue(lost, from: i)
            case .disconnected:
                guard s.workers[i].phase != .removed else { return }
                let lost = s.abandonAttempt(of: i, outcome: .disconnected)
                s.setPhase(of: i, to: .removed)
                s.log(.remoteWorkerDisconnected(id, chunk: lost))
                s.logRequeue(lost, from: i)
            }
        }
    }

    /// The worker was heard from again. One whose lease had expired comes back as idle; returns
    /// true if it did.
    @discardableResult
    public func remoteHeardFrom(_ worker: RemoteWorkerHandle) -> Bool {
        let id = worker.id
        return withState { s in
            guard let i = s.index(of: worker), s.workers[i].phase == .dead(.leaseLost) else { return false }
            s.setPhase(of: i, to: .idle)
            s.log(.remoteWorkerReturned(id))
            s.workers[i].cell.poke()
            return true
        }
    }

    /// Hands in `finished`, in the order the thread finished them, and says what it does next:
    /// `step(_:finished:processed:)` for a remote worker's session. `.exit` if the session no
    /// longer holds the row.
    public func step(_ worker: RemoteWorkerHandle, finished: [(attempt: AttemptID, sum: UInt128)] = [],
                     processed: UInt64? = nil) -> WorkerStep {
        withState { s in
            guard let i = s.index(of: worker) else { return .exit }
            return s.handInAndStep(worker: i, finished: finished, processed: processed)
        }
    }

    /// Hands in one result, if any, and says what the thread does next.
    public func step(_ worker: RemoteWorkerHandle, finished: (attempt: AttemptID, sum: UInt128)?) -> WorkerStep {
        step(worker, finished: finished.map { [$0] } ?? [])
    }

    /// `checkIn` for a remote worker's session; `.abandon` if the session no longer holds the row.
    public func checkIn(_ worker: RemoteWorkerHandle, attempt: AttemptID, position: Int64, sum: UInt128) -> CheckInAnswer {
        withState { s in
            guard let i = s.index(of: worker) else { return .abandon }
            return s.checkIn(worker: i, attempt: attempt, position: position, sum: sum)
        }
    }

    /// Notes a worker process that was turned away, for the event log.
    public func logRefusedWorker(peer: String, reason: String) {
        withState { $0.log(.remoteWorkerRefused(peer: peer, reason: reason)) }
    }

    /// Notes a session the coordinator ended because of what its peer sent, for the event log.
    public func logPeerDisconnected(peer: String, host: String?, reason: String) {
        withState { $0.log(.peerDisconnected(peer: peer, host: host, reason: reason)) }
    }

    /// Notes how many more were turned away from one address, for the event log.
    public func logRefusals(count: Int, address: String, reason: String, seconds: Double, wait: Double) {
        withState { $0.log(.refusalsSummarised(count: count, address: address, reason: reason, seconds: seconds, wait: wait)) }
    }

    /// Notes how many laptops have failed to join for one cause, for the event log.
    public func logFailedJoins(laptops: Int, cause: String) {
        withState { $0.log(.failedJoinsCounted(laptops: laptops, cause: cause)) }
    }
}

extension EngineState {
    /// A thread just added for a session that will not have it after all: removed at once.
    mutating func dropJoined(_ handle: RemoteWorkerHandle) {
        guard let i = index(of: handle) else { return }
        let lost = abandonAttempt(of: i, outcome: .disconnected)
        setPhase(of: i, to: .removed)
        logRequeue(lost, from: i)
    }

    /// A thread of a process that reconnected takes its row `i` back, as `fresh` (held by the new
    /// session): its counts, speed and pause carry over, so its row reads on where it left off.
    mutating func rejoin(worker i: Int, as fresh: WorkerRecord) {
        let id = workers[i].cell.id
        if workers[i].phase != .removed, !workers[i].phase.isDead {
            // The old connection is dead, whether or not its session has noticed.
            let lost = abandonAttempt(of: i, outcome: .disconnected)
            log(.remoteWorkerDisconnected(id, chunk: lost))
            logRequeue(lost, from: i)
        }
        let old = workers[i]
        var record = fresh
        record.elementsAccepted = old.elementsAccepted
        record.chunksDone = old.chunksDone
        record.nanosPerElement = old.nanosPerElement
        record.speed = old.speed
        record.cell.processed.store(old.cell.processed.load(ordering: .relaxed), ordering: .relaxed)
        // A pause and a kill are a person's doing: they stay. A lost lease or a removal does not.
        let kept: WorkerPhase? = old.phase.isStopping ? .paused : old.phase == .dead(.killed) ? .dead(.killed) : nil
        setPhase(of: i, to: .idle)  // ends a pause on the timeline; a kept one starts again below
        workers[i] = record
        if let kept { setPhase(of: i, to: kept) }
        if let info = record.remote {
            log(.remoteWorkerRejoined(record.cell.id, host: info.host, pid: info.pid, thread: info.thread,
                                      unencryptedFrom: info.unencrypted ? info.address : nil))
        }
    }
}
