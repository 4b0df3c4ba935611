import ClusterModel

/// Turns each frame into what changed since the one before (`FrameRecord`).
struct FrameDiffer {
    private var previous: ClusterFrame?

    mutating func record(_ frame: ClusterFrame) -> FrameRecord {
        defer { previous = frame }
        let old = previous
        let s = frame.snapshot, o = old?.snapshot
        var r = FrameRecord(time: s.time)
        if s.job != o?.job {
            if let job = s.job { r.job = job } else { r.noJob = true }
        }
        if s.queuedJobs != o?.queuedJobs { r.queuedJobs = s.queuedJobs }
        if s.finishedJobs != o?.finishedJobs { r.finishedJobs = s.finishedJobs }
        r.workers = Self.workers(from: o?.workers ?? [], to: s.workers, first: o == nil)
        if s.throughput != o?.throughput { r.throughput = s.throughput }
        let history = ArrayDelta(from: o?.throughputHistory ?? [], to: s.throughputHistory)
        if o == nil || !history.isEmpty || history.keep != s.throughputHistory.count { r.history = history }
        if s.staleResults != o?.staleResults { r.staleResults = s.staleResults }
        if s.lastEventSequence != o?.lastEventSequence { r.lastEventSequence = s.lastEventSequence }
        if s.kernel != o?.kernel { r.kernel = s.kernel }
        if s.journalStopped != o?.journalStopped { r.journalStopped = s.journalStopped }
        if s.totals != o?.totals { r.totals = s.totals }
        let lastSequence = old?.events.last?.sequence ?? 0
        let fresh = frame.events.filter { $0.sequence > lastSequence }
        if !fresh.isEmpty { r.events = fresh }
        let finished = old?.finishedJobs.count ?? 0
        if frame.finishedJobs.count > finished { r.jobsFinished = Array(frame.finishedJobs[finished...]) }
        if old == nil || frame.timeline != old?.timeline { r.timeline = Self.timeline(from: old?.timeline, to: frame.timeline) }
        if old == nil || frame.speedup != old?.speedup { r.speedup = frame.speedup }
        if frame.kernelPeaks != old?.kernelPeaks { r.kernelPeaks = frame.kernelPeaks }
        if frame.caption != old?.caption { r.caption = frame.caption ?? "" }
        return r
    }

    private static func workers(from old: [WorkerSnapshot], to new: [WorkerSnapshot], first: Bool) -> WorkersDelta? {
        guard old.count == new.count, zip(old, new).allSatisfy({ $0.id == $1.id }) else {
            return first && new.isEmpty ? nil : WorkersDelta(all: new)
        }
        var changes: [WorkerChange] = []
        for (index, (was, now)) in zip(old, new).enumerated() where was != now {
            var change = WorkerChange(index: index)
            // Only the counters a running worker moves, and perhaps its attempt: say just those.
            let sameAttempt = was.assignment?.attempt == now.assignment?.attempt && was.assignment?.job == now.assignment?.job
            let counters = was.moved(attempt: sameAttempt ? was.assignment : now.assignment, done: now.assignment?.elementsDone,
                                     processed: now.elementsProcessed, accepted: now.elementsAccepted,
                                     chunksDone: now.chunksDone, throughput: now.throughput)
            if counters == now {
                if now.elementsProcessed != was.elementsProcessed { change.processed = now.elementsProcessed }
                if now.elementsAccepted != was.elementsAccepted { change.accepted = now.elementsAccepted }
                if now.chunksDone != was.chunksDone { change.chunksDone = now.chunksDone }
                if now.throughput != was.throughput { change.throughput = now.throughput }
                if !sameAttempt {
                    if let attempt = now.assignment { change.attempt = attempt } else { change.noAttempt = true }
                } else if now.assignment?.elementsDone != was.assignment?.elementsDone {
                    change.done = now.assignment?.elementsDone
                }
            } else {
                change.row = now
            }
            changes.append(change)
        }
        return changes.isEmpty ? nil : WorkersDelta(changed: changes)
    }

    private static func timeline(from old: TimelineSnapshot?, to new: TimelineSnapshot?) -> TimelineDelta {
        guard let new else { return TimelineDelta(now: 0, segments: ArrayDelta(from: [], to: []), segmentsCompleteFrom: 0, none: true) }
        let oldSegments = old?.segments ?? []
        // Attempts are unique: the first new one's place in the old ring is how many fell off.
        let hint = new.segments.first.map { first in oldSegments.firstIndex { $0.attempt == first.attempt } ?? oldSegments.count }
        var delta = TimelineDelta(now: new.now, segments: ArrayDelta(from: oldSegments, to: new.segments, dropHint: hint),
                                  jobStart: new.jobStart, segmentsCompleteFrom: new.segmentsCompleteFrom)
        guard let whole = new.whole?.parts else {
            delta.noWhole = true
            return delta
        }
        guard let was = old?.whole?.parts, was.job == whole.job, was.startNanos == whole.startNanos,
              was.cellNanos == whole.cellNanos, was.lanes.count == whole.lanes.count else {
            delta.whole = whole
            return delta
        }
        let lanes = zip(was.lanes, whole.lanes).enumerated().compactMap { lane, pair in
            ArrayPatch(from: pair.0, to: pair.1).map { LanePatch(lane: lane, patch: $0) }
        }
        if !lanes.isEmpty { delta.lanes = lanes }
        if was.owners != whole.owners { delta.owners = whole.owners }
        delta.departed = ArrayPatch(from: was.departed, to: whole.departed)
        if was.departedCount != whole.departedCount { delta.departedCount = whole.departedCount }
        return delta
    }
}

