import ClusterModel
import Foundation

/// Attempts (`TimelineSegment`) as JSON, written by hand: they are most of a recording, and
/// JSONEncoder took most of the recorder's time on them. The text is what `TimelineSegment`'s
/// Codable reads (its short keys, `e` as `[lo, hi]`, the origin as one string).
enum AttemptText {
    static func append(_ attempts: [TimelineSegment], to data: inout Data) {
        var text = "["
        text.reserveCapacity(attempts.count * 120)
        for (i, a) in attempts.enumerated() {
            if i > 0 { text += "," }
            text += "{\"w\":\(a.worker.rawValue),\"j\":\(a.job.rawValue),\"c\":\(a.chunk),\"a\":\(a.attempt.rawValue)"
            text += ",\"e\":[\(a.elements.lowerBound),\(a.elements.upperBound)],\"s\":\(number(a.start))"
            if let end = a.end { text += ",\"x\":\(number(end))" }
            text += ",\"o\":\"\(a.outcome.rawValue)\",\"g\":\"\(a.origin.recordedText)\",\"p\":\(a.wasSplit)}"
        }
        text += "]"
        data.append(contentsOf: text.utf8)
    }

    /// Shortest text that reads back as the same Double (times are finite).
    private static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "0" }
}
