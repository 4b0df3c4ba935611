/// Something that happened in the cluster, for the event log and for scripts.
public enum ClusterEventKind: Sendable, Equatable, Codable {
    case workerAdded(WorkerID)
    case workerPaused(WorkerID)
    case workerResumed(WorkerID)
    /// A simulated crash. `chunk` is the chunk it lost, if it had one.
    case workerKilled(WorkerID, chunk: Int64?)
    case workerRestarted(WorkerID)
    /// The worker will leave once its current chunk is done.
    case workerLeaving(WorkerID)
    case workerRemoved(WorkerID)
    case workerThrottled(WorkerID, speed: Double)
    /// For a lesson: a local worker hands in forged sums from now on (`Cluster.forgeResults`).
    case workerForging(WorkerID)
    /// Who lags changed (see `StragglerWatch`): the machines most of whose running threads lag
    /// (nil: this one), and the other workers under half the running workers' median, named;
    /// both empty when none lags any more. At most one such line per `StragglerWatch.reportInterval`.
    case laggardsChanged(workers: [WorkerID], hosts: [String?], median: Double, running: Int)
    /// More of this machine's workers run than it has cores: they take turns, their rates vary
    /// with who has a core, and none of them is called a straggler while it lasts.
    case workersOutnumberCores(workers: Int, cores: Int)
    /// A chunk went back to the queue because `from` crashed or left it.
    case chunkRequeued(chunk: Int64, from: WorkerID)
    /// A re-queued chunk was picked up again.
    case chunkRedistributed(chunk: Int64, from: WorkerID, to: WorkerID)
    /// Work stealing: `to` moved `count` queued chunks from the back of `from`'s slice to its own.
    case sliceStolen(count: Int64, from: WorkerID, to: WorkerID)
    /// Work stealing: `from` split its chunk; `elements` is the unprocessed part it gave up.
    case chunkSplit(chunk: Int64, from: WorkerID, elements: ClosedRange<Int64>)
    /// The part split off `from`'s chunk was taken by `to`.
    case chunkStolen(chunk: Int64, from: WorkerID, to: WorkerID)
    /// `on` found nothing left to take and runs a copy of `of`'s attempt of `chunk`, which had
    /// done `done` of its `elements` in `seconds` (see the engine's `BackupPolicy`).
    case backupStarted(chunk: Int64, of: WorkerID, on: WorkerID, done: Int64, elements: Int64, seconds: Double)
    /// One attempt of a backup pair was accepted; the other, `loser`'s, was fenced off.
    /// `byBackup`: the backup finished first.
    case backupRaceWon(chunk: Int64, winner: WorkerID, loser: WorkerID, byBackup: Bool)
    /// `lostBy`'s attempt of a backup pair was taken away; `worker`'s carries on alone.
    case backupCarriesOn(chunk: Int64, worker: WorkerID, lostBy: WorkerID)
    /// A backup finished an attempt of `worker`'s that had stalled or crawled for `seconds`
    /// (`reason`): it gets no more work in `job`.
    case workerBenched(WorkerID, job: JobID, reason: BenchReason, seconds: Double)
    /// `worker` (on `host`, if remote) handed in a sum for `chunk` that is not the closed form of
    /// its range: refused, the chunk redone elsewhere, and no more work for it in `job`.
    case wrongSumRefused(WorkerID, host: String?, chunk: Int64, job: JobID)
    /// A result arrived from an attempt that is no longer current; it was not added.
    case staleResultDiscarded(chunk: Int64, attempt: AttemptID, worker: WorkerID)
    /// A worker thread of another process joined over the network.
    case remoteWorkerJoined(WorkerID, host: String, pid: Int32, thread: Int, kernel: String)
    /// Nothing was heard from a remote worker for `silence` seconds; `chunk` went back to the queue.
    case leaseExpired(WorkerID, chunk: Int64?, silence: Double)
    /// A thread of a worker process that reconnected took its old row back. Over plain text
    /// (`unencryptedFrom`, its address) that proves little: the log says so.
    case remoteWorkerRejoined(WorkerID, host: String, pid: Int32, thread: Int, unencryptedFrom: String?)
    /// A remote worker whose lease expired was heard from again and takes work again.
    case remoteWorkerReturned(WorkerID)
    /// A remote worker's connection ended; `chunk` went back to the queue.
    case remoteWorkerDisconnected(WorkerID, chunk: Int64?)
    /// A worker process was turned away before it got any work.
    case remoteWorkerRefused(peer: String, reason: String)
    /// The coordinator ended a worker process's session because of what it sent (`reason`).
    case peerDisconnected(peer: String, host: String?, reason: String)
    /// `count` more calls from `address` were refused for `reason` in the last `seconds`, after
    /// the one logged; the next answer there waits `wait` seconds (see `RefusalGate`).
    case refusalsSummarised(count: Int, address: String, reason: String, seconds: Double, wait: Double)
    /// `laptops` addresses in all have failed to join for one `cause`, before any token was read.
    case failedJoinsCounted(laptops: Int, cause: String)
    /// A restart went on with `job` from its journal, `chunksAccepted` of `chunkCount` kept.
    case journalResumed(JobID, chunksAccepted: Int64, chunkCount: Int64, file: String)
    /// The coordinator crashed and was rebuilt in process (the lesson): `job` lost the
    /// accepted elements it had beyond what a journal kept (`elementsKept`).
    case coordinatorCrashed(JobID, elementsLost: Int64, elementsKept: Int64)
    /// The journal could not be written any more (`reason`); the run goes on without it.
    case journalStopped(reason: String)
    /// `--metrics` serves Prometheus' text exposition at `url`.
    case metricsServed(url: String)
    case jobQueued(JobID, lo: Int64, hi: Int64)
    case jobStarted(JobID, lo: Int64, hi: Int64)
    case jobFinished(JobID, verified: Bool, total: UInt128, seconds: Double)
}

