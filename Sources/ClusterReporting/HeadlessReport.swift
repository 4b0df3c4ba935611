import ClusterEngine
import Foundation

/// The lines headless mode prints: readable text for people, JSON lines for scripts.
public enum HeadlessReport {
    // MARK: Text

    public static func progressLine(_ snapshot: ClusterSnapshot) -> String {
        guard let job = snapshot.job else { return "[\(Format.clock(snapshot.time))] waiting for a job" }
        let running = snapshot.count(of: .running)
        let eta = snapshot.estimatedSecondsRemaining.map { "  ETA \(Format.clock($0))" } ?? ""
        return "[\(Format.clock(job.elapsed))] \(job.id) \(Format.percent(job.progress))"
            + "  \(Format.rate(snapshot.throughput))"
            + "  chunks \(job.chunksDone)/\(job.chunksTotal) (\(job.chunksInFlight) in flight)"
            + "  workers \(running) running" + eta
    }

    public static func eventLine(_ event: ClusterEvent) -> String {
        "[\(Format.fixed(event.seconds, decimals: 3))s] \(event.message)"
    }

    public static func resultLines(_ summary: JobSummary) -> [String] {
        let spec = summary.spec
        let check = summary.verified ? "verified" : "MISMATCH"
        var lines = [
            "sum of squares over \(Format.range(spec.lo, spec.hi)) = \(summary.total)",
            "closed form F(\(spec.hi)) - F(\(spec.lo - 1)) = \(summary.closedForm)  [\(check)]",
            "\(Format.grouped(summary.elementsThisRun)) elements in \(Format.fixed(summary.elapsed, decimals: 3)) s"
                + " (\(Format.rate(summary.throughput))), \(spec.chunkCount) chunks of \(spec.chunkSize),"
                + " \(spec.schedule.rawValue) schedule, \(summary.kernel.map { "\($0) kernel" } ?? "kernels switched mid-job")",
        ]
        if summary.elementsBeforeRestart > 0 {
            lines.append("resumed from a journal: \(Format.grouped(summary.elementsBeforeRestart)) elements were accepted before the restart, "
                         + "and kept")
        }
        if summary.chunksRequeued > 0 || summary.staleResults > 0 {
            let requeued = summary.chunksRequeued, stale = summary.staleResults
            lines.append("\(requeued) chunk\(requeued == 1 ? "" : "s") re-queued, \(stale) stale result\(stale == 1 ? "" : "s") discarded")
        }
        if summary.chunksSplit > 0 || summary.chunksStolen > 0 {
            lines.append("work stealing: \(summary.chunksSplit) chunk\(summary.chunksSplit == 1 ? "" : "s") split, "
                         + "\(summary.chunksStolen) queued chunk\(summary.chunksStolen == 1 ? "" : "s") stolen")
        }
        if summary.wrongSums > 0 {
            lines.append("\(summary.wrongSums) wrong sum\(summary.wrongSums == 1 ? "" : "s") refused as \(summary.wrongSums == 1 ? "it" : "they") arrived "
                         + "(not the closed form of \(summary.wrongSums == 1 ? "its" : "their") range) and redone elsewhere")
        }
        if summary.backupsStarted > 0 {
            lines.append("backups at the tail: \(summary.backupsStarted) started, \(summary.backupsWon) finished before "
                         + "their original; the other of each pair was fenced off")
        }
        if summary.coordinatorCrashes > 0 {
            lines.append("the coordinator crashed \(summary.coordinatorCrashes == 1 ? "once" : "\(summary.coordinatorCrashes) times"): "
                         + "\(Format.grouped(summary.elementsLostToCrashes)) accepted elements lost and summed again; "
                         + "the time above includes the crash")
        }
        return lines
    }

