import ClusterEngine
import ClusterMetrics
import ClusterTestSupport
import Foundation
import Testing

@Suite("Metrics exporter")
struct MetricsExporterTests {
    /// The value of the series named exactly `series` (labels included), or nil if absent.
    static func value(_ series: String, in exposition: [UInt8]) -> Double? {
        String(decoding: exposition, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix(series + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    static func lines(_ prefix: String, in exposition: [UInt8]) -> [Substring] {
        String(decoding: exposition, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix(prefix) }
    }

    @Test("the counters follow the cluster over two jobs: elements done is the sum of their sizes, both verified")
    func countersOverJobs() throws {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        for _ in 0..<2 { cluster.addWorker() }
        let exporter = MetricsExporter(cluster: cluster, reuseWithin: .zero)
        #expect(Self.value("cluster_top_elements_done_total", in: exporter.exposition()) == 0)
        let first = cluster.submit(try JobSpec(lo: 1, hi: 3_000_000, chunkSize: 100_000))
        _ = try #require(cluster.waitForJob(first, timeout: 600))
        var text = exporter.exposition()
        #expect(Self.value("cluster_top_elements_done_total", in: text) == 3_000_000)
        #expect(Self.value("cluster_top_chunks_done_total", in: text) == 30)
        let second = cluster.submit(try JobSpec(lo: 10, hi: 1_000_009, chunkSize: 250_000))
        _ = try #require(cluster.waitForJob(second, timeout: 600))
        text = exporter.exposition()
        #expect(Self.value("cluster_top_elements_done_total", in: text) == 4_000_000)
        #expect(Self.value("cluster_top_chunks_done_total", in: text) == 34)
        #expect(Self.value("cluster_top_jobs_finished_total", in: text) == 2)
        #expect(Self.value("cluster_top_jobs_verified_total", in: text) == 2)
        // The workers' own counters add up to the same elements.
        let perWorker = Self.lines("cluster_top_worker_elements_done_total{", in: text).compactMap { Double($0.split(separator: " ").last ?? "") }
        #expect(perWorker.count == 2 && perWorker.reduce(0, +) == 4_000_000, "\(perWorker)")
        #expect(Self.value("cluster_top_workers{state=\"idle\"}", in: text) == 2)
        #expect(Self.value("cluster_top_job_progress_ratio", in: text) == 1)
    }

    @Test("workers added and removed a hundred times leave no series behind: only live workers have theirs")
    func seriesLeaveWithTheirWorker() throws {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        let kept = try #require(cluster.addWorker())
        let exporter = MetricsExporter(cluster: cluster, reuseWithin: .zero)
        for _ in 0..<100 {
            let worker = try #require(cluster.addWorker())
            #expect(Self.lines("cluster_top_worker_chunks_done_total{worker=\"\(worker.rawValue)\"", in: exporter.exposition()).count == 1)
            #expect(cluster.remove(worker))
            #expect(eventually(within: 600) { cluster.snapshot().workers.first { $0.id == worker }.map { $0.state == .removed } ?? true })
        }
        let text = exporter.exposition()
        #expect(Self.lines("cluster_top_worker_chunks_done_total{", in: text) == ["cluster_top_worker_chunks_done_total{worker=\"\(kept.rawValue)\",host=\"local\"} 0"])
        #expect(Self.lines("cluster_top_worker_throughput_elements_per_second{", in: text).count == 1)
        #expect(Self.value("cluster_top_workers{state=\"idle\"}", in: text) == 1)
    }

    @Test("scrapes within the reuse window share one exposition: a flood costs one snapshot")
    func scrapesShareAnExposition() throws {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        let exporter = MetricsExporter(cluster: cluster, reuseWithin: .seconds(3600))
        let before = exporter.exposition()
        cluster.addWorker()
        #expect(exporter.exposition() == before, "a second scrape inside the window took a new snapshot")
        let fresh = MetricsExporter(cluster: cluster, reuseWithin: .zero)
        #expect(Self.value("cluster_top_workers{state=\"idle\"}", in: fresh.exposition()) == 1)
    }
}
