import ClusterModel
import Foundation

/// A recording read back: its header and every whole frame, rebuilt on demand from the nearest
/// keyframe, so seeking anywhere costs at most `keyframeEvery` frames.
public final class Recording {
    public let header: RecordingHeader
    private let records: [FrameRecord]
    /// Every `keyframeEvery`-th frame, rebuilt once at load.
    private var keyframes: [ClusterFrame] = []
    static let keyframeEvery = 64
    /// The frame rebuilt last and its index: playing forward applies one record per frame.
    private var current: (index: Int, applier: FrameApplier)?
    /// Where the recording was cut short, if it was: what it says after its last whole frame.
    public let cutShort: String?
    /// Seconds of each frame, and the frames with an event worth jumping to.
    public let times: [Double]
    public let markedFrames: [Int]

    public var frameCount: Int { records.count }
    public var duration: Double { (times.last ?? 0) - (times.first ?? 0) }

    /// Reads `path`. Not a recording, a newer format, or no whole frame: throws one line.
    public convenience init(path: String) throws(RecordingError) {
        let data: Data
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw RecordingError("'\(path)' is a folder, not a cluster-top recording (make one with --record FILE)")
        }
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RecordingError("cannot read the recording '\(path)': \((error as NSError).localizedFailureReason ?? "\(error.localizedDescription)")")
        }
        try self.init(data: data, name: path)
    }

    public init(data: Data, name: String) throws(RecordingError) {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        // A last line without its newline was cut short mid-write.
        let lastIsWhole = data.last == UInt8(ascii: "\n")
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first, let header = try? decoder.decode(RecordingHeader.self, from: Data(first)),
              header.format == RecordingHeader.formatName else {
            throw RecordingError("'\(name)' is not a cluster-top recording (make one with --record FILE)")
        }
        guard header.version <= RecordingHeader.currentVersion, header.version >= 1 else {
            throw RecordingError("'\(name)' is a recording of format \(header.version), newer than this cluster-top reads (\(RecordingHeader.currentVersion)): replay it with a newer cluster-top")
        }
        self.header = header
        var records: [FrameRecord] = [], applier = FrameApplier(), keyframes: [ClusterFrame] = []
        var cut: String?
        for (number, line) in lines.enumerated().dropFirst() {
            let isLast = number == lines.count - 1
            guard let record = try? decoder.decode(FrameRecord.self, from: Data(line)) else {
                cut = isLast && !lastIsWhole ? "cut short in frame \(number) (line \(number + 1))" : "line \(number + 1) is damaged"
                break
            }
            if let previous = records.last, record.time < previous.time {
                cut = "line \(number + 1) goes back in time"
                break
            }
            do {
                let frame = try applier.apply(record)
                if let problem = FrameCheck.problem(in: frame) { throw FrameApplier.Mismatch(what: problem) }
                if records.count % Self.keyframeEvery == 0 { keyframes.append(frame) }
            } catch {
                cut = "line \(number + 1) does not follow from the one before (\((error as? FrameApplier.Mismatch)?.what ?? "\(error)"))"
                break
            }
            records.append(record)
        }
        guard !records.isEmpty else {
            throw RecordingError("'\(name)' holds no whole frame\(cut.map { ": \($0)" } ?? "")")
        }
        self.records = records
        self.keyframes = keyframes
        cutShort = cut
        times = records.map(\.time)
        markedFrames = records.indices.filter { records[$0].events?.contains { Self.isMarked($0.kind) } ?? false }
    }

    /// Events a person jumps to: kills and losses, jobs starting and ending, crashes.
    static func isMarked(_ kind: ClusterEventKind) -> Bool {
        switch kind {
        case .workerKilled, .leaseExpired, .remoteWorkerDisconnected, .jobStarted, .jobFinished, .coordinatorCrashed,
             .wrongSumRefused, .chunkSplit, .backupStarted, .workerPaused:
            return true
        default:
            return false
        }
    }

    /// Frame `index` (0-based) as the live dashboard had it.
    public func frame(at index: Int) -> ClusterFrame {
        let index = min(max(0, index), records.count - 1)
        var (at, applier): (Int, FrameApplier)
        if let current, current.index <= index, index - current.index < Self.keyframeEvery {
            (at, applier) = current
        } else {
            let key = index / Self.keyframeEvery
            at = key * Self.keyframeEvery
            applier = FrameApplier(start: keyframes[key])
        }
        // Checked at load: every record applies.
        while at < index {
            at += 1
            _ = try? applier.apply(records[at])
        }
        current = (at, applier)
        return applier.frame!
    }

    /// The last frame at or before `seconds` (recording time).
    public func index(at seconds: Double) -> Int {
        var low = 0, high = times.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if times[mid] <= seconds { low = mid } else { high = mid - 1 }
        }
        return low
    }
}
