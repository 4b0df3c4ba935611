import ClusterEngine
import Foundation
import Prometheus
import Synchronization

/// The cluster's figures as Prometheus metrics (swift-prometheus' registry renders the text
/// exposition): read from a fresh snapshot at each scrape, so what Prometheus stores is what the
/// dashboard would show at that moment. Counters follow the engine's lifetime totals
/// (`ClusterTotals`), which only grow; per-worker series leave with their worker, so kills and
/// reconnects a hundred times over do not pile series up.
public final class MetricsExporter: Sendable {
    private let cluster: Cluster
    private let registry = PrometheusCollectorRegistry()
    private let state: Mutex<ExporterState>
    /// Scrapes closer together than this share one exposition: a flood of requests costs one
    /// snapshot per `reuseWithin`, not one each.
    private let reuseWithin: Duration
    private let roundTrips: DurationHistogram
    private let hasJournal: Bool

    /// Round-trip buckets: loopback answers in tens of microseconds, a classroom's Wi-Fi in
    /// milliseconds to a second.
    static let roundTripBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
    ]

    /// `hasJournal`: the run keeps a journal, so its state is exported.
    public init(cluster: Cluster, hasJournal: Bool = false, reuseWithin: Duration = .milliseconds(100)) {
        self.cluster = cluster
        self.hasJournal = hasJournal
        self.reuseWithin = reuseWithin
        state = Mutex(ExporterState(registry: registry))
        roundTrips = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "cluster_top", metricName: "round_trip", unitName: "seconds",
                                             helpText: "Round trip from the coordinator to a worker process and back (a Ping answered), each one measured."),
            buckets: Self.roundTripBuckets)
        let histogram = roundTrips
        cluster.observeRoundTrips { seconds in histogram.record(.nanoseconds(Int64(seconds * 1e9))) }
    }

    /// The text exposition of the cluster now (or of a moment ago, within `reuseWithin`).
    public func exposition() -> [UInt8] {
        let now = ContinuousClock.now
        return state.withLock { s in
            if let last = s.lastExposition, now - last.at < reuseWithin { return last.bytes }
            s.update(from: cluster.snapshot(), hasJournal: hasJournal)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(s.lastExposition?.bytes.count ?? 4096)
            registry.emit(into: &bytes)
            s.lastExposition = (now, bytes)
            return bytes
        }
    }
}