    /// The end of a script run: one row per job, with each finish time against the fastest job
    /// over the same range (how a lesson such as static vs dynamic shows its result).
    public static func comparisonLines(_ summaries: [JobSummary]) -> [String] {
        guard !summaries.isEmpty else { return ["script finished; it submitted no jobs"] }
        // Work lost to crashes of the coordinator shows once a job has had one (the lesson).
        let showsLost = summaries.contains { $0.coordinatorCrashes > 0 }
        var header = ["job", "range", "schedule", "kernel", "chunk", "seconds", "vs best", "rate", "split", "re-queued", "result"]
        if showsLost { header.insert("lost to crashes", at: 10) }
        var rows: [[String]] = []
        for s in summaries {
            var row = [
                String(s.id.rawValue), Format.range(s.spec.lo, s.spec.hi, grouped: true), s.spec.schedule.label,
                s.kernelLabel, Format.grouped(s.spec.chunkSize), Format.fixed(s.elapsed, decimals: 3),
                JobComparison.timeAgainstBest(s, among: summaries).map { Format.fixed($0, decimals: 2) + "x" } ?? "-",
                Format.rate(s.throughput), String(s.chunksSplit), String(s.chunksRequeued),
                s.verified ? "verified" : "MISMATCH",
            ]
            if showsLost { row.insert(JobComparison.lostText(s), at: 10) }
            rows.append(row)
        }
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                // Text columns to the left, numbers to the right.
                [0, 1, 2, 3, header.count - 1].contains(i) ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ").replacing(/\ +$/, with: "")
        }
        let verified = summaries.allSatisfy(\.verified)
        return ["script finished: \(summaries.count) job\(summaries.count == 1 ? "" : "s"), "
                + (verified ? "all verified" : "NOT all verified"), line(header)] + rows.map(line)
    }

    // MARK: JSON lines

    /// The version of the JSON lines `--json` writes (docs/json.md, docs/json-schema.json):
    /// every object says it. A field added keeps the version; one removed or changed raises it.
    public static let formatVersion = 1

    public struct WorkerProgress: Codable, Equatable {
        public let id: Int
        public let state: WorkerState
        /// The chunk it works on and how far it is, or null with none.
        public let chunk: Int64?
        /// Whole chunks its attempt covers from `chunk` on: more than 1 for a run.
        public var chunkCount: Int64? = nil
        public let chunkProgress: Double?
        public let chunksDone: Int
        public let throughput: Double
        public let speed: Double

        // Unknown values are written as null, never left out.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(state, forKey: .state)
            try c.encode(chunk, forKey: .chunk)
            try c.encode(chunkCount, forKey: .chunkCount)
            try c.encode(chunkProgress, forKey: .chunkProgress)
            try c.encode(chunksDone, forKey: .chunksDone)
            try c.encode(throughput, forKey: .throughput)
            try c.encode(speed, forKey: .speed)
        }
    }

    public struct Progress: Codable, Equatable {
        public var type = "progress"
        public var version = HeadlessReport.formatVersion
        public let seconds: Double
        public let job: Int
        public let progress: Double
        public let elementsDone: Int64
        public let elementsTotal: Int64
        public let chunksDone: Int64
        public let chunksTotal: Int64
        public let chunksInFlight: Int64
        public let chunksQueued: Int64
        public let runningTotal: String
        public let throughput: Double
        /// Null while it cannot be estimated (no throughput yet).
        public let etaSeconds: Double?
        public let workers: [WorkerProgress]

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
            try c.encode(version, forKey: .version)
            try c.encode(seconds, forKey: .seconds)
            try c.encode(job, forKey: .job)
            try c.encode(progress, forKey: .progress)
            try c.encode(elementsDone, forKey: .elementsDone)
            try c.encode(elementsTotal, forKey: .elementsTotal)
            try c.encode(chunksDone, forKey: .chunksDone)
            try c.encode(chunksTotal, forKey: .chunksTotal)
            try c.encode(chunksInFlight, forKey: .chunksInFlight)
            try c.encode(chunksQueued, forKey: .chunksQueued)
            try c.encode(runningTotal, forKey: .runningTotal)
            try c.encode(throughput, forKey: .throughput)
            try c.encode(etaSeconds, forKey: .etaSeconds)
            try c.encode(workers, forKey: .workers)
        }
    }

    public struct WorkerStatistics: Codable, Equatable {
        public let id: Int
        public let state: WorkerState
        public let chunksDone: Int
        public let elementsProcessed: UInt64
        public let elementsAccepted: UInt64
        /// Fraction of the job's elements this worker's accepted chunks covered.
        public let share: Double
        /// Average elements per second over the job.
        public let throughput: Double
    }

    public struct Result: Codable, Equatable {
        public var type = "result"
        public var version = HeadlessReport.formatVersion
        /// The run was stopped (Ctrl-C, SIGTERM) before the job ended: `total` is the partial
        /// sum accepted so far, and `verified` is false.
        public var interrupted = false
        public let job: Int
        public let lo: Int64
        public let hi: Int64
        public let chunkSize: Int64
        public let schedule: String
        /// Decimal string: the total can exceed what JSON numbers hold exactly.
        public let total: String
        public let closedForm: String
        public let verified: Bool
        public let elapsedSeconds: Double
        public let throughput: Double
        public let chunks: Int64
        public let chunksRequeued: Int64
        public let chunksSplit: Int64
        public let chunksStolen: Int64
        public let staleResults: Int
        /// The kernel variant the local workers ran.
        public let kernel: String
        public let workers: [WorkerStatistics]
        /// Elements a journal had accepted before this process started, kept and not summed again.
        public var elementsBeforeRestart: Int64 = 0
        /// Crashes of the coordinator the job lived through (lesson 6), and the accepted
        /// elements they lost.
        public var coordinatorCrashes = 0
        public var elementsLostToCrashes: Int64 = 0
    }

    public struct ScriptStepLine: Codable, Equatable {
        public var type = "script"
        public var version = HeadlessReport.formatVersion
        public let seconds: Double
        public let line: Int
        public let action: String
        /// True when the step could not do what it says.
        public var error = false
    }

    public struct ScriptFinished: Codable, Equatable {
        public var type = "scriptFinished"
        public var version = HeadlessReport.formatVersion
        public let jobs: Int
        public let verified: Bool
        /// Steps that could not do what they say.
        public var stepErrors = 0
    }

    public static func progress(_ snapshot: ClusterSnapshot) -> Progress? {
        guard let job = snapshot.job else { return nil }
        return Progress(
            seconds: job.elapsed, job: job.id.rawValue, progress: job.progress,
            elementsDone: job.elementsCompleted + job.elementsInFlight, elementsTotal: job.elementsTotal,
            chunksDone: job.chunksDone, chunksTotal: job.chunksTotal, chunksInFlight: job.chunksInFlight,
            chunksQueued: job.chunksQueued, runningTotal: String(job.runningTotal),
            throughput: snapshot.throughput, etaSeconds: snapshot.estimatedSecondsRemaining,
            workers: snapshot.workers.map {
                WorkerProgress(id: $0.id.rawValue, state: $0.state, chunk: $0.assignment?.chunk,
                               chunkCount: $0.assignment?.chunkCount, chunkProgress: $0.assignment?.fractionDone, chunksDone: $0.chunksDone,
                               throughput: $0.throughput, speed: $0.speed)
            })
    }

    /// `workers`: their counts since the last result (what they processed); what each had
    /// accepted of this job comes from the job's own account (`JobSummary.workerShares`).
    public static func result(_ summary: JobSummary, workers: [WorkerSnapshot]) -> Result {
        let elements = Double(summary.spec.elementCount)
        let shares = Dictionary(summary.workerShares.map { ($0.worker, $0) }, uniquingKeysWith: { a, _ in a })
        var result = Result(
            job: summary.id.rawValue, lo: summary.spec.lo, hi: summary.spec.hi, chunkSize: summary.spec.chunkSize,
            schedule: summary.spec.schedule.rawValue, total: String(summary.total),
            closedForm: summary.closedForm, verified: summary.verified, elapsedSeconds: summary.elapsed,
            throughput: summary.throughput, chunks: summary.spec.chunkCount,
            chunksRequeued: summary.chunksRequeued, chunksSplit: summary.chunksSplit,
            chunksStolen: summary.chunksStolen, staleResults: summary.staleResults, kernel: summary.kernelLabel,
            workers: workers.map {
                let share = shares[$0.id]
                return WorkerStatistics(id: $0.id.rawValue, state: $0.state, chunksDone: share?.chunks ?? 0,
                                        elementsProcessed: $0.elementsProcessed, elementsAccepted: share?.elements ?? 0,
                                        share: Double(share?.elements ?? 0) / elements,
                                        throughput: summary.elapsed > 0 ? Double($0.elementsProcessed) / summary.elapsed : 0)
            })
        result.elementsBeforeRestart = summary.elementsBeforeRestart
        result.coordinatorCrashes = summary.coordinatorCrashes
        result.elementsLostToCrashes = summary.elementsLostToCrashes
        return result
    }

    /// What a run stopped before its job ended had done: the partial total, marked interrupted.
    public static func interruptedResult(_ snapshot: ClusterSnapshot, workers: [WorkerSnapshot]) -> Result? {
        guard let job = snapshot.job else { return nil }
        let elements = Double(job.spec.elementCount)
        let done = Double(job.elementsCompleted)
        var result = Result(
            job: job.id.rawValue, lo: job.spec.lo, hi: job.spec.hi, chunkSize: job.spec.chunkSize,
            schedule: job.spec.schedule.rawValue, total: String(job.runningTotal),
            closedForm: String(job.spec.closedFormTotal), verified: false, elapsedSeconds: job.elapsed,
            throughput: job.elapsed > 0 ? done / job.elapsed : 0, chunks: job.spec.chunkCount,
            chunksRequeued: job.chunksRequeued, chunksSplit: job.chunksSplit, chunksStolen: job.chunksStolen,
            staleResults: snapshot.staleResults, kernel: snapshot.kernel.rawValue,
            workers: workers.map {
                WorkerStatistics(id: $0.id.rawValue, state: $0.state, chunksDone: $0.chunksDone,
                                 elementsProcessed: $0.elementsProcessed, elementsAccepted: $0.elementsAccepted,
                                 share: Double($0.elementsAccepted) / elements,
                                 throughput: job.elapsed > 0 ? Double($0.elementsProcessed) / job.elapsed : 0)
            })
        result.interrupted = true
        return result
    }

    /// One line of compact JSON.
    public static func jsonLine<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        // Encoding these plain structs cannot fail.
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
