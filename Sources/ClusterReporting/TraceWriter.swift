import ClusterEngine
import Foundation

/// `--trace FILE`: the run as a Chrome Trace Event file, which Perfetto (ui.perfetto.dev) and
/// chrome://tracing open. A process per machine, a track per worker, one complete slice per
/// attempt named by its chunk and outcome (attempts that overlap on one worker go to a track of
/// their own: slices on one track must nest); every event of the log as an instant; a flow
/// arrow from each lost attempt to the attempt that redid its chunk; throughput and the job's
/// progress as counters. A writer thread takes what the engine kept every `interval` and
/// appends it, so a run cut short leaves a file that still opens (the format lets the closing
/// bracket be missing).
public final class TraceWriter: @unchecked Sendable {
    public static let interval = 0.1

    public let path: String
    private let descriptor: Int32
    private var cluster: Cluster!
    private let wake = NSCondition()
    private var ending = false
    private let done = DispatchSemaphore(value: 0)

    // The writer thread's own state.
    private var wroteAny = false
    private var lastEvent: UInt64 = 0
    /// Each machine's process id in the trace (this one's is 1).
    private var processes: [String: Int] = [:]
    private var workerProcess: [Int: Int] = [:]
    private var namedTracks: Set<Int> = []
    /// When the last slice on each track ends.
    private var trackEnds: [Int: Double] = [:]
    /// A lost attempt whose chunk has not been redone yet, by job and chunk: the flow's id.
    private var lostAttempts: [ChunkKey: UInt64] = [:]
    public private(set) var bytesWritten = 0
    /// Why the trace stopped being written (a full disk), if it did; read after `finish()`.
    public private(set) var failure: String?

    struct ChunkKey: Hashable {
        let job: Int
        let chunk: Int64
    }

