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
        spans.prepend(ChunkSpan(first: chunk, end: chunk + 1))
        count += 1
    }

    mutating func popFirst() -> Int64? {
        guard var span = spans.first else { return nil }
        let chunk = span.first
        span.first += 1
        if span.count == 0 { spans.removeFirst() } else { spans[spans.startIndex] = span }
        count -= 1
        return chunk
    }

    mutating func removeAll() -> [ChunkSpan] {
        let all = Array(spans)
        spans.removeAll()
        count = 0
        return all
    }
}

/// The chunks of one job that no attempt holds right now, and who may take which.
///
/// Dynamic: everything sits in one shared queue. Static: each worker present at the start owns a
/// contiguous slice and takes only from it; work released by a crashed or departing worker goes
/// to the shared queue, which a worker drains once its own slice is done.
struct WorkPool {
    private(set) var shared: ChunkQueue
    private var owned: [WorkerID: ChunkQueue] = [:]
    /// Chunks waiting for a redo, and the worker that lost each of them.
    private var lostBy: [Int64: WorkerID] = [:]

    init(chunkCount: Int64, policy: SchedulePolicy, workers: [WorkerID]) {
        let all = ChunkSpan(first: 0, end: chunkCount)
        guard policy == .static, !workers.isEmpty else {
            shared = ChunkQueue([all])
            return
        }
        shared = ChunkQueue()
        let n = Int64(workers.count)
        for (i, worker) in workers.enumerated() {
            let i = Int64(i)
            // Widen before multiplying: chunkCount × n could exceed Int64 for absurd inputs.
            let first = Int64((Int128(chunkCount) * Int128(i)) / Int128(n))
            let end = Int64((Int128(chunkCount) * Int128(i + 1)) / Int128(n))
            owned[worker] = ChunkQueue([ChunkSpan(first: first, end: end)])
        }
    }

    var pendingCount: Int64 { owned.values.reduce(shared.count) { $0 + $1.count } }

    /// The next chunk for `worker`: its own slice first, then the shared queue. Also returns the
    /// worker that lost the chunk, when this is a redo.
    mutating func next(for worker: WorkerID) -> (chunk: Int64, lostBy: WorkerID?)? {
        // The dictionaries are empty in the common case (dynamic schedule, no kills): skip
        // hashing into them, which shows with tiny chunks.
        let chunk: Int64
        if !owned.isEmpty, let own = owned[worker]?.popFirst() {
            chunk = own
        } else if let common = shared.popFirst() {
            chunk = common
        } else {
            return nil
        }
        return (chunk, lostBy.isEmpty ? nil : lostBy.removeValue(forKey: chunk))
    }

    /// A chunk whose attempt was lost goes back to the front of the shared queue.
    mutating func requeue(_ chunk: Int64, lostBy worker: WorkerID) {
        lostBy[chunk] = worker
        shared.pushFront(chunk)
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
