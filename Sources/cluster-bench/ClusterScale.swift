import ClusterDashboard
import ClusterEngine
import ClusterNet
import ClusterReporting
import Dispatch
import Foundation
import Glibc

/// Figures 16 to 18: the cluster at a scale of hundreds of workers. The engine's cost per chunk
/// and per snapshot as the workers grow; a coordinator with 200 remote threads from 50 processes.
struct ClusterScale {
    let measurements: Measurements

    /// CPU seconds this process has used, all threads.
    static func processCPU() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// CPU seconds used by this process's threads other than the compute threads (named
    /// "cluster-N" by the engine): the coordinator's network, snapshots and frames.
    static func controlCPU() -> Double {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var total = 0.0
        for task in tasks {
            let name = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
            if name.hasPrefix("cluster-") { continue }
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            total += (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        return total
    }

    // MARK: 16. The engine with 2, 100 and 1,000 workers

    func engineCost() throws {
        // Two job sizes per worker count: the difference is the cost of the extra chunks alone,
        // apart from what a job costs once per worker (waking it, its first claims, its idle end).
        let chunkSize: Int64 = 1_000
        let large = measurements.elements(2e6) / 10 * 10, small = large / 4
        let counts = [2, 100, 1_000]
        var whole = Array(repeating: Sample(), count: counts.count), marginal = whole, fixed = whole, wall = whole, snapshot = whole
        for _ in 0..<measurements.runs {
            for (i, workers) in counts.enumerated() {
                var configuration = ClusterConfiguration()
                configuration.maxWorkers = max(configuration.maxWorkers, workers)
                let cluster = Cluster(configuration: configuration)
                defer { cluster.shutdown() }
                for _ in 0..<workers { cluster.addWorker() }
                var cpu: [Double] = []
                for chunks in [small, large] {
                    let before = Self.processCPU()
                    let job = cluster.submit(try JobSpec(lo: 1, hi: chunks * chunkSize, chunkSize: chunkSize))
                    guard let summary = cluster.waitForJob(job, timeout: 600), summary.verified else {
                        throw BenchError("the \(workers)-worker job did not verify")
                    }
                    cpu.append(Self.processCPU() - before)
                    if chunks == large { wall[i].add(summary.elapsed) }
                }
                let perChunk = (cpu[1] - cpu[0]) / Double(large - small)
                whole[i].add(cpu[1] / Double(large))
                marginal[i].add(perChunk)
                fixed[i].add(cpu[1] - perChunk * Double(large))
                // A snapshot of every worker, as the dashboard takes 10 times a second.
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<200 { _ = cluster.snapshot() }
                snapshot[i].add(Double(DispatchTime.now().uptimeNanoseconds - start) / 200)
            }
        }
        let table = Table("16. The engine with many workers: jobs of \(Format.grouped(small)) and \(Format.grouped(large)) chunks of \(Format.grouped(chunkSize)), \(measurements.cores) cores, CPU of all threads (median of \(measurements.runs) runs)",
                          ["workers", "chunks / s", "CPU per chunk, whole job", "per extra chunk", "vs 2 workers", "once per job", "snapshot", "spread (extra chunk / snapshot)"])
        for (i, workers) in counts.enumerated() {
            table.row(Format.grouped(Int64(workers)), Format.grouped(Int64(Double(large) / wall[i].median)),
                      Format.fixed(whole[i].median * 1e9, decimals: 0) + " ns", Format.fixed(marginal[i].median * 1e9, decimals: 0) + " ns",
                      Measurements.ratio(marginal[i].median / marginal[0].median),
                      Format.fixed(fixed[i].median * 1e3, decimals: 1) + " ms",
                      Format.fixed(snapshot[i].median / 1e3, decimals: 1) + " µs", Measurements.spread(marginal[i], snapshot[i]))
        }
    }

    // MARK: 18. 50 worker processes × 4 threads beside 4 local threads

    func coordinatorWithManyProcesses() throws {
        let processes = 50, threads = 4, local = 4
        let count = measurements.elements(1e11)
        let spec = try JobSpec(lo: 1, hi: count)
        var jobTime = Sample(), control = Sample(), frameTable = Sample(), frameGrid = Sample(), snapshotTime = Sample()
        for _ in 0..<measurements.runs {
            let loopback = try LoopbackCluster(clusterTop: measurements.clusterTop, local: local, processes: processes,
                                               threads: threads, names: { "laptop-\($0 + 1)" }, joinWithin: 120)
            defer { loopback.stop() }
            let cluster = loopback.cluster
            // Ten frames a second, as the dashboard draws them, timed; the control threads'
            // CPU over the job.
            let job = cluster.submit(spec)
            let controlBefore = Self.controlCPU()
            let started = DispatchTime.now().uptimeNanoseconds
            var tableNanos: [Double] = [], gridNanos: [Double] = [], snapshotNanos: [Double] = []
            let capabilities = Capabilities(unicode: true, color: true)
            while cluster.summary(of: job) == nil {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let snapshot = cluster.snapshot()
                let t1 = DispatchTime.now().uptimeNanoseconds
                var state = ViewState()
                let input = DashboardInput(snapshot: snapshot, events: cluster.events(after: 0).suffix(100), state: state,
                                           width: 200, height: 60, capabilities: capabilities)
                _ = DashboardView.render(input)
                let t2 = DispatchTime.now().uptimeNanoseconds
                state.panel = .grid
                var grid = input
                grid.state = state
                _ = DashboardView.render(grid)
                let t3 = DispatchTime.now().uptimeNanoseconds
                snapshotNanos.append(Double(t1 - t0))
                tableNanos.append(Double(t2 - t1))
                gridNanos.append(Double(t3 - t2))
                usleep(100_000)
                if Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 > 600 { throw BenchError("the job did not finish") }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            guard let summary = cluster.summary(of: job), summary.verified else { throw BenchError("the job did not verify") }
            jobTime.add(summary.elapsed)
            control.add((Self.controlCPU() - controlBefore) / seconds)
            func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
            snapshotTime.add(median(snapshotNanos))
            frameTable.add(median(tableNanos))
            frameGrid.add(median(gridNanos))
        }
        let table = Table("18. A coordinator with \(processes) worker processes × \(threads) threads on loopback beside \(local) local threads, 1...\(Format.grouped(count)) (median of \(measurements.runs) runs)",
                          ["job", "throughput", "coordinator CPU (all but compute threads)", "snapshot", "table frame", "grid frame", "spread (job / CPU)"])
        func ms(_ sample: Sample) -> String { Format.fixed(sample.median / 1e6, decimals: 2) + " ms" }
        table.row("verified, \(Format.fixed(jobTime.median, decimals: 2)) s", Measurements.rate(count, jobTime.median),
                  Format.fixed(control.median * 100, decimals: 1) + "% of a core", ms(snapshotTime), ms(frameTable), ms(frameGrid),
                  Measurements.spread(jobTime, control))
    }
}
