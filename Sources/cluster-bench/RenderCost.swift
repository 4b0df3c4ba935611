import ClusterDashboard
import ClusterEngine
import ClusterReporting
import Dispatch

/// Figure 15: what one dashboard frame costs with a thousand workers and with ten thousand, in
/// process: the engine's snapshot, then the layout into a 200×60 cell buffer, as the table and as
/// the cluster grid. The workers are a real engine's, remote ones spread over hosts of 4 threads,
/// each given an attempt and some progress through the engine's own calls, so every row and cell
/// has something to show; none of them computes.
struct RenderCost {
    let measurements: Measurements

    func run() throws {
        let table = Table("15. One frame with many workers, 200×60, in process (median of \(max(measurements.runs, 5)) × 20 frames)",
                          ["workers", "snapshot", "table view", "grid view", "frame (snapshot + grid)"])
        for count in [1_000, 10_000] {
            var configuration = ClusterConfiguration()
            configuration.maxWorkers = count
            // The table's rows are capped (issue 25) and so is one address's share: this figure
            // is about drawing that many, so it lifts both.
            configuration.maxWorkerRecords = max(configuration.maxWorkerRecords, count)
            configuration.maxRemoteWorkersPerHost = max(configuration.maxRemoteWorkersPerHost, count)
            let cluster = Cluster(configuration: configuration)
            defer { cluster.shutdown() }
            var ids: [RemoteWorkerHandle] = []
            for i in 0..<count {
                let info = RemoteWorkerInfo(host: "host-\(i / 4 + 1)", pid: Int32(1000 + i / 4), thread: i % 4, kernel: "avx2")
                guard let id = cluster.addRemoteWorker(info, onWake: {}) else { throw BenchError("could not add worker \(i)") }
                ids.append(id)
            }
            _ = cluster.submit(try JobSpec(lo: 1, hi: 1_000_000_000_000, chunkSize: 1_000_000))
            for (i, id) in ids.enumerated() {
                guard case .run(let task, _) = cluster.step(id) else { continue }
                cluster.remoteProgress(id, attempt: task.attempt, done: Int64(i * 7_919 % 1_000_000), processed: nil)
                if i % 50 == 7 { cluster.pause(id.id) }
            }
            var snapshotTime = Sample(), tableTime = Sample(), gridTime = Sample()
            let capabilities = Capabilities(unicode: true, color: true)
            for _ in 0..<max(measurements.runs, 5) {
                var snapshotNanos: UInt64 = 0, tableNanos: UInt64 = 0, gridNanos: UInt64 = 0
                for frame in 0..<20 {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let snapshot = cluster.snapshot()
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    var state = ViewState()
                    state.selectedWorker = ids[frame * 37 % ids.count].id
                    let input = DashboardInput(snapshot: snapshot, events: [], state: state, width: 200, height: 60,
                                               capabilities: capabilities)
                    _ = DashboardView.render(input)
                    let t2 = DispatchTime.now().uptimeNanoseconds
                    var gridInput = input
                    gridInput.state.panel = .grid
                    _ = DashboardView.render(gridInput)
                    let t3 = DispatchTime.now().uptimeNanoseconds
                    snapshotNanos += t1 - t0
                    tableNanos += t2 - t1
                    gridNanos += t3 - t2
                }
                snapshotTime.add(Double(snapshotNanos) / 20e6)
                tableTime.add(Double(tableNanos) / 20e6)
                gridTime.add(Double(gridNanos) / 20e6)
            }
            func ms(_ sample: Sample) -> String {
                Format.fixed(sample.median, decimals: 2) + " ms (spread \(Format.fixed(sample.spreadPercent, decimals: 0))%)"
            }
            table.row(Format.grouped(Int64(count)), ms(snapshotTime), ms(tableTime), ms(gridTime),
                      Format.fixed(snapshotTime.median + gridTime.median, decimals: 2) + " ms")
        }
    }
}
