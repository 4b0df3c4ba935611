import DequeModule

/// A run of consecutive chunk indices `first..<end`. Chunks are never materialized one by one,
/// so a job of billions of tiny chunks costs no memory up front.
struct ChunkSpan: Equatable {
    var first: Int64
    var end: Int64
    var count: Int64 { end - first }
}

/// Pending chunks in the order they will be handed out.
struct ChunkQueue {
    private(set) var spans: Deque<ChunkSpan> = []
    private(set) var count: Int64 = 0

    init(_ spans: [ChunkSpan] = []) {
        for span in spans where span.count > 0 { append(span) }
    }

    mutating func append(_ span: ChunkSpan) {
        guard span.count > 0 else { return }
        spans.append(span)
        count += span.count
    }

    /// Puts one chunk at the front, so a re-queued chunk is redone next.
    mutating func pushFront(_ chunk: Int64) {
        pushFront(ChunkSpan(first: chunk, end: chunk + 1))
    }

    /// Puts consecutive chunks at the front, in their order.
    mutating func pushFront(_ span: ChunkSpan) {
        guard span.count > 0 else { return }
        spans.prepend(span)
        count += span.count
    }

    /// Takes up to `wanted` consecutive chunks off the front, never more than a `share`-th of
    /// those queued, and at least one if there is any.
    mutating func popRun(upTo wanted: Int64, share: Int64) -> ChunkSpan? {
        guard var span = spans.first else { return nil }
        let run = ChunkSpan(first: span.first, end: span.first + max(1, min(wanted, count / max(1, share), span.count)))
        span.first = run.end
        if span.count == 0 { spans.removeFirst() } else { spans[spans.startIndex] = span }
        count -= run.count
        return run
    }

    mutating func popFirst() -> Int64? {
        guard var span = spans.first else { return nil }
        let chunk = span.first
        span.first += 1
        if span.count == 0 { spans.removeFirst() } else { spans[spans.startIndex] = span }
        count -= 1
        return chunk
    }

    /// Takes `wanted` chunks (or all there are) off the front, keeping their order.
    mutating func popFirst(_ wanted: Int64) -> [ChunkSpan] {
        var taken: [ChunkSpan] = []
        var left = min(wanted, count)
        while left > 0, var span = spans.first {
            let n = min(left, span.count)
            taken.append(ChunkSpan(first: span.first, end: span.first + n))
            span.first += n
            if span.count == 0 { spans.removeFirst() } else { spans[spans.startIndex] = span }
            count -= n
            left -= n
        }
        return taken
    }

    /// Takes `wanted` chunks (or all there are) off the back, keeping their order.
    mutating func popLast(_ wanted: Int64) -> [ChunkSpan] {
        var taken: [ChunkSpan] = []
        var left = min(wanted, count)
        while left > 0, var span = spans.last {
            let n = min(left, span.count)
            taken.append(ChunkSpan(first: span.end - n, end: span.end))
            span.end -= n
            if span.count == 0 { spans.removeLast() } else { spans[spans.index(before: spans.endIndex)] = span }
            count -= n
            left -= n
        }
        return taken.reversed()
    }

    mutating func removeAll() -> [ChunkSpan] {
        let all = Array(spans)
        spans.removeAll()
        count = 0
        return all
    }
}

/// Part of one chunk handed out on its own: the unfinished part of an attempt that crashed, or
/// the unprocessed part split off a busy worker's chunk.
struct ChunkPiece: Equatable {
    let chunk: Int64
    let elements: ClosedRange<Int64>
    /// `.redo` or `.split`: a piece is never fresh.
    let origin: AttemptOrigin
}

/// The chunks of one job that no attempt holds right now, and who may take which.
///
/// Dynamic: everything sits in one shared queue. Static and stealing: each worker present at the
/// start owns a contiguous slice and takes from it first; work released by a crashed or departing
/// worker goes to the shared queue, which a worker drains once its own slice is done. Stealing
/// also lets a worker move the back half of another worker's slice into its own. Pieces (redos and
/// splits) go before everything else.
struct WorkPool {
    private(set) var shared: ChunkQueue
    private var owned: [WorkerID: ChunkQueue] = [:]
    private var pieces: Deque<ChunkPiece> = []
    /// Pieces split off for a thief that asked for them: only it takes them, so the share the
    /// split gave it by its speed reaches it (the victim, done with its own part first, would
    /// otherwise take back what it just gave up). Released to everyone if the thief stops.
    private var reserved: [WorkerID: ChunkPiece] = [:]

    /// `excluding`: sorted, disjoint spans of chunks accepted before (a journal's), never handed out.
    init(chunkCount: Int64, policy: SchedulePolicy, workers: [WorkerID], excluding accepted: [Range<Int64>] = []) {
        let left = Self.spans(of: chunkCount, excluding: accepted)
        guard policy != .dynamic, !workers.isEmpty else {
            shared = ChunkQueue(left)
            return
        }
        shared = ChunkQueue()
        let remaining = left.reduce(Int64(0)) { $0 + $1.count }
        var queue = ChunkQueue(left)
        let n = Int64(workers.count)
        for (i, worker) in workers.enumerated() {
            let i = Int64(i)
            // Widen before multiplying: chunkCount × n could exceed Int64 for absurd inputs.
            let first = Int64((Int128(remaining) * Int128(i)) / Int128(n))
            let end = Int64((Int128(remaining) * Int128(i + 1)) / Int128(n))
            owned[worker] = ChunkQueue(queue.popFirst(end - first))
        }
    }