/// The registry's metrics and what the counters have been told so far.
private struct ExporterState {
    let registry: PrometheusCollectorRegistry
    var lastExposition: (at: ContinuousClock.Instant, bytes: [UInt8])?
    let workersByState: [WorkerState: Gauge]
    let throughput: Gauge
    let jobsQueued: Gauge
    let jobProgress: Gauge
    let jobElements: Gauge
    let chunksInFlight: Gauge
    let sessions: Gauge
    let hosts: Gauge
    let staleResults: MonotonicCounter
    let totals: [(counter: MonotonicCounter, value: KeyPath<ClusterTotals, Int64> & Sendable)]
    var journalStopped: Gauge?
    var perWorker: [WorkerID: WorkerSeries] = [:]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        func gauge(_ name: String, _ unit: String = "", _ help: String, labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(descriptor: .init(namespace: "cluster_top", metricName: name, unitName: unit, helpText: help), labels: labels)
        }
        func counter(_ name: String, _ help: String) -> MonotonicCounter {
            MonotonicCounter(registry.makeCounter(descriptor: .init(namespace: "cluster_top", metricName: name, unitName: "total", helpText: help)))
        }
        workersByState = Dictionary(uniqueKeysWithValues: WorkerState.allCases.map { state in
            (state, gauge("workers", "", "Workers (local threads and remote worker threads) by state.", labels: [("state", state.rawValue)]))
        })
        throughput = gauge("throughput", "elements_per_second", "Elements summed per second by the whole cluster, over the last second.")
        jobsQueued = gauge("jobs_queued", "", "Jobs waiting behind the running one.")
        jobProgress = gauge("job_progress", "ratio", "The running (or last) job's accepted elements over its size, 0 to 1.")
        jobElements = gauge("job_size", "elements", "The running (or last) job's size in elements.")
        chunksInFlight = gauge("chunks_in_flight", "", "Chunks of the running job held by workers now.")
        sessions = gauge("sessions", "", "Worker processes connected (one session each).")
        hosts = gauge("hosts", "", "Hosts with at least one live worker, this machine included when it has one.")
        staleResults = counter("stale_results", "Results of killed or superseded attempts, fenced off and discarded.")
        totals = [
            (counter("elements_done", "Elements whose sum the coordinator accepted, over all jobs."), \ClusterTotals.elementsDone),
            (counter("chunks_done", "Chunks completed, over all jobs."), \.chunksDone),
            (counter("chunks_requeued", "Chunks given back to the queue because their worker was killed, removed or lost."), \.chunksRequeued),
            (counter("chunks_split", "Chunks split so an idle worker could take half."), \.chunksSplit),
            (counter("chunks_stolen", "Queued chunks moved from one worker's share to another's."), \.chunksStolen),
            (counter("backups_started", "Backup attempts started for a slow chunk at a job's tail."), \.backupsStarted),
            (counter("backups_won", "Backup attempts that finished before their original."), \.backupsWon),
            (counter("wrong_sums", "Results refused because their sum was not the closed form of their range."), \.wrongSums),
            (counter("jobs_finished", "Jobs finished."), \.jobsFinished),
            (counter("jobs_verified", "Jobs whose total matched the closed form."), \.jobsVerified),
        ]
    }

    mutating func update(from snapshot: ClusterSnapshot, hasJournal: Bool) {
        var counts: [WorkerState: Int] = [:]
        for worker in snapshot.workers { counts[worker.state, default: 0] += 1 }
        for (state, gauge) in workersByState { gauge.set(to: Double(counts[state] ?? 0)) }
        throughput.set(to: snapshot.throughput)
        jobsQueued.set(Double(snapshot.queuedJobs))
        jobProgress.set(snapshot.job.map { $0.elementsTotal > 0 ? Double($0.elementsCompleted) / Double($0.elementsTotal) : 0 } ?? 0)
        jobElements.set(Double(snapshot.job?.elementsTotal ?? 0))
        chunksInFlight.set(Double(snapshot.job?.chunksInFlight ?? 0))
        let live = snapshot.workers.filter { $0.state != .removed }
        sessions.set(Double(Set(live.compactMap { $0.remote.map { "\($0.host)/\($0.pid)/\($0.instance)" } }).count))
        hosts.set(Double(Set(live.map { $0.remote?.host ?? "" }).count))
        staleResults.follow(Int64(snapshot.staleResults))
        for (counter, value) in totals { counter.follow(snapshot.totals[keyPath: value]) }
        if hasJournal {
            journalStopped = journalStopped ?? registry.makeGauge(
                descriptor: .init(namespace: "cluster_top", metricName: "journal_stopped", unitName: "",
                                  helpText: "1 once the --journal could not be written: a restart would not resume from here."))
            journalStopped?.set(to: snapshot.journalStopped ? 1 : 0)
        }
        updateWorkers(snapshot.workers)
    }

    /// One set of series per worker in the snapshot; a worker gone from it takes its series along.
    private mutating func updateWorkers(_ workers: [WorkerSnapshot]) {
        var seen = Set<WorkerID>()
        for worker in workers where worker.state != .removed {
            seen.insert(worker.id)
            let series = perWorker[worker.id] ?? WorkerSeries(registry: registry, worker: worker)
            perWorker[worker.id] = series
            series.update(worker)
        }
        for (id, series) in perWorker where !seen.contains(id) {
            series.unregister(from: registry)
            perWorker[id] = nil
        }
    }
}

/// A Prometheus counter that follows a count kept elsewhere: it moves by the difference, never
/// down (after the crash lesson rebuilds a job, it holds until the count passes it again).
final class MonotonicCounter: Sendable {
    let counter: Counter
    private let told = Atomic<Int64>(0)

    init(_ counter: Counter) { self.counter = counter }

    func follow(_ value: Int64) {
        let before = told.load(ordering: .relaxed)
        guard value > before else { return }
        told.store(value, ordering: .relaxed)
        counter.increment(by: value - before)
    }
}

/// One worker's series, labelled by its id and its host ("local" for this process's threads).
struct WorkerSeries {
    let elements: MonotonicCounter
    let chunks: MonotonicCounter
    let throughput: Gauge

    init(registry: PrometheusCollectorRegistry, worker: WorkerSnapshot) {
        let labels = [("worker", String(worker.id.rawValue)), ("host", worker.remote?.host ?? "local")]
        elements = MonotonicCounter(registry.makeCounter(
            descriptor: .init(namespace: "cluster_top", subsystem: "worker", metricName: "elements_done", unitName: "total",
                              helpText: "Elements whose sum the coordinator accepted from this worker."), labels: labels))
        chunks = MonotonicCounter(registry.makeCounter(
            descriptor: .init(namespace: "cluster_top", subsystem: "worker", metricName: "chunks_done", unitName: "total",
                              helpText: "Chunks this worker completed."), labels: labels))
        throughput = registry.makeGauge(
            descriptor: .init(namespace: "cluster_top", subsystem: "worker", metricName: "throughput", unitName: "elements_per_second",
                              helpText: "Elements this worker summed per second, over the last second."), labels: labels)
    }

    func update(_ worker: WorkerSnapshot) {
        elements.follow(Int64(clamping: worker.elementsAccepted))
        chunks.follow(Int64(worker.chunksDone))
        throughput.set(to: worker.throughput)
    }

    func unregister(from registry: PrometheusCollectorRegistry) {
        registry.unregisterCounter(elements.counter)
        registry.unregisterCounter(chunks.counter)
        registry.unregisterGauge(throughput)
    }
}
