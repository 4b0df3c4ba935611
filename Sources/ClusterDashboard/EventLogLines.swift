import ClusterModel

/// Turns raw events into the log's lines. A lost chunk (a kill, a lapsed lease, a dropped
/// connection) and its way back to work become one line, "worker 3 killed; chunk 17 re-queued →
/// worker 1", which is the story users watch for.
enum EventLogLines {
    struct Line: Equatable {
        let time: String
        let text: String
        let kind: ClusterEventKind
    }

    /// The worker and chunk of an event that lost a chunk; nil for any other event.
    static func lostChunk(_ kind: ClusterEventKind) -> (worker: WorkerID, chunk: Int64)? {
        switch kind {
        case let .workerKilled(worker, chunk?), let .leaseExpired(worker, chunk?, _),
             let .remoteWorkerDisconnected(worker, chunk?):
            return (worker, chunk)
        default:
            return nil
        }
    }

    static func lines(from events: [ClusterEvent], glyphs: Glyphs) -> [Line] {
        var merged = Set<UInt64>()  // sequence numbers folded into an earlier line
        var lines: [Line] = []
        for (i, event) in events.enumerated() where !merged.contains(event.sequence) {
            var text = event.message
            if let (worker, chunk) = lostChunk(event.kind) {
                for later in events[(i + 1)...] {
                    switch later.kind {
                    case .chunkRequeued(chunk, worker):
                        merged.insert(later.sequence)
                        continue
                    case let .chunkRedistributed(chunk: c, from: from, to: to) where c == chunk && from == worker:
                        merged.insert(later.sequence)
                        text += " \(glyphs.arrow) \(to)"
                    default:
                        continue
                    }
                    break
                }
            }
            if case let .chunkRedistributed(c, from, to) = event.kind {
                text = "chunk \(c) from \(from) \(glyphs.arrow) \(to)"
            }
            // A run of stale results from one worker (a queue claimed ahead, handed in after
            // its job ended) is one line, not one per chunk.
            if case let .staleResultDiscarded(first, _, worker) = event.kind {
                var last = first, count = 1
                for later in events[(i + 1)...] {
                    // Other workers' stale results in between do not end the run; anything else does.
                    guard case let .staleResultDiscarded(chunk, _, w) = later.kind else { break }
                    guard w == worker else { continue }
                    merged.insert(later.sequence)
                    last = chunk
                    count += 1
                }
                if count > 1 { text = "\(count) stale results from \(worker) discarded (chunks \(first) to \(last))" }
            }
            lines.append(Line(time: Format.clock(event.seconds), text: text, kind: event.kind))
        }
        return lines
    }
}