    /// Opens `path` for writing (truncating what is there); throws a sentence saying why not.
    /// Opened in place, never written beside and renamed over: a FIFO, a device or a symbolic
    /// link given as the trace stays what it is (FileManager's createFile once replaced
    /// /dev/full, run as root, with a regular file).
    public init(path: String) throws(TraceError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TraceError("cannot write the trace \(path): \(String(cString: strerror(errno))) (give a file in a folder that exists and is writable)")
        }
        self.path = path
        self.descriptor = descriptor
    }

    /// Starts keeping every attempt of `cluster`, and the writer thread.
    public func start(tracing cluster: Cluster) {
        self.cluster = cluster
        cluster.startTracing()
        append("[")
        append(JSONValue.object(["ph": .string("M"), "name": .string("process_name"), "pid": .int(1), "tid": .int(0),
                                 "args": .object(["name": .string("this machine")])]))
        let thread = Thread { [self] in
            while true {
                wake.lock()
                if !ending { _ = wake.wait(until: Date(timeIntervalSinceNow: Self.interval)) }
                let last = ending
                wake.unlock()
                drain()
                if last { break }
            }
            done.signal()
        }
        thread.name = "cluster-top-trace"
        thread.start()
    }

    /// Writes what is left, closes the JSON array and the file.
    public func finish() {
        wake.lock()
        ending = true
        wake.signal()
        wake.unlock()
        done.wait()
        append("\n]\n")
        flush()
        close(descriptor)
    }

    // MARK: Writing

    private func drain() {
        let snapshot = cluster.snapshot()
        for worker in snapshot.workers where workerProcess[worker.id.rawValue] == nil {
            workerProcess[worker.id.rawValue] = process(of: worker.remote?.host)
        }
        for attempt in cluster.takeTracedAttempts() { slice(attempt) }
        for event in cluster.events(after: lastEvent) {
            lastEvent = event.sequence
            instant(event)
        }
        let ts = JSONValue.double(snapshot.time * 1e6)
        append(.object(["ph": .string("C"), "name": .string("throughput"), "pid": .int(1), "ts": ts,
                        "args": .object(["elements per second": .double(snapshot.throughput)])]))
        if let job = snapshot.job {
            append(.object(["ph": .string("C"), "name": .string("progress"), "pid": .int(1), "ts": ts,
                            "args": .object(["\(job.id)": .double(100 * job.progress)])]))
        }
        flush()
    }

    /// The trace's process for machine `host` (nil: this one), named on first sight.
    private func process(of host: String?) -> Int {
        guard let host else { return 1 }
        if let pid = processes[host] { return pid }
        let pid = processes.count + 2
        processes[host] = pid
        append(.object(["ph": .string("M"), "name": .string("process_name"), "pid": .int(Int64(pid)), "tid": .int(0),
                        "args": .object(["name": .string("host \(host)")])]))
        return pid
    }

    /// A track for `worker`'s slice from `start` to `end`: its own, or, when an earlier slice
    /// there has not ended, one beside it.
    private func track(worker: Int, pid: Int, start: Double, end: Double) -> Int {
        var tid = worker, lane = 0
        while let busyUntil = trackEnds[tid], busyUntil > start + 1e-9 {
            lane += 1
            tid = worker + lane * 1_000_000
        }
        trackEnds[tid] = end
        if namedTracks.insert(tid).inserted {
            let name = lane == 0 ? "worker \(worker)" : "worker \(worker), overlapping (\(lane))"
            append(.object(["ph": .string("M"), "name": .string("thread_name"), "pid": .int(Int64(pid)), "tid": .int(Int64(tid)),
                            "args": .object(["name": .string(name)])]))
            append(.object(["ph": .string("M"), "name": .string("thread_sort_index"), "pid": .int(Int64(pid)),
                            "tid": .int(Int64(tid)), "args": .object(["sort_index": .int(Int64(tid))])]))
        }
        return tid
    }

    private func slice(_ a: TracedAttempt) {
        let worker = a.worker.rawValue
        let pid = process(of: a.host)
        workerProcess[worker] = pid
        let tid = track(worker: worker, pid: pid, start: a.start, end: a.end)
        let origin: String = switch a.origin {
        case .fresh: "fresh"
        case .redo: "redo"
        case .split: "split"
        case .backup: "backup"
        }
        // Written as bytes, not through `JSONValue` or String interpolation: there is one of
        // these per chunk, thousands a second.
        let outcome = a.outcome.rawValue
        pending.append(wroteAny ? ",\n" : "\n")
        wroteAny = true
        if a.chunkCount > 1 {
            pending.append("{\"ph\":\"X\",\"name\":\"chunks ")
            pending.append(a.chunk)
            pending.append("-")
            pending.append(a.chunk + a.chunkCount - 1)
        } else {
            pending.append("{\"ph\":\"X\",\"name\":\"chunk ")
            pending.append(a.chunk)
        }
        if a.outcome != .done {
            pending.append(" (")
            pending.append(outcome)
            pending.append(")")
        }
        pending.append("\",\"cat\":\"")
        pending.append(outcome)
        pending.append("\",\"pid\":")
        pending.append(pid)
        pending.append(",\"tid\":")
        pending.append(tid)
        pending.append(",\"ts\":")
        pending.append(microsecondsOf: a.start)
        pending.append(",\"dur\":")
        if let start = ASCIIBuffer.wholeNanoseconds(a.start), let end = ASCIIBuffer.wholeNanoseconds(a.end) {
            pending.append(max(0, end - start), scale: 3)
        } else {
            pending.append(microsecondsOf: max(0, a.end - a.start))
        }
        pending.append(",\"args\":{\"job\":")
        pending.append(a.job.rawValue)
        pending.append(",\"chunk\":")
        pending.append(a.chunk)
        if a.chunkCount > 1 {
            pending.append(",\"chunks\":")
            pending.append(a.chunkCount)
        }
        pending.append(",\"attempt\":")
        pending.append(a.attempt.rawValue)
        pending.append(",\"elements\":")
        pending.append(elements: a.elements)
        pending.append(",\"count\":")
        pending.append(a.elements.upperBound - a.elements.lowerBound + 1)
        pending.append(",\"outcome\":\"")
        pending.append(outcome)
        pending.append("\",\"origin\":\"")
        pending.append(origin)
        pending.append("\",\"wasSplit\":")
        pending.append(a.wasSplit)
        pending.append("}}")
        let key = ChunkKey(job: a.job.rawValue, chunk: a.chunk)
        // The attempt redid a lost one's chunk: the arrow ends at its start.
        if a.origin.isRedo, let lost = lostAttempts.removeValue(forKey: key) {
            append(.object(["ph": .string("f"), "bp": .string("e"), "name": .string("redo"), "cat": .string("redo"),
                            "id": .int(Int64(clamping: lost)), "pid": .int(Int64(pid)), "tid": .int(Int64(tid)),
                            "ts": .double(Self.microseconds(a.start))]))
        }
        // Its work was lost with its worker: an arrow starts here, to whoever redoes the chunk.
        switch a.outcome {
        case .killed, .leaseLost, .disconnected, .refused:
            lostAttempts[key] = a.attempt.rawValue
            append(.object(["ph": .string("s"), "name": .string("redo"), "cat": .string("redo"),
                            "id": .int(Int64(clamping: a.attempt.rawValue)), "pid": .int(Int64(pid)), "tid": .int(Int64(tid)),
                            "ts": .double((a.start + a.end) / 2 * 1e6)]))
        case .inFlight, .done, .handedOver, .superseded:
            break
        }
    }

    /// `seconds` in a trace's microseconds, as the slices' `ts` reads back: the arrow that ends
    /// at a redo's start must carry the very same number (`a.start * 1e6` can differ in its last
    /// bit from the nanoseconds over 1,000 the slice is written as).
    static func microseconds(_ seconds: Double) -> Double {
        ASCIIBuffer.wholeNanoseconds(seconds).map { Double($0) / 1000 } ?? seconds * 1e6
    }

    /// An event of the log, on the track of the worker it is about (or the machine's).
    private func instant(_ event: ClusterEvent) {
        guard case .object(var fields) = EventJSON.object(event) else { return }
        let kind = fields["kind"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "event"
        var worker: Int?
        for name in ["worker", "from", "on"] {
            if case .int(let id) = fields[name] { worker = Int(id); break }
        }
        fields["type"] = nil
        fields["version"] = nil
        var object: [String: JSONValue] = ["ph": .string("i"), "name": .string(kind), "cat": .string("event"),
                                           "ts": .double(event.seconds * 1e6), "args": .object(fields)]
        if let worker {
            object["pid"] = .int(Int64(workerProcess[worker] ?? 1))
            object["tid"] = .int(Int64(worker))
            object["s"] = .string("t")
        } else {
            object["pid"] = .int(1)
            object["tid"] = .int(0)
            object["s"] = .string("p")
        }
        append(.object(object))
    }

    private func append(_ value: JSONValue) {
        pending.append(wroteAny ? ",\n" : "\n")
        pending.append(value.text)
        wroteAny = true
    }

    private func append(_ text: StaticString) { pending.append(text) }

    /// What was appended since the last write: one write per drain.
    private var pending = ASCIIBuffer(capacity: 1 << 16)

    /// Writes what is pending; after a failed write (a full disk) nothing more is.
    private func flush() {
        defer { pending.removeAll() }
        guard failure == nil else { return }
        failure = pending.bytes.withUnsafeBytes { WholeWrite.write($0, to: descriptor) }
        if failure == nil { bytesWritten += pending.count }
    }
}

/// A trace file that cannot be written: one line that says why.
public struct TraceError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
