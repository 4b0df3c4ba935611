import ClusterEngine
import ClusterJournal
import ClusterReporting
import Foundation

/// Figure 25: what `--journal` costs. The same job with and without a journal, side by side, at
/// three chunk sizes; the journal's bytes per accepted chunk; and the time from opening a
/// journal of a million accepted chunks (none of them consecutive: a row each, the worst case)
/// to the first chunk handed out after the restart.
struct JournalCost {
    let measurements: Measurements

    func run() throws {
        let count = measurements.elements(2e10)
        let workers = measurements.cores
        let table = Table("25. The journal's cost: \(workers) workers on 1...\(Format.grouped(count)), with and without --journal (median of \(measurements.runs) runs)",
                          ["chunk", "chunks", "without", "with journal", "with / without", "journal bytes per chunk", "rows",
                           "spread (without / with)"])
        for size: Int64 in [4 << 20, 64 << 10, 4 << 10] {
            let spec = try JobSpec(lo: 1, hi: count, chunkSize: size)
            var without = Sample(), with = Sample()
            var bytes = 0, rows = 0
            for _ in 0..<measurements.runs {
                without.add(try seconds(spec, workers: workers, journal: nil).seconds)
                let path = Self.temporary()
                defer { Journal.removeFiles(at: path) }
                let measured = try seconds(spec, workers: workers, journal: path)
                with.add(measured.seconds)
                bytes = measured.bytes
                rows = (try? JournalReport.read(path))?.jobs.first?.rows ?? 0
            }
            table.row(size >= 1 << 20 ? "\(size >> 20) Mi" : "\(size >> 10) Ki", Format.grouped(spec.chunkCount),
                      Measurements.rate(count, without.median), Measurements.rate(count, with.median),
                      Measurements.ratio(without.median / with.median),
                      Format.fixed(Double(bytes) / Double(spec.chunkCount), decimals: 2), Format.grouped(rows),
                      Measurements.spread(without, with))
        }
        try recovery()
    }

    /// One job's seconds on an in-process cluster, with a journal at `journal` if given, and the
    /// journal's size once closed.
    private func seconds(_ spec: JobSpec, workers: Int, journal path: String?) throws -> (seconds: Double, bytes: Int) {
        let cluster = Cluster()
        let journal = try path.map { try Journal(path: $0) }
        journal?.attach(to: cluster)
        for _ in 0..<workers { cluster.addWorker() }
        let job = cluster.submit(spec)
        guard let summary = cluster.waitForJob(job, timeout: 600), summary.verified else {
            throw BenchError("journal job \(spec.lo)...\(spec.hi) did not verify")
        }
        journal?.flush()
        cluster.shutdown()
        journal?.finish()
        let bytes = path.map { Self.size($0) + Self.size($0 + "-wal") } ?? 0
        return (summary.elapsed, bytes)
    }

    /// A journal of 1,000,000 accepted chunks, every other chunk of a job of 2,000,000: the time
    /// from opening it to the first chunk handed out.
    private func recovery() throws {
        let table = Table("25b. Restart from a journal of 1,000,000 accepted chunks, a row each (median of \(measurements.runs) runs)",
                          ["journal size", "open and read", "to the first chunk handed out", "spread"])
        let pristine = Self.temporary(), path = Self.temporary()
        defer { Journal.removeFiles(at: pristine); Journal.removeFiles(at: path) }
        let spec = try JobSpec(lo: 1, hi: 2_000_000 * 1_000, chunkSize: 1_000)
        do {
            let journal = try Journal(path: pristine)
            var batch = JournalBatch()
            batch.jobChanges = [.submitted(JobID(1), spec), .started(JobID(1))]
            try journal.write(batch)
            for block in 0..<100 {
                var ranges = JournalBatch()
                for i in 0..<10_000 {
                    let chunk = Int64(block * 10_000 + i) * 2
                    let elements = spec.elements(ofChunk: chunk)
                    ranges.ranges.append(AcceptedRange(job: JobID(1), firstChunk: chunk, endChunk: chunk + 1, elements: 1_000,
                                                       sum: SumOfSquaresKernel.sum(elements.lowerBound, elements.upperBound),
                                                       lastAttempt: AttemptID(UInt64(chunk + 1)), worker: WorkerID(1), host: nil))
                }
                try journal.write(ranges)
            }
            journal.finish()
        }
        var opened = Sample(), first = Sample()
        for _ in 0..<measurements.runs {
            // The same million each time: the run below accepts a few more.
            Journal.removeFiles(at: path)
            try FileManager.default.copyItem(atPath: pristine, toPath: path)
            let start = ContinuousClock.now
            let journal = try Journal(path: path)
            guard journal.unfinishedJobs.first?.acceptedChunks == 1_000_000 else { throw BenchError("the journal lost chunks") }
            opened.add(Self.seconds(ContinuousClock.now - start))
            let cluster = Cluster()
            journal.attach(to: cluster)
            cluster.resume(journal.unfinishedJobs)
            cluster.addWorker()
            while (cluster.snapshot().job?.chunksInFlight ?? 0) == 0 && (cluster.snapshot().job?.chunksDone ?? 0) == 1_000_000 {
                usleep(100)
            }
            first.add(Self.seconds(ContinuousClock.now - start))
            cluster.shutdown()
            journal.finish()
        }
        table.row(Format.grouped(Self.size(pristine)) + " bytes", Format.fixed(opened.median * 1000, decimals: 0) + " ms",
                  Format.fixed(first.median * 1000, decimals: 0) + " ms", Measurements.spread(opened, first))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func temporary() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cluster-bench-journal-\(UUID().uuidString)").path
    }


    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}
