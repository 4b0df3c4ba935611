import ClusterEngine

/// Writes what headless runs report, as text for people or JSON lines for programs; shared by the
/// single-job runner and the script runner so both speak the same format.
public struct HeadlessPrinter {
    public enum OutputFormat: Sendable { case text, json }

    public let format: OutputFormat
    public let write: (String) -> Void

    public init(format: OutputFormat, write: @escaping (String) -> Void) {
        self.format = format
        self.write = write
    }

    /// Prints the events after `sequence`; returns the last one printed.
    public func flushEvents(from cluster: Cluster, after sequence: UInt64) -> UInt64 {
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

    public func progress(_ snapshot: ClusterSnapshot) {
        switch format {
        case .text: write(HeadlessReport.progressLine(snapshot))
        case .json: if let progress = HeadlessReport.progress(snapshot) { write(HeadlessReport.jsonLine(progress)) }
        }
    }

    public func result(_ summary: JobSummary, workers: [WorkerSnapshot]) {
        switch format {
        case .text: HeadlessReport.resultLines(summary).forEach(write)
        case .json: write(HeadlessReport.jsonLine(HeadlessReport.result(summary, workers: workers)))
        }
    }

    public func interruption(_ snapshot: ClusterSnapshot) {
        let done = snapshot.job.map { Format.percent($0.progress) } ?? "0%"
        switch format {
        case .text: write("interrupted at \(done); the partial total is not verified")
        case .json: write(HeadlessReport.jsonLine(HeadlessReport.Event(seconds: snapshot.time, message: "interrupted at \(done)")))
        }
    }
}
