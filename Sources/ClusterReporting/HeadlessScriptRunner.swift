import ClusterEngine
import ClusterScript
import Dispatch
import Foundation

/// Plays a script without a terminal UI: prints each step, the cluster's events, each job's
/// verified result, and at the end a table that compares the jobs' finish times.
public struct HeadlessScriptRunner {
    public let cluster: Cluster
    public let printer: HeadlessPrinter
    public let interval: Double
    public let shouldStop: () -> Bool
    private let writeError: (String) -> Void
    private var player: ScriptPlayer
    /// Told the script's caption whenever it changes (for `--record`).
    public var captionChanged: ((String?) -> Void)?

    public init(cluster: Cluster, player: ScriptPlayer, format: HeadlessPrinter.OutputFormat, interval: Double,
                write: @escaping (String) -> Void,
                writeError: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
                shouldStop: @escaping () -> Bool = { false }) {
        self.cluster = cluster
        self.player = player
        printer = HeadlessPrinter(format: format, write: write)
        self.interval = interval
        self.shouldStop = shouldStop
        self.writeError = writeError
    }

    /// Runs until every step has run and every job it submitted has finished. Events up to
    /// `eventsPrinted` were printed already.
    public mutating func run(eventsPrinted: UInt64 = 0) -> HeadlessRunner.Outcome {
        var lastEvent = eventsPrinted
        var reported = Set<JobID>()
        var nextProgress = DispatchTime.now() + interval
        while true {
            // Events first, so a job's end prints before the steps its end released.
            lastEvent = printer.flushEvents(from: cluster, after: lastEvent)
            let now = cluster.snapshot().time
            let caption = player.caption
            let steps = player.advance(now: now, cluster: cluster)
            if player.caption != caption { captionChanged?(player.caption) }
            for step in steps {
                switch printer.format {
                case .text:
                    printer.write("[\(Format.fixed(now, decimals: 3))s] script line \(step.line): "
                                  + (step.isError ? "error: " : "") + step.text)
                case .json:
                    printer.write(HeadlessReport.jsonLine(HeadlessReport.ScriptStepLine(
                        seconds: now, line: step.line, action: step.text, error: step.isError)))
                }
                // The script goes on (a lesson should not stop mid-way); stderr and the exit
                // status say it did not do everything it says.
                if step.isError { writeError("cluster-top: script line \(step.line): \(step.text)") }
            }
            lastEvent = printer.flushEvents(from: cluster, after: lastEvent)
            for job in player.jobs where !reported.contains(job) {
                guard let summary = cluster.summary(of: job) else { break }  // jobs finish in order
                reported.insert(job)
                printer.result(summary, workers: cluster.snapshot().workers)
            }
            if player.isFinished, reported.count == player.jobs.count {
                let summaries = player.jobs.compactMap(cluster.summary(of:))
                report(summaries)
                guard summaries.allSatisfy(\.verified) else { return .mismatch }
                return player.errors == 0 ? .verified : .scriptErrors
            }
            if shouldStop() {
                printer.interruption(cluster.snapshot())
                return .interrupted
            }
            if DispatchTime.now() >= nextProgress {
                nextProgress = DispatchTime.now() + interval
                let snapshot = cluster.snapshot()
                if let job = snapshot.job, !job.status.isFinished { printer.progress(snapshot) }
            }
            // Until the next step is due (its delays may be milliseconds under --pace), or a
            // little while: progress lines and the end of a wait are noticed by polling.
            let untilDue = player.nextDue.map { $0 - cluster.snapshot().time } ?? 0.005
            usleep(UInt32(max(0, min(0.02, untilDue)) * 1e6))
        }
    }

    private func report(_ summaries: [JobSummary]) {
        switch printer.format {
        case .text:
            HeadlessReport.comparisonLines(summaries).forEach(printer.write)
            if player.errors > 0 {
                printer.write("\(player.errors) script step\(player.errors == 1 ? "" : "s") could not run: see the error lines above")
            }
        case .json:
            printer.write(HeadlessReport.jsonLine(HeadlessReport.ScriptFinished(
                jobs: summaries.count, verified: summaries.allSatisfy(\.verified), stepErrors: player.errors)))
        }
    }
}
