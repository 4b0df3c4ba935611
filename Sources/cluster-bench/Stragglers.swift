import ClusterEngine
import ClusterReporting

extension Measurements {
    // MARK: 7. Schedules with one straggler

    /// Finish times of the three schedules on one job with worker 1 throttled to 25%, the runs
    /// interleaved. Fine chunks show static's cost; coarse ones (a few per worker) show why
    /// dynamic alone is not enough and stealing's splits are.
    func stragglers() throws {
        let count = elements(8e9)
        let workers = max(2, cores)
        let table = Table("7. Schedules with one straggler: \(workers) workers, worker 1 at 25% (median of \(runs) runs)",
                          ["chunks", "static", "dynamic", "stealing", "static / stealing", "dynamic / stealing",
                           "spread (static / dynamic / stealing)"])
        for chunkSize in [Int64(JobSpec.defaultChunkSize), count / Int64(2 * workers)] {
            var samples: [SchedulePolicy: Sample] = [:]
            for _ in 0..<runs {
                for policy in [SchedulePolicy.static, .dynamic, .stealing] {
                    let spec = try JobSpec(lo: 1, hi: count, chunkSize: chunkSize, schedule: policy)
                    samples[policy, default: Sample()].add(try engineSeconds(spec, workers: workers, slowFirst: 0.25))
                }
            }
            let (s, d, w) = (samples[.static]!, samples[.dynamic]!, samples[.stealing]!)
            let chunks = (count + chunkSize - 1) / chunkSize
            table.row("\(Format.grouped(chunks)) of \(Format.grouped(chunkSize))",
                      Format.fixed(s.median, decimals: 3) + " s", Format.fixed(d.median, decimals: 3) + " s",
                      Format.fixed(w.median, decimals: 3) + " s", Self.ratio(s.median / w.median),
                      Self.ratio(d.median / w.median), Self.spread(s, d, w))
        }
    }
}
