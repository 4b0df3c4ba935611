import ClusterEngine
import Dispatch

/// Runs one job on a cluster without a terminal UI, printing progress, events and the verified
/// result as text or JSON lines.
public struct HeadlessRunner {
    public typealias OutputFormat = HeadlessPrinter.OutputFormat

    /// How a headless run ended, and the process exit status that goes with it.
    public enum Outcome: Equatable, Sendable {
        /// `scriptErrors`: every job verified, but some script step could not do what it says.
        case verified, mismatch, interrupted, scriptErrors
        public var exitStatus: Int32 {
            switch self {
            case .verified: return 0
            case .mismatch: return 1
            case .scriptErrors: return 64
            case .interrupted: return 130
            }
        }
    }

    public let cluster: Cluster
    public let printer: HeadlessPrinter
    /// Seconds between progress lines.
    public let interval: Double
    /// Polled several times a second; returning true stops the run (Ctrl-C, SIGTERM).
    public let shouldStop: () -> Bool
    /// Runs when the job has finished, before its result is printed (a journal stores it).
    public var beforeResult: () -> Void = {}

    public init(cluster: Cluster, format: OutputFormat, interval: Double,
                write: @escaping (String) -> Void, shouldStop: @escaping () -> Bool = { false }) {
        self.cluster = cluster
        printer = HeadlessPrinter(format: format, write: write)
        self.interval = interval
        self.shouldStop = shouldStop
    }

    /// Submits `spec`, reports until it finishes (or the run is stopped), then prints the result.
    /// Events up to `eventsPrinted` were printed already.
    public func run(_ spec: JobSpec, eventsPrinted: UInt64 = 0) -> Outcome {
        run(job: cluster.submit(spec), eventsPrinted: eventsPrinted)
    }

    /// Reports on `job`, submitted already, until it finishes (or the run is stopped).
    public func run(job: JobID, eventsPrinted: UInt64 = 0) -> Outcome {
        var lastEvent = eventsPrinted
        _ = cluster.snapshot()  // the first sample is the baseline for the first rate
        var nextProgress = DispatchTime.now() + interval
        // Poll in short slices so a stop request is honored quickly even with a long interval.
        let slice = min(interval, 0.05)
        while true {
            let summary = cluster.waitForJob(job, timeout: slice)
            lastEvent = printer.flushEvents(from: cluster, after: lastEvent)
            if let summary {
                beforeResult()
                lastEvent = printer.flushEvents(from: cluster, after: lastEvent)
                printer.result(summary, workers: cluster.snapshot().workers)
                return summary.verified ? .verified : .mismatch
            }
            if shouldStop() {
                printer.interruption(cluster.snapshot())
                return .interrupted
            }
            if DispatchTime.now() >= nextProgress {
                nextProgress = DispatchTime.now() + interval
                printer.progress(cluster.snapshot())
            }
        }
    }
}