/// An event with its place in the log and its time since the cluster started.
public struct ClusterEvent: Sendable, Equatable, Codable {
    public let sequence: UInt64
    public let seconds: Double
    public let kind: ClusterEventKind

    public init(sequence: UInt64, seconds: Double, kind: ClusterEventKind) {
        self.sequence = sequence
        self.seconds = seconds
        self.kind = kind
    }

    /// A rate as the table writes it: G/s with two decimals, M/s whole below a billion.
    /// "a, b, c and 12 more": at most `limit` named.
    static func list(_ names: [String], limit: Int = 4) -> String {
        let shown = names.prefix(names.count > limit ? limit - 1 : limit)
        let rest = names.count - shown.count
        guard rest > 0 else {
            return shown.count <= 1 ? shown.joined() : shown.dropLast().joined(separator: ", ") + " and " + shown.last!
        }
        return shown.joined(separator: ", ") + " and \(rest) more"
    }

    /// "1.52G/s", "146M/s", "2.4M/s", "830k/s", "12/s": never a rounded-away "0M/s".
    static func rate(_ rate: Double) -> String {
        if rate < 0.995e6 {
            return rate < 999.5 ? "\(Int(rate.rounded()))/s" : "\(Int((rate / 1e3).rounded()))k/s"
        }
        if rate < 9.95e6 { return "\(Double(Int((rate / 1e5).rounded())) / 10)M/s" }
        guard rate >= 0.995e9 else { return "\(Int((rate / 1e6).rounded()))M/s" }
        let hundredths = Int((rate / 1e7).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)G/s"
    }

