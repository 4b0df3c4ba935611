import ClusterEngine
import ClusterReporting

/// Turns raw events into the log's lines. A kill and the redistribution of its chunk become one
/// line, "worker 3 killed; chunk 17 re-queued → worker 1", which is the story users watch for.
enum EventLogLines {
    struct Line: Equatable {
        let time: String
        let text: String
        let kind: ClusterEventKind
    }

    static func lines(from events: [ClusterEvent], glyphs: Glyphs) -> [Line] {
        var merged = Set<UInt64>()  // sequence numbers folded into an earlier line
        var lines: [Line] = []
        for (i, event) in events.enumerated() where !merged.contains(event.sequence) {
            var text = event.message
            if case let .workerKilled(worker, chunk?) = event.kind {
                text = "\(worker) killed; chunk \(chunk) re-queued"
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
            switch event.kind {
            case let .chunkRedistributed(c, from, to):
                text = "chunk \(c) from \(from) \(glyphs.arrow) \(to)"
            case let .jobStarted(job, lo, hi):
                text = "\(job) started: \(Format.range(lo, hi, grouped: true))"  // as in the header
            case let .jobQueued(job, lo, hi):
                text = "\(job) queued: \(Format.range(lo, hi, grouped: true))"
            default:
                break
            }
            lines.append(Line(time: Format.clock(event.seconds), text: text, kind: event.kind))
        }
        return lines
    }
}
