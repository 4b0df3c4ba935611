import ClusterEngine
import ClusterReporting
import Dispatch
import Synchronization

/// Figure 22: what a worker that never sums costs a job, now that the tail gets backups. The
/// same job twice, side by side: once clean, once with one worker stuck for ever in its first
/// sub-block (as a client that heartbeats but never hands in is), and once clean with that
/// worker left out. Without backups the stuck job would never end; with them it should take
/// about as long as the job without that worker: the watch period (1 s) runs while the others
/// work, and the copy is one chunk.
struct StalledWorker {
    let measurements: Measurements

    func run() throws {
        let workers = max(2, measurements.cores)
        let table = Table("22. A worker that never sums: \(workers) workers, one stuck in its first chunk for ever (median of \(measurements.runs) runs)",
                          ["job", "clean", "clean, one worker fewer", "one worker stuck", "stuck / one fewer",
                           "spread (clean / fewer / stuck)"])
        // A long job, whose other workers outlast the watch period, and a short one, which waits for it.
        for count in [measurements.elements(2e10), measurements.elements(2e9)] {
            let spec = try JobSpec(lo: 1, hi: count, chunkSize: count / Int64(8 * workers))
            var clean = Sample(), fewer = Sample(), stuck = Sample()
            for _ in 0..<measurements.runs {
                clean.add(try seconds(spec, workers: workers, stuck: false))
                fewer.add(try seconds(spec, workers: workers - 1, stuck: false))
                stuck.add(try seconds(spec, workers: workers, stuck: true))
            }
            table.row("\(Format.range(spec.lo, spec.hi, grouped: true)), \(spec.chunkCount) chunks",
                      Format.fixed(clean.median, decimals: 3) + " s", Format.fixed(fewer.median, decimals: 3) + " s",
                      Format.fixed(stuck.median, decimals: 3) + " s", Measurements.ratio(stuck.median / fewer.median),
                      Measurements.spread(clean, fewer, stuck))
        }
    }

    /// One job's time; with `stuck`, the first kernel call of the job's first chunk never returns
    /// until the job is over.
    private func seconds(_ spec: JobSpec, workers: Int, stuck: Bool) throws -> Double {
        let release = DispatchSemaphore(value: 0)
        let armed = Atomic<Bool>(stuck)
        var configuration = ClusterConfiguration()
        // The stuck call holds no core: a stalled remote worker would not hold one of ours.
        configuration.cpuTokens = .unbounded()
        configuration.kernel = { lo, hi in
            if lo == spec.lo, armed.exchange(false, ordering: .relaxed) { release.wait() }
            return SumOfSquaresKernel.standard(lo, hi)
        }
        let cluster = Cluster(configuration: configuration)
        defer {
            if stuck { release.signal() }
            cluster.shutdown()
        }
        for _ in 0..<workers { cluster.addWorker() }
        let job = cluster.submit(spec)
        guard let summary = cluster.waitForJob(job, timeout: 600), summary.verified else {
            throw BenchError("the job with a stuck worker did not end verified")
        }
        if stuck, summary.backupsWon < 1 { throw BenchError("the stuck worker's chunk was not backed up") }
        return summary.elapsed
    }
}
