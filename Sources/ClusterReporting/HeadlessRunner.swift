import ClusterEngine
import Dispatch

/// Runs one job on a cluster without a terminal UI, printing progress, events and the verified
/// result as text or JSON lines.
public struct HeadlessRunner {
    public enum OutputFormat: Sendable { case text, json }

    /// How a headless run ended, and the process exit status that goes with it.
    public enum Outcome: Equatable, Sendable {
        case verified, mismatch, interrupted
        public var exitStatus: Int32 {
            switch self {
            case .verified: return 0
            case .mismatch: return 1
            case .interrupted: return 130
            }
        }
    }

    public let cluster: Cluster
    public let format: OutputFormat
    /// Seconds between progress lines.
    public let interval: Double
    public let write: (String) -> Void
    /// Polled several times a second; returning true stops the run (Ctrl-C, SIGTERM).
    public let shouldStop: () -> Bool

    public init(cluster: Cluster, format: OutputFormat, interval: Double,
                write: @escaping (String) -> Void, shouldStop: @escaping () -> Bool = { false }) {
        self.cluster = cluster
        self.format = format
        self.interval = interval
        self.write = write
        self.shouldStop = shouldStop
    }

    /// Submits `spec`, reports until it finishes (or the run is stopped), then prints the result.
    public func run(_ spec: JobSpec) -> Outcome {
        var lastEvent: UInt64 = 0
        let job = cluster.submit(spec)
        _ = cluster.snapshot()  // the first sample is the baseline for the first rate
        var nextProgress = DispatchTime.now() + interval
        // Poll in short slices so a stop request is honored quickly even with a long interval.
        let slice = min(interval, 0.05)
        while true {
            let summary = cluster.waitForJob(job, timeout: slice)
            lastEvent = flushEvents(after: lastEvent)
            if let summary {
                report(summary)
                return summary.verified ? .verified : .mismatch
            }
            if shouldStop() {
                reportInterruption()
                return .interrupted
            }
            if DispatchTime.now() >= nextProgress {
                nextProgress = DispatchTime.now() + interval
                reportProgress(cluster.snapshot())
            }
        }
    }

    private func flushEvents(after sequence: UInt64) -> UInt64 {
        var last = sequence
        for event in cluster.events(after: sequence) {
            last = event.sequence
            switch format {
            case .text: write(HeadlessReport.eventLine(event))
            case .json: write(HeadlessReport.jsonLine(HeadlessReport.Event(seconds: event.seconds, message: event.message)))
            }
        }
        return last
    }

    private func reportProgress(_ snapshot: ClusterSnapshot) {
        switch format {
        case .text: write(HeadlessReport.progressLine(snapshot))
        case .json: if let progress = HeadlessReport.progress(snapshot) { write(HeadlessReport.jsonLine(progress)) }
        }
    }

    private func report(_ summary: JobSummary) {
        switch format {
        case .text:
            HeadlessReport.resultLines(summary).forEach(write)
        case .json:
            write(HeadlessReport.jsonLine(HeadlessReport.result(summary, workers: cluster.snapshot().workers)))
        }
    }

    private func reportInterruption() {
        let snapshot = cluster.snapshot()
        let done = snapshot.job.map { Format.percent($0.progress) } ?? "0%"
        switch format {
        case .text: write("interrupted at \(done); the partial total is not verified")
        case .json: write(HeadlessReport.jsonLine(HeadlessReport.Event(seconds: snapshot.time, message: "interrupted at \(done)")))
        }
    }
}
