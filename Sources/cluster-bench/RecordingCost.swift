import ClusterDashboard
import ClusterEngine
import ClusterRecording
import ClusterReporting
import Dispatch
import Foundation

/// Figure 32: what `--record` costs and how fast a recording plays back. The same job recorded
/// and not, side by side; the bytes a second of a recording with the machine's cores and with
/// 64 workers; and a replay's frame time with 1,000 workers (rebuilding the frame from the file,
/// then drawing it at 200×60), against the live frame (snapshot, then the same drawing).
struct RecordingCost {
    let measurements: Measurements

    func run() throws {
        let runs = measurements.runs, cores = measurements.cores
        let count = measurements.elements(lasting: 2, atLeast: 2e10)
        let spec = try JobSpec(lo: 1, hi: count, chunkSize: JobSpec.defaultChunkSize)
        var off = Sample(), on = Sample(), all = Sample(), bytes = Sample(), wide = Sample()
        for _ in 0..<runs {
            off.add(try measurements.engineSeconds(spec, workers: cores))
            let (seconds, written) = try recorded(spec, workers: cores)
            on.add(seconds)
            bytes.add(Double(written) / seconds)
            all.add(try recorded(spec, workers: cores, tracedAndScraped: true).0)
            let (wideSeconds, wideWritten) = try recorded(spec, workers: 64)
            wide.add(Double(wideWritten) / wideSeconds)
        }
        let table = Table("32. --record against no recording, \(cores) workers on 1...\(Format.grouped(count)), chunks of \(Format.grouped(spec.chunkSize)) (median of \(runs) runs)",
                          ["workers", "not recorded", "recorded", "recorded / not", "recording bytes/s", "spread (not / recorded)"])
        table.row("\(cores)", Measurements.rate(count, off.median), Measurements.rate(count, on.median),
                  Measurements.ratio(off.median / on.median), "\(Format.si(bytes.median))B/s", Measurements.spread(off, on))
        table.row("64", "", "", "", "\(Format.si(wide.median))B/s", Measurements.spread(wide))
        table.row("\(cores), recorded + --trace + --metrics scraped every 100 ms", Measurements.rate(count, off.median),
                  Measurements.rate(count, all.median), Measurements.ratio(off.median / all.median), "", Measurements.spread(off, all))
        try replayFrames(workers: 1_000)
    }

    /// Seconds the job took while recorded, and the recording's bytes.
    /// `tracedAndScraped`: also `--trace` and `--metrics`, scraped every 100 ms.
    func recorded(_ spec: JobSpec, workers: Int, tracedAndScraped: Bool = false) throws -> (Double, Int) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-bench-\(UUID().uuidString).rec").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cluster = Cluster()
        defer { cluster.shutdown() }
        var trace: TraceWriter?, scraper: Scraper?
        if tracedAndScraped {
            trace = try TraceWriter(path: path + ".trace")
            trace?.start(tracing: cluster)
            scraper = try Scraper(cluster)
        }
        defer {
            scraper?.stop()
            trace?.finish()
            try? FileManager.default.removeItem(atPath: path + ".trace")
        }
        for _ in 0..<workers { cluster.addWorker() }
        let recorder = LiveRecorder(cluster: cluster, writer: try RecordingWriter(path: path, header: RecordingHeader(cores: measurements.cores, command: "bench")))
        recorder.start()
        let job = cluster.submit(spec)
        guard let summary = cluster.waitForJob(job, timeout: 600), summary.verified else {
            throw BenchError("recorded job \(spec.lo)...\(spec.hi) did not verify")
        }
        recorder.finish()
        return (summary.elapsed, recorder.writer.bytesWritten)
    }

    /// A run of `workers` workers recorded for about two seconds, then played back frame by
    /// frame; the live frames drawn the same way, for comparison.
    func replayFrames(workers: Int) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-bench-\(UUID().uuidString).rec").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var configuration = ClusterConfiguration()
        configuration.maxWorkers = max(configuration.maxWorkers, workers)
        let cluster = Cluster(configuration: configuration)
        for _ in 0..<workers { cluster.addWorker() }
        let recorder = LiveRecorder(cluster: cluster, writer: try RecordingWriter(path: path, header: RecordingHeader(cores: measurements.cores, command: "bench")))
        recorder.start()
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000_000_000, chunkSize: 1 << 22))
        let capabilities = Capabilities(unicode: true, color: true)
        var state = ViewState()
        state.selectedWorker = WorkerID(workers / 2)
        // Live: a snapshot and a drawing, 20 times a second, while the recording is made.
        var live = Sample()
        let feed = ClusterFeed(cluster: cluster)
        for _ in 0..<40 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let frame = feed.next(timeline: false)
            _ = DashboardView.render(DashboardInput(frame: frame, state: state, width: 200, height: 60, capabilities: capabilities, cores: 2))
            live.add(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            usleep(50_000)
        }
        recorder.finish()
        cluster.shutdown()
        let size = recorder.writer.bytesWritten
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let recording = try Recording(path: path)
        let load = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        var rebuild = Sample(), replayed = Sample()
        for index in 0..<recording.frameCount {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let frame = recording.frame(at: index)
            let t1 = DispatchTime.now().uptimeNanoseconds
            _ = DashboardView.render(DashboardInput(frame: frame, state: state, width: 200, height: 60, capabilities: capabilities, cores: 2))
            let t2 = DispatchTime.now().uptimeNanoseconds
            rebuild.add(Double(t1 - t0) / 1e6)
            replayed.add(Double(t2 - t0) / 1e6)
        }
        let table = Table("32b. Replay with \(Format.grouped(Int64(workers))) workers: \(recording.frameCount) frames, \(Format.si(Double(size)))B, loaded in \(Format.fixed(load, decimals: 2)) s (median per frame)",
                          ["frame", "rebuilt from the recording", "drawn (200×60 table)", "live: snapshot + drawn"])
        table.row("median", Format.fixed(rebuild.median, decimals: 2) + " ms", Format.fixed(replayed.median, decimals: 2) + " ms",
                  Format.fixed(live.median, decimals: 2) + " ms")
    }
}
