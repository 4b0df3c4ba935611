import ClusterEngine
import ClusterMetrics
import Foundation
import Synchronization

/// Figure 31: what `--metrics` costs. The same job with no metrics, and with metrics served and
/// scraped over HTTP every 100 ms (ten times Prometheus' usual fastest), side by side; and the
/// time to build one exposition with 64 and 1,000 workers.
struct MetricsCost {
    let measurements: Measurements

    func run() throws {
        let runs = measurements.runs, cores = measurements.cores
        let count = measurements.elements(lasting: 2, atLeast: 2e10)
        let spec = try JobSpec(lo: 1, hi: count, chunkSize: JobSpec.defaultChunkSize)
        var off = Sample(), on = Sample(), scrapes = Sample()
        for _ in 0..<runs {
            off.add(try measurements.engineSeconds(spec, workers: cores))
            let (seconds, answered) = try scraped(spec, workers: cores)
            on.add(seconds)
            scrapes.add(Double(answered))
        }
        let table = Table("31. --metrics scraped every 100 ms against no metrics, \(cores) workers on 1...\(Format.grouped(count)), chunks of \(Format.grouped(spec.chunkSize)) (median of \(runs) runs)",
                          ["workers", "no metrics", "scraped", "scraped / none", "scrapes answered", "spread (none / scraped)"])
        table.row("\(cores)", Measurements.rate(count, off.median), Measurements.rate(count, on.median),
                  Measurements.ratio(off.median / on.median), Format.fixed(scrapes.median, decimals: 0), Measurements.spread(off, on))
        let cost = Table("31b. One exposition (snapshot, registry, text) with many workers (median of 50)",
                         ["workers", "exposition", "bytes"])
        for workers in [64, 1_000] {
            let (seconds, bytes) = exposition(workers: workers)
            cost.row("\(workers)", "\(Format.fixed(seconds * 1e3, decimals: 2)) ms", Format.grouped(Int64(bytes)))
        }
    }

    /// Seconds the job took while a client scraped `/metrics` every 100 ms, and how many
    /// scrapes were answered.
    func scraped(_ spec: JobSpec, workers: Int) throws -> (Double, Int) {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        let scraper = try Scraper(cluster)
        defer { scraper.stop() }
        for _ in 0..<workers { cluster.addWorker() }
        let job = cluster.submit(spec)
        let summary = cluster.waitForJob(job, timeout: 600)
        let answered = scraper.stop()
        guard let summary, summary.verified else { throw BenchError("scraped job \(spec.lo)...\(spec.hi) did not verify") }
        return (summary.elapsed, answered)
    }

    /// Seconds to build one exposition of `workers` idle workers, and its size.
    func exposition(workers: Int) -> (Double, Int) {
        var configuration = ClusterConfiguration()
        configuration.maxWorkers = max(configuration.maxWorkers, workers)
        let cluster = Cluster(configuration: configuration)
        defer { cluster.shutdown() }
        for _ in 0..<workers { cluster.addWorker() }
        let exporter = MetricsExporter(cluster: cluster, reuseWithin: .zero)
        var times = Sample(), bytes = 0
        for _ in 0..<50 {
            let start = ContinuousClock.now
            bytes = exporter.exposition().count
            times.add(JournalCost.seconds(ContinuousClock.now - start))
        }
        return (times.median, bytes)
    }

    /// GET /metrics over a fresh loopback connection; the response, or nil.
    static func get(port: Int) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
        var response: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: response, as: UTF8.self)
    }
}

/// `--metrics` served for a cluster and scraped over HTTP every 100 ms, as a Prometheus ten times
/// its usual rate would, until `stop()`, which says how many scrapes were answered.
final class Scraper: Sendable {
    private let server: MetricsServer
    private let stopped = Atomic<Bool>(false), answered = Atomic<Int>(0)

    init(_ cluster: Cluster) throws {
        let server = try MetricsServer(host: "127.0.0.1", port: 0, exporter: MetricsExporter(cluster: cluster))
        self.server = server
        Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                if let body = MetricsCost.get(port: server.port), body.contains("cluster_top_elements_done_total") {
                    answered.add(1, ordering: .relaxed)
                }
                usleep(100_000)
            }
        }.start()
    }

    /// Stops scraping and serving (again: nothing); the scrapes answered.
    @discardableResult
    func stop() -> Int {
        if !stopped.exchange(true, ordering: .relaxed) { server.stop() }
        return answered.load(ordering: .relaxed)
    }
}
