import ClusterModel
import Foundation
import Synchronization

/// Why a recording could not be written or read: one line for the person.
public struct RecordingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Writes a recording as it goes: a header line, then one line per frame (JSON), each with a
/// single write, so a recording cut short by a crash or kill -9 holds every frame up to its last
/// whole line. Thread-safe.
public final class RecordingWriter: Sendable {
    public let path: String
    private let state: Mutex<State>
    private let encoder: JSONEncoder

    /// The file, what it holds so far, and why it stopped, if it did.
    private struct State {
        var descriptor: Int32
        var differ = FrameDiffer()
        var bytes = 0
        /// Why writing stopped before the run ended (a full disk), if it did.
        var failed: String?
        var closed = false

        /// Writes `line` and its newline, whole (one write as a rule); why it could not, or nil.
        mutating func write(_ line: Data) -> String? {
            var bytes = line
            bytes.append(UInt8(ascii: "\n"))
            if let failed = bytes.withUnsafeBytes({ WholeWrite.write($0, to: descriptor) }) { return failed }
            self.bytes += bytes.count
            return nil
        }
    }

    /// Creates (or truncates) `path` and writes the header.
    public init(path: String, header: RecordingHeader) throws(RecordingError) {
        self.path = path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RecordingError("cannot write the recording '\(path)': \(String(cString: strerror(errno)))")
        }
        encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        state = Mutex(State(descriptor: descriptor))
        guard let line = try? encoder.encode(header) else { throw RecordingError("cannot encode the recording's header") }
        let written = state.withLock { $0.write(line) }
        if let failed = written { throw RecordingError("cannot write the recording '\(path)': \(failed)") }
    }

    /// Appends `frame` as what changed since the last one. After a failed write (a full disk)
    /// nothing more is written; `failure` says why.
    public func append(_ frame: ClusterFrame) {
        state.withLock { s in
            guard s.failed == nil, !s.closed else { return }
            var record = s.differ.record(frame)
            // The attempts the timeline adds, by hand, after what JSONEncoder writes of the rest.
            let attempts = record.timeline?.segments.add ?? []
            record.timeline?.segments.add = []
            guard var line = try? encoder.encode(record), line.last == UInt8(ascii: "}") else {
                s.failed = "a frame could not be encoded"
                return
            }
            if !attempts.isEmpty {
                line.removeLast()
                line.append(contentsOf: ",\"ta\":".utf8)
                AttemptText.append(attempts, to: &line)
                line.append(UInt8(ascii: "}"))
            }
            s.failed = s.write(line)
        }
    }

    public var bytesWritten: Int { state.withLock { $0.bytes } }
    /// Why the recording stopped before it was closed, if it did: it replays up to there.
    public var failure: String? { state.withLock { $0.failed } }

    public func close() {
        state.withLock { s in
            if s.descriptor >= 0 { Foundation.close(s.descriptor) }
            s.descriptor = -1
            s.closed = true
        }
    }
}
