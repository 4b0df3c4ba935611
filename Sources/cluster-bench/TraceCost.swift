import ClusterEngine
import ClusterReporting
import Foundation

/// Figure 30: what `--trace` costs, in throughput and in bytes, side by side with the same job
/// untraced.
struct TraceCost {
    let measurements: Measurements

    func run() throws {
        let runs = measurements.runs, cores = measurements.cores
        let count = measurements.elements(lasting: 2, atLeast: 2e10)
        let spec = try JobSpec(lo: 1, hi: count, chunkSize: JobSpec.defaultChunkSize)
        var off = Sample(), on = Sample(), bytesPerSecond = Sample()
        for _ in 0..<runs {
            off.add(try measurements.engineSeconds(spec, workers: cores))
            let (seconds, bytes) = try traced(spec, workers: cores)
            on.add(seconds)
            bytesPerSecond.add(Double(bytes) / seconds)
        }
        var wide = Sample()
        for _ in 0..<runs {
            let (seconds, bytes) = try traced(spec, workers: 64)
            wide.add(Double(bytes) / seconds)
        }
        let table = Table("30. --trace against no trace, \(cores) workers on 1...\(Format.grouped(count)), chunks of \(Format.grouped(spec.chunkSize)) (median of \(runs) runs)",
                          ["workers", "untraced", "traced", "traced / untraced", "trace bytes/s", "spread (untraced / traced)"])
        table.row("\(cores)", Measurements.rate(count, off.median), Measurements.rate(count, on.median),
                  Measurements.ratio(off.median / on.median), "\(Format.si(bytesPerSecond.median))B/s", Measurements.spread(off, on))
        table.row("64", "", "", "", "\(Format.si(wide.median))B/s", Measurements.spread(wide))
    }

    /// Seconds the job took with a trace written, and the trace's size in bytes.
    func traced(_ spec: JobSpec, workers: Int) throws -> (Double, Int) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-bench-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cluster = Cluster()
        let writer = try TraceWriter(path: path)
        writer.start(tracing: cluster)
        for _ in 0..<workers { cluster.addWorker() }
        let job = cluster.submit(spec)
        guard let summary = cluster.waitForJob(job, timeout: 600), summary.verified else {
            throw BenchError("traced job \(spec.lo)...\(spec.hi) did not verify")
        }
        cluster.shutdown()
        writer.finish()
        return (summary.elapsed, writer.bytesWritten)
    }
}