/// Rebuilds each frame from the one before and a `FrameRecord`.
struct FrameApplier {
    private(set) var frame: ClusterFrame?

    struct Mismatch: Error { let what: String }

    init(start: ClusterFrame? = nil) { frame = start }

    /// The frame `record` describes; throws when it does not fit the frame before (damaged).
    mutating func apply(_ r: FrameRecord) throws -> ClusterFrame {
        let old = frame
        let o = old?.snapshot
        guard r.time.isFinite else { throw Mismatch(what: "a frame's time") }
        let job = r.noJob == true ? nil : r.job ?? o?.job
        var workers = o?.workers ?? []
        if let delta = r.workers {
            if let all = delta.all { workers = all }
            for change in delta.changed ?? [] {
                guard workers.indices.contains(change.index) else { throw Mismatch(what: "a worker's row \(change.index)") }
                if let row = change.row {
                    workers[change.index] = row
                    continue
                }
                let w = workers[change.index]
                let attempt = change.noAttempt == true ? nil : change.attempt ?? w.assignment
                workers[change.index] = w.moved(attempt: attempt, done: change.done,
                                                processed: change.processed ?? w.elementsProcessed,
                                                accepted: change.accepted ?? w.elementsAccepted,
                                                chunksDone: change.chunksDone ?? w.chunksDone,
                                                throughput: change.throughput ?? w.throughput)
            }
        }
        let oldHistory = o?.throughputHistory ?? []
        guard let history = r.history.map({ $0.applied(to: oldHistory) }) ?? oldHistory else { throw Mismatch(what: "the throughput history") }
        var snapshot = ClusterSnapshot(
            time: r.time, job: job, queuedJobs: r.queuedJobs ?? o?.queuedJobs ?? 0, finishedJobs: r.finishedJobs ?? o?.finishedJobs ?? 0,
            workers: workers, throughput: r.throughput ?? o?.throughput ?? 0, throughputHistory: history,
            staleResults: r.staleResults ?? o?.staleResults ?? 0, lastEventSequence: r.lastEventSequence ?? o?.lastEventSequence ?? 0,
            kernel: r.kernel ?? o?.kernel ?? .best, journalStopped: r.journalStopped ?? o?.journalStopped ?? false)
        snapshot.totals = r.totals ?? o?.totals ?? ClusterTotals()
        var next = ClusterFrame(snapshot: snapshot, events: old?.events ?? [], finishedJobs: old?.finishedJobs ?? [],
                                timeline: try Self.timeline(old?.timeline, r.timeline, attempts: r.attempts), speedup: r.speedup ?? old?.speedup ?? SpeedupTracker(),
                                kernelPeaks: r.kernelPeaks ?? old?.kernelPeaks,
                                caption: r.caption.map { $0.isEmpty ? nil : $0 } ?? old?.caption)
        if let events = r.events { next.append(events: events) }
        if let jobs = r.jobsFinished { next.finishedJobs += jobs }
        frame = next
        return next
    }

    private static func timeline(_ old: TimelineSnapshot?, _ delta: TimelineDelta?, attempts: [TimelineSegment]?) throws -> TimelineSnapshot? {
        guard var delta else { return old }
        if let attempts { delta.segments.add += attempts }
        if delta.none == true { return nil }
        guard let segments = delta.segments.applied(to: old?.segments ?? []) else { throw Mismatch(what: "the timeline's attempts") }
        var whole: JobTimeline?
        if delta.noWhole == true {
            whole = nil
        } else if let parts = delta.whole {
            guard let rebuilt = JobTimeline(parts: parts) else { throw Mismatch(what: "the job's timeline") }
            whole = rebuilt
        } else {
            guard var parts = old?.whole?.parts else { throw Mismatch(what: "the job's timeline, patched before it began") }
            for lane in delta.lanes ?? [] {
                guard parts.lanes.indices.contains(lane.lane), let patched = lane.patch.applied(to: parts.lanes[lane.lane]) else {
                    throw Mismatch(what: "a timeline lane")
                }
                parts.lanes[lane.lane] = patched
            }
            if let owners = delta.owners { parts.owners = owners }
            if let departed = delta.departed {
                guard let patched = departed.applied(to: parts.departed) else { throw Mismatch(what: "the departed lane") }
                parts.departed = patched
            }
            if let count = delta.departedCount { parts.departedCount = count }
            guard let rebuilt = JobTimeline(parts: parts) else { throw Mismatch(what: "the job's timeline") }
            whole = rebuilt
        }
        return TimelineSnapshot(now: delta.now, segments: segments, whole: whole, jobStart: delta.jobStart,
                                segmentsCompleteFrom: delta.segmentsCompleteFrom)
    }
}

extension WorkerSnapshot {
    /// This row with the values a running worker moves replaced: its counters, its attempt
    /// (`done`, when given, that attempt's elements done). What a `WorkerChange` without a
    /// whole row may say; every other value stays.
    func moved(attempt: ChunkAssignment?, done: Int64?, processed: UInt64, accepted: UInt64, chunksDone: Int,
               throughput: Double) -> WorkerSnapshot {
        WorkerSnapshot(
            id: id, state: state, isLeaving: isLeaving, speed: speed,
            assignment: attempt.map { a in
                ChunkAssignment(job: a.job, chunk: a.chunk, chunkCount: a.chunkCount, attempt: a.attempt, elements: a.elements,
                                elementsDone: done ?? a.elementsDone, origin: a.origin, wasSplit: a.wasSplit)
            },
            elementsProcessed: processed, elementsAccepted: accepted, chunksDone: chunksDone, throughput: throughput,
            remote: remote, leaseLost: leaseLost, isLagging: isLagging, benched: benched)
    }
}