    /// One human sentence, as the dashboard and headless mode print it.
    public var message: String {
        switch kind {
        case .workerAdded(let w): return "\(w) added"
        case .workerPaused(let w): return "\(w) paused"
        case .workerResumed(let w): return "\(w) resumed"
        case .workerKilled(let w, let chunk):
            return chunk.map { "\(w) killed; chunk \($0) re-queued" } ?? "\(w) killed; no chunk re-queued"
        case .workerRestarted(let w): return "\(w) restarted"
        case .workerLeaving(let w): return "\(w) leaving after its current chunk"
        case .workerRemoved(let w): return "\(w) removed"
        case .workerThrottled(let w, let speed):
            return "\(w) speed set to \(Int((speed * 100).rounded()))%"
        case .workerForging(let w): return "\(w) now hands in forged sums, one more than the truth, as a lying peer would"
        case .laggardsChanged(let workers, let hosts, let median, let running):
            if workers.isEmpty && hosts.isEmpty { return "no worker lags any more" }
            var who: [String] = []
            if !hosts.isEmpty {
                who.append((hosts.count == 1 ? "host " : "hosts ") + Self.list(hosts.map { $0 ?? "this machine" }))
            }
            if !workers.isEmpty {
                who.append((workers.count == 1 ? "worker " : "workers ") + Self.list(workers.map { "\($0.rawValue)" }))
            }
            return "lagging now: " + who.joined(separator: " and ")
                + ", under half the median \(Self.rate(median)) of \(running) running workers"
        case .workersOutnumberCores(_, let cores):
            // No count: workers being added would make it stale within a second.
            return "more workers than cores take turns on the \(cores) core\(cores == 1 ? "" : "s"): their rates vary with who has a core, "
                + "so none is called a straggler while they outnumber the cores"
        case .chunkRequeued(let chunk, let from): return "chunk \(chunk) re-queued from \(from)"
        case .chunkRedistributed(let chunk, let from, let to):
            return "chunk \(chunk) from \(from) → \(to)"
        case .sliceStolen(let count, let from, let to):
            return "\(to) stole \(count) queued chunk\(count == 1 ? "" : "s") from \(from)"
        case .chunkSplit(let chunk, let from, let elements):
            return "chunk \(chunk) split: \(from) gives up \(NumberText.range(elements.lowerBound, elements.upperBound))"
        case .chunkStolen(let chunk, let from, let to):
            return "chunk \(chunk) remainder from \(from) → \(to)"
        case .backupStarted(let chunk, let of, let on, let done, let elements, let seconds):
            let time = NumberText.fixed(seconds, decimals: 1)
            let progress = done <= 0 ? "\(of) has done nothing of it in \(time) s"
                : "\(of) is \(Int((100 * Double(done) / Double(max(1, elements))).rounded(.down)))% through it after \(time) s"
            return "chunk \(chunk): backup attempt on \(on); \(progress)"
        case .backupRaceWon(let chunk, let winner, let loser, let byBackup):
            return byBackup ? "chunk \(chunk): the backup on \(winner) finished first; \(loser)'s attempt fenced off"
                : "chunk \(chunk): \(winner) finished first; the backup on \(loser) fenced off"
        case .backupCarriesOn(let chunk, let w, let lostBy):
            return "chunk \(chunk) goes on in \(w)'s attempt alone; \(lostBy)'s copy is gone"
        case .workerBenched(let w, let job, let reason, let seconds):
            let time = NumberText.fixed(seconds, decimals: 1)
            switch reason {
            case .stalled(let chunk): return "\(w) did nothing of chunk \(chunk) in \(time) s: no more work for it in \(job)"
            case .crawled(let chunk):
                return "\(w) crawled through chunk \(chunk) for \(time) s, over \(Int(BenchReason.crawlingBy)) times slower than its backup: no more work for it in \(job)"
            case .wrongSum(let chunk): return "\(w) sent a wrong sum for chunk \(chunk): no more work for it in \(job)"
            }
        case .wrongSumRefused(let w, let host, let chunk, let job):
            return "\(w)\(host.map { " on \($0)" } ?? "") sent a wrong sum for chunk \(chunk): refused, the chunk is redone elsewhere, and \(w) gets no more work in \(job)"
        case .staleResultDiscarded(let chunk, let attempt, let w):
            return "stale result for chunk \(chunk) (\(attempt)) from \(w) discarded"
        case .remoteWorkerJoined(let w, let host, let pid, let thread, let kernel):
            return "\(w) joined from \(host) (pid \(pid), thread \(thread)" + (kernel.isEmpty ? ")" : ", \(kernel) kernel)")
        case .leaseExpired(let w, let chunk, let silence):
            let silent = "\(w) lease expired: silent for \(Int((silence * 1000).rounded())) ms"
            return chunk.map { "\(silent); chunk \($0) re-queued" } ?? silent
        case .remoteWorkerReturned(let w): return "\(w) heard from again: back to work"
        case .remoteWorkerRejoined(let w, let host, let pid, let thread, let unencryptedFrom):
            let rejoined = "\(w) rejoined from \(host) (pid \(pid), thread \(thread))"
            guard let address = unencryptedFrom else { return rejoined + ": the same process, reconnected" }
            return rejoined + ": taken over by \(address) in plain text (--insecure), where anyone who saw the traffic could claim it"
        case .remoteWorkerDisconnected(let w, let chunk):
            return chunk.map { "\(w) disconnected; chunk \($0) re-queued" } ?? "\(w) disconnected"
        case .remoteWorkerRefused(let peer, let reason): return "worker from \(peer) refused: \(reason)"
        case .peerDisconnected(let peer, let host, let reason):
            return "disconnected \(peer)\(host.map { " (\($0))" } ?? ""): \(reason)"
        case .refusalsSummarised(let count, let address, let reason, let seconds, let wait):
            return "\(count) more join\(count == 1 ? "" : "s") from \(address) refused in \(Int(seconds.rounded())) s (\(reason))"
                + (wait > 0 ? "; each answer there now waits \(NumberText.fixed(wait, decimals: 1)) s" : "")
        case .failedJoinsCounted(let laptops, let cause):
            return "\(laptops) laptop\(laptops == 1 ? "" : "s") tried to join \(cause)"
        case .journalResumed(let job, let accepted, let count, let file):
            let percent = NumberText.fixed(100 * Double(accepted) / Double(max(1, count)), decimals: 1)
            return "resuming \(job) at \(percent)%: \(NumberText.grouped(accepted)) of \(NumberText.grouped(count)) chunks already accepted (journal \(file))"
        case .coordinatorCrashed(let job, let lost, let kept):
            return "the coordinator crashed: \(job) lost \(NumberText.grouped(lost)) accepted elements"
                + (kept > 0 ? " and goes on from the \(NumberText.grouped(kept)) its journal kept" : ", all it had: it starts again from nothing")
        case .journalStopped(let reason):
            return "the journal stopped: \(reason); the job goes on, but a restart would not resume from here"
        case .metricsServed(let url): return "Prometheus metrics at \(url)"
        case .jobQueued(let job, let lo, let hi): return "\(job) queued: \(NumberText.range(lo, hi))"
        case .jobStarted(let job, let lo, let hi): return "\(job) started: \(NumberText.range(lo, hi))"
        case .jobFinished(let job, let verified, _, let seconds):
            let took = "\(job) finished in \(NumberText.fixed(seconds, decimals: 3)) s"
            return verified ? "\(took): verified against the closed form" : "\(took): MISMATCH with the closed form"
        }
    }
}
