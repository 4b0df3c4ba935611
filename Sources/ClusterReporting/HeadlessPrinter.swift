import ClusterEngine

/// Writes what headless runs report, as text for people or JSON lines for programs; shared by the
/// single-job runner and the script runner so both speak the same format.
public struct HeadlessPrinter {
    public enum OutputFormat: Sendable { case text, json }

    public let format: OutputFormat
    public let write: (String) -> Void
    /// Each worker's counts when the last result was printed: a result counts what its own job
    /// added (a script runs several jobs on the same workers).
    private let counted = CountedSoFar()

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
            case .json: write(HeadlessReport.jsonLine(EventJSON.object(event)))
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
        case .json:
            write(HeadlessReport.jsonLine(HeadlessReport.result(summary, workers: workers.map(counted.sinceLastResult))))
        }
        counted.update(workers)
    }

    /// The run was stopped before its job ended: said in words, or as a result marked
    /// interrupted with the partial total.
    public func interruption(_ snapshot: ClusterSnapshot) {
        let done = snapshot.job.map { Format.percent($0.progress) } ?? "0%"
        switch format {
        case .text: write("interrupted at \(done); the partial total is not verified")
        case .json:
            let workers = snapshot.workers.map(counted.sinceLastResult)
            if let result = HeadlessReport.interruptedResult(snapshot, workers: workers) { write(HeadlessReport.jsonLine(result)) }
        }
    }
}

/// What each worker had counted when the last result was printed.
private final class CountedSoFar {
    private var counts: [WorkerID: (chunks: Int, processed: UInt64, accepted: UInt64)] = [:]

    /// `worker` with only what it counted since the last result.
    func sinceLastResult(_ worker: WorkerSnapshot) -> WorkerSnapshot {
        guard let before = counts[worker.id] else { return worker }
        return WorkerSnapshot(id: worker.id, state: worker.state, isLeaving: worker.isLeaving, speed: worker.speed,
                              assignment: worker.assignment, elementsProcessed: worker.elementsProcessed &- before.processed,
                              elementsAccepted: worker.elementsAccepted &- before.accepted,
                              chunksDone: worker.chunksDone - before.chunks, throughput: worker.throughput,
                              remote: worker.remote, leaseLost: worker.leaseLost, isLagging: worker.isLagging,
                              benched: worker.benched)
    }

    func update(_ workers: [WorkerSnapshot]) {
        for w in workers { counts[w.id] = (w.chunksDone, w.elementsProcessed, w.elementsAccepted) }
    }
}
