import ClusterModel
import Foundation

/// Attempts (`TimelineSegment`) as JSON, written by hand as bytes: they are most of a recording,
/// and JSONEncoder, then String interpolation, took most of the recorder's time on them. The text
/// is what `TimelineSegment`'s Codable reads (its short keys, `e` as `[lo, hi]`, the origin as one
/// string), and every time reads back as the same Double.
enum AttemptText {
    static func append(_ attempts: [TimelineSegment], to data: inout Data) {
        var text = ASCIIBuffer(capacity: attempts.count * 120 + 2)
        text.append("[")
        for (i, a) in attempts.enumerated() {
            if i > 0 { text.append(",") }
            text.append("{\"w\":")
            text.append(a.worker.rawValue)
            text.append(",\"j\":")
            text.append(a.job.rawValue)
            text.append(",\"c\":")
            text.append(a.chunk)
            if a.chunkCount != 1 {
                text.append(",\"n\":")
                text.append(a.chunkCount)
            }
            text.append(",\"a\":")
            text.append(a.attempt.rawValue)
            text.append(",\"e\":")
            text.append(elements: a.elements)
            text.append(",\"s\":")
            text.append(seconds: a.start)
            if let end = a.end {
                text.append(",\"x\":")
                text.append(seconds: end)
            }
            text.append(",\"o\":\"")
            text.append(a.outcome.rawValue)
            text.append("\",\"g\":\"")
            text.append(a.origin.recordedText)
            text.append("\",\"p\":")
            text.append(a.wasSplit)
            text.append("}")
        }
        text.append("]")
        data.append(contentsOf: text.bytes)
    }
}