    /// The chunks `0..<chunkCount` that are not in `accepted`, as spans in order.
    static func spans(of chunkCount: Int64, excluding accepted: [Range<Int64>]) -> [ChunkSpan] {
        var spans: [ChunkSpan] = []
        var next: Int64 = 0
        for done in accepted where done.upperBound > next {
            if done.lowerBound > next { spans.append(ChunkSpan(first: next, end: min(done.lowerBound, chunkCount))) }
            next = max(next, done.upperBound)
            if next >= chunkCount { break }
        }
        if next < chunkCount { spans.append(ChunkSpan(first: next, end: chunkCount)) }
        return spans.filter { $0.count > 0 }
    }

    /// Whole chunks and pieces waiting.
    var pendingCount: Int64 {
        owned.values.reduce(shared.count + Int64(pieces.count + reserved.count)) { $0 + $1.count }
    }

    /// The next work for `worker`: a piece split off for it, else a piece, else its own slice,
    /// else the shared queue. Whole chunks come with `piece` nil: up to `run` consecutive ones,
    /// and never more than a share of those left (`runShare`) so that a job's last attempts
    /// stay small and end together. A piece is always one alone.
    mutating func next(for worker: WorkerID, run: Int64, runShare: Int64) -> (chunks: ChunkSpan, piece: ChunkPiece?)? {
        func single(_ chunk: Int64) -> ChunkSpan { ChunkSpan(first: chunk, end: chunk + 1) }
        // The collections are empty in the common case (dynamic schedule, no kills): skip
        // hashing into them, which shows with tiny chunks.
        if !reserved.isEmpty, let piece = reserved.removeValue(forKey: worker) {
            return (single(piece.chunk), piece)
        } else if let piece = pieces.popFirst() {
            return (single(piece.chunk), piece)
        } else if !owned.isEmpty, let own = owned[worker]?.popRun(upTo: run, share: runShare) {
            return (own, nil)
        } else if let common = shared.popRun(upTo: run, share: runShare) {
            return (common, nil)
        }
        return nil
    }

    /// The next work for `worker`, one chunk (or piece) of it.
    mutating func next(for worker: WorkerID) -> (chunk: Int64, piece: ChunkPiece?)? {
        next(for: worker, run: 1, runShare: 1).map { ($0.chunks.first, $0.piece) }
    }

    /// Work whose attempt was lost, or split off, goes to the front: it is handed out next.
    mutating func requeue(_ piece: ChunkPiece) {
        pieces.prepend(piece)
    }

    /// A piece split off for `thief`: only it takes it, until `releaseReservation(of:)` (which
    /// `EngineState.setPhase` calls whenever a worker stops taking work).
    mutating func reserve(_ piece: ChunkPiece, for thief: WorkerID) {
        if let earlier = reserved.updateValue(piece, forKey: thief) { pieces.prepend(earlier) }
    }

    /// `worker` stopped taking work: the piece split off for it goes to the front, for anyone.
    /// True if there was one.
    @discardableResult
    mutating func releaseReservation(of worker: WorkerID) -> Bool {
        guard !reserved.isEmpty, let piece = reserved.removeValue(forKey: worker) else { return false }
        pieces.prepend(piece)
        return true
    }

    /// Takes back work that was handed out but never started (a worker's queue, or the rest of
    /// a run that was lost): a piece returns to the front of the pieces, whole chunks to the
    /// front of `owner`'s slice if it has one, else of the shared queue.
    mutating func giveBack(chunks: ChunkSpan, piece: ChunkPiece?, to owner: WorkerID? = nil) {
        if let piece {
            pieces.prepend(piece)
        } else if let owner, !owned.isEmpty, owned[owner] != nil {
            owned[owner]!.pushFront(chunks)
        } else {
            shared.pushFront(chunks)
        }
    }

    /// Moves the back half (rounded up) of the largest other slice into `thief`'s own slice.
    /// Returns whose slice it was and how many chunks moved, or nil if no slice has any.
    mutating func stealSlice(for thief: WorkerID) -> (victim: WorkerID, count: Int64)? {
        guard let (victim, queue) = owned.filter({ $0.key != thief && $0.value.count > 0 })
            .max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) })
        else { return nil }
        var victimQueue = queue
        let spans = victimQueue.popLast((queue.count + 1) / 2)
        owned[victim] = victimQueue
        var mine = owned[thief] ?? ChunkQueue()
        for span in spans { mine.append(span) }
        owned[thief] = mine
        return (victim, spans.reduce(0) { $0 + $1.count })
    }

    /// Hands a worker's own slice to the shared queue (it crashed or left). True if it had any.
    @discardableResult
    mutating func release(ownedBy worker: WorkerID) -> Bool {
        guard var queue = owned.removeValue(forKey: worker) else { return false }
        let spans = queue.removeAll()
        for span in spans { shared.append(span) }
        return !spans.isEmpty
    }
}
