import ProcessSupport
import ClusterEngine
import ClusterReporting
import Dispatch
import Foundation
import Glibc

/// Every figure of the suite. Each compares two things measured side by side in the same run,
/// interleaved, so that the shared machine's noise hits both alike.
struct Measurements {
    let runs: Int
    let scale: Double  // 1 for the full suite, smaller with --quick
    let reference: String  // the compiled C baseline: a plain 128-bit loop
    let splitReference: String  // the kernel's own algorithm in C, -march=native
    let clusterTop: String  // the real binary, for whole-process figures
    let cores = ProcessInfo.processInfo.activeProcessorCount
    /// One core's rate of the running kernel, measured once at start.
    let kernelRate: Double

    func elements(_ full: Double) -> Int64 { Int64(full * scale) }

    /// A job of about `seconds` of work on every core at the running kernel's measured rate, and
    /// never fewer than `full` elements: figures that compare runs of a fixed size last a tenth
    /// as long on a kernel ten times faster, until the start of a run weighs in every ratio.
    func elements(lasting seconds: Double, atLeast full: Double) -> Int64 {
        elements(max(full, kernelRate * Double(cores) * seconds))
    }

    /// Seconds for a C reference (the plain loop, or with `split` the kernel's algorithm) on
    /// `threads` threads; its total's low 64 bits are checked against the kernel's.
    /// With `ifma`, the IFMA variant's algorithm in C (the fastest exact reference, where the CPU has it).
    func referenceSeconds(_ lo: Int64, _ hi: Int64, threads: Int, split: Bool = false, ifma: Bool = false) throws -> Double {
        let result = try ChildProcess.run([split || ifma ? splitReference : reference, "\(lo)", "\(hi)", "\(threads)"]
                                          + (ifma ? ["ifma"] : []))
        let fields = result.output.split(separator: " ")
        guard result.exitStatus == 0, fields.count == 2, let seconds = Double(fields[0]) else {
            throw BenchError("the C reference failed: \(result.output)")
        }
        let expected = UInt64(truncatingIfNeeded: SumOfSquaresKernel.sum(lo, hi))
        guard UInt64(fields[1].trimmingCharacters(in: .whitespacesAndNewlines)) == expected else {
            throw BenchError("the C reference disagrees with the kernel on \(lo)...\(hi)")
        }
        return seconds
    }

    /// Seconds for one job on an in-process cluster of `workers` threads, the first of them at
    /// `slowFirst` of full speed.
    func engineSeconds(_ spec: JobSpec, workers: Int, slowFirst: Double = 1,
                       configuration: ClusterConfiguration = ClusterConfiguration()) throws -> Double {
        let cluster = Cluster(configuration: configuration)
        defer { cluster.shutdown() }
        for i in 0..<workers { cluster.addWorker(speed: i == 0 ? slowFirst : 1) }
        let job = cluster.submit(spec)
        guard let summary = cluster.waitForJob(job, timeout: 600), summary.verified else {
            throw BenchError("engine job \(spec.lo)...\(spec.hi) did not verify")
        }
        return summary.elapsed
    }

    static func rate(_ count: Int64, _ seconds: Double) -> String { Format.rate(Double(count) / seconds) }
    static func ratio(_ value: Double) -> String { Format.fixed(value, decimals: 3) + "×" }
    static func spread(_ samples: Sample...) -> String {
        samples.map { Format.fixed($0.spreadPercent, decimals: 1) + "%" }.joined(separator: " / ")
    }

    // MARK: 1. Kernel against the C loop, one core

    func kernel() throws {
        let hasIFMA = KernelVariant.ifma.isSupported
        let table = Table("1. Kernel vs C, one core (median of \(runs) runs; the kernel's variants side by side)",
                          ["range", "kernel variant", "kernel", "C, same algorithm, -march=native", "ratio",
                           "C, fastest exact (\(hasIFMA ? "IFMA" : "the same"))", "ratio",
                           "C, plain 128-bit loop", "ratio", "spread (kernel / C same / C fastest / C plain)"])
        for (lo, count) in [(Int64(1), elements(2e9)), (Int64(100_000_000_000), elements(2e9))] {
            let hi = lo + count - 1
            for variant in KernelVariant.supported.reversed() {
                var kernel = Sample(), same = Sample(), fastest = Sample(), plain = Sample()
                for _ in 0..<runs {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let total = SumOfSquaresKernel.sum(lo, hi, variant: variant)
                    kernel.add(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    precondition(total > 0)
                    // Its own algorithm compiled for this CPU alone: the IFMA one for ifma.
                    same.add(try referenceSeconds(lo, hi, threads: 1, split: true, ifma: variant == .ifma))
                    fastest.add(try referenceSeconds(lo, hi, threads: 1, split: true, ifma: hasIFMA))
                    plain.add(try referenceSeconds(lo, hi, threads: 1))
                }
                // A loop that runs faster than ~60 elements per nanosecond per core was not a loop.
                if [kernel, same, fastest, plain].contains(where: { Double(count) / $0.median > 6e10 }) {
                    emit("WARNING: implausible rate: a loop was replaced by a closed form")
                }
                table.row("\(Format.grouped(lo))...\(Format.grouped(hi))", variant.rawValue + (variant == .best ? " (auto)" : ""),
                          Self.rate(count, kernel.median), Self.rate(count, same.median), Self.ratio(same.median / kernel.median),
                          Self.rate(count, fastest.median), Self.ratio(fastest.median / kernel.median),
                          Self.rate(count, plain.median), Self.ratio(plain.median / kernel.median), Self.spread(kernel, same, fastest, plain))
            }
        }
        if hasIFMA {
            // Two threads: the engine's two workers against the fastest reference on two threads.
            let count = elements(8e9)
            var engine = Sample(), reference = Sample()
            for _ in 0..<runs {
                engine.add(try engineSeconds(try JobSpec(lo: 1, hi: count), workers: cores))
                reference.add(try referenceSeconds(1, count, threads: cores, ifma: true))
            }
            let both = Table("1b. \(cores) workers (ifma, default chunks) against the IFMA reference on \(cores) threads, 1...\(Format.grouped(count)) (median of \(runs) runs)",
                             ["engine", "C reference", "engine / reference", "spread (engine / C)"])
            both.row(Self.rate(count, engine.median), Self.rate(count, reference.median), Self.ratio(reference.median / engine.median),
                     Self.spread(engine, reference))
        }
    }

    // MARK: 2. Scaling

    func scaling() throws {
        let count = elements(4e9)
        let spec = try JobSpec(lo: 1, hi: count)
        let workerCounts = Array(Set([1, 2, cores, 2 * cores, 4 * cores])).sorted()
        var engine: [Int: Sample] = [:]
        var c1 = Sample(), c2 = Sample()
        for _ in 0..<runs {
            c1.add(try referenceSeconds(1, count, threads: 1))
            for workers in workerCounts { engine[workers, default: Sample()].add(try engineSeconds(spec, workers: workers)) }
            c2.add(try referenceSeconds(1, count, threads: 2))
        }
        let table = Table("2. Scaling on 1...\(Format.grouped(count)), \(cores) cores (median of \(runs) runs)",
                          ["workers", "throughput", "speedup vs 1 worker", "spread"])
        let one = engine[1]!.median
        for workers in workerCounts {
            let s = engine[workers]!
            table.row("\(workers)", Self.rate(count, s.median), Self.ratio(one / s.median), Self.spread(s))
        }
        table.row("C, 1 thread", Self.rate(count, c1.median), "", Self.spread(c1))
        table.row("C, 2 threads", Self.rate(count, c2.median), Self.ratio(c1.median / c2.median), Self.spread(c2))
        let engineSpeedup = one / engine[2]!.median, cSpeedup = c1.median / c2.median
        emit("\n2-worker speedup \(Self.ratio(engineSpeedup)) vs C's 2-thread speedup \(Self.ratio(cSpeedup)):"
              + " ratio \(Self.ratio(engineSpeedup / cSpeedup)) (floor 0.95×)")
        let most = workerCounts.last!
        emit("\(most) workers vs \(cores): \(Self.ratio(engine[cores]!.median / engine[most]!.median)) of the throughput"
              + " (floor 0.95×)")
    }

    // MARK: 3. Scheduling overhead

    func overhead() throws {
        // With a fixed 2 G elements the IFMA kernel's run lasted 35 ms, and the start (threads,
        // the first chunks claimed one at a time until a pace is known) weighed in every ratio.
        let count = elements(lasting: 1, atLeast: 2e9)
        let sizes: [Int64] = [4 << 10, 64 << 10, 1 << 20, 16 << 20]
        // The same tiny chunks with one chunk per attempt (`localRunSeconds` 0), as before runs.
        let singles: [Int64] = [4 << 10, 64 << 10]
        var noRuns = ClusterConfiguration()
        noRuns.localRunSeconds = 0
        var samples: [Int64: Sample] = [:], singleSamples: [Int64: Sample] = [:]
        for _ in 0..<runs {
            for size in sizes {
                samples[size, default: Sample()].add(try engineSeconds(try JobSpec(lo: 1, hi: count, chunkSize: size), workers: cores))
                if singles.contains(size) {
                    singleSamples[size, default: Sample()].add(
                        try engineSeconds(try JobSpec(lo: 1, hi: count, chunkSize: size), workers: cores, configuration: noRuns))
                }
            }
        }
        let table = Table("3. Chunk size vs throughput, \(cores) workers on 1...\(Format.grouped(count)) (median of \(runs) runs)",
                          ["chunk", "chunks", "throughput", "vs 16 Mi chunks", "overhead per chunk", "spread"])
        let big = samples[16 << 20]!.median
        let rows = sizes.map { (size: $0, single: false, sample: samples[$0]!) }
            + singles.map { (size: $0, single: true, sample: singleSamples[$0]!) }
        for (size, single, s) in rows {
            let chunks = (count + size - 1) / size
            // Extra time over the 16 Mi run, spread over the chunks, per worker; only when the
            // difference stands out of the runs' own spread.
            let noise = max(s.spreadPercent, samples[16 << 20]!.spreadPercent) / 100
            let perChunk = (s.median - big) * Double(cores) / Double(chunks) * 1e9
            let overhead = size == 16 << 20 ? "" : s.median - big <= big * noise ? "within noise"
                : "\(Format.fixed(perChunk, decimals: 0)) ns"
            let name = size >= 1 << 20 ? "\(size >> 20) Mi" : "\(size >> 10) Ki"
            table.row(single ? "\(name), one chunk per attempt (no runs)" : name, Format.grouped(chunks), Self.rate(count, s.median),
                      Self.ratio(big / s.median), overhead, Self.spread(s))
        }
    }

    // MARK: 5. Against the seed's architecture

    func seedPort(benchBinary: String) throws {
        let hi: Int64 = 100_000_000
        var portTime = Sample(), portMemory = Sample(), ourTime = Sample(), ourMemory = Sample()
        for _ in 0..<runs {
            let port = try ChildProcess.run([benchBinary, "seed-port", "1", "\(hi)", "4"])
            guard port.output.contains(String(SumOfSquaresKernel.sum(1, hi))) else { throw BenchError("seed port wrong: \(port.output)") }
            portTime.add(port.seconds)
            portMemory.add(Double(port.peakKiB))
            let ours = try ChildProcess.run([clusterTop, "--range", "1...\(hi)", "--workers", "4", "--headless"])
            guard ours.exitStatus == 0, ours.output.contains("[verified]") else { throw BenchError("cluster-top run failed") }
            ourTime.add(ours.seconds)
            ourMemory.add(Double(ours.peakKiB))
        }
        let table = Table("5. Against the seed's design, 1...100,000,000 on 4 workers, whole process (median of \(runs) runs)",
                          ["program", "wall time", "peak memory (RSS)", "spread (time)"])
        table.row("seed port (materialized data, static chunks, mutex total)", Format.fixed(portTime.median, decimals: 3) + " s",
                  Format.fixed(portMemory.median / 1024, decimals: 1) + " MiB", Self.spread(portTime))
        table.row("cluster-top --headless", Format.fixed(ourTime.median, decimals: 3) + " s",
                  Format.fixed(ourMemory.median / 1024, decimals: 1) + " MiB", Self.spread(ourTime))
        emit("\ncluster-top is \(Self.ratio(portTime.median / ourTime.median)) faster (floor 20×) and uses"
              + " \(Self.ratio(portMemory.median / ourMemory.median)) less peak memory (floor 100×)")
    }

    // MARK: 6. Control latency

    func controlLatency() throws {
        var killLatency = Sample(), pauseLatency = Sample()
        let chunk: Int64 = 16 << 20
        let wanted = max(runs, 5)
        // A 16 Mi chunk lasts a few milliseconds at SIMD speed: a round in which the job ends
        // before the control is given measures nothing and is tried again.
        var rounds = 0
        while killLatency.values.count < wanted || pauseLatency.values.count < wanted {
            rounds += 1
            guard rounds <= 20 * wanted else { throw BenchError("figure 6: jobs kept ending before the control was given") }
            if killLatency.values.count < wanted, let latency = try killToRetaken(chunk: chunk) { killLatency.add(latency) }
            if pauseLatency.values.count < wanted, let latency = try pauseToStopped(chunk: chunk) { pauseLatency.add(latency) }
        }
        let table = Table("6. Control latency with 16 Mi chunks (median of \(killLatency.values.count) runs)",
                          ["control", "median", "worst", "floor"])
        table.row("kill → chunk taken by another worker", Format.fixed(killLatency.median * 1e3, decimals: 3) + " ms",
                  Format.fixed((killLatency.values.max() ?? .nan) * 1e3, decimals: 3) + " ms", "10 ms")
        table.row("pause → progress stops", Format.fixed(pauseLatency.median * 1e3, decimals: 3) + " ms",
                  Format.fixed((pauseLatency.values.max() ?? .nan) * 1e3, decimals: 3) + " ms", "10 ms")
    }

    /// Two chunks on three workers, so an idle worker is waiting when one dies: seconds from the
    /// kill to that worker taking the chunk, both by the engine's clock; nil if the job ended first.
    private func killToRetaken(chunk: Int64) throws -> Double? {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        for _ in 0..<3 { cluster.addWorker() }
        let job = cluster.submit(try JobSpec(lo: 1, hi: 2 * chunk, chunkSize: chunk))
        let victim: WorkerID
        while true {
            let snapshot = cluster.snapshot()
            if let busy = snapshot.workers.first(where: { ($0.assignment?.elementsDone ?? 0) > 0 })?.id {
                victim = busy
                break
            }
            if snapshot.job?.id == job, snapshot.job?.status.isFinished == true { return nil }
            usleep(50)
        }
        cluster.kill(victim)
        let deadline = DispatchTime.now() + 5
        var killed: Double?
        while DispatchTime.now() < deadline {
            let ended = cluster.snapshot().job?.status.isFinished == true
            for event in cluster.events(after: 0) {
                if case .workerKilled(victim, _) = event.kind { killed = event.seconds }
                if case .chunkRedistributed(_, victim, _) = event.kind, let killed { return event.seconds - killed }
            }
            // Killed after its last sub-block: nothing was left to redistribute.
            if ended { return nil }
            usleep(100)
        }
        return nil
    }

    /// One worker on 16 Mi chunks, paused in steady state (after its first 1 Mi elements, not
    /// while its first sub-blocks warm up): seconds from `pause()` to its progress's last
    /// change; nil if the job ended first.
    private func pauseToStopped(chunk: Int64) throws -> Double? {
        let single = Cluster()
        defer { single.shutdown() }
        single.addWorker()
        let job = single.submit(try JobSpec(lo: 1, hi: 4 * chunk, chunkSize: chunk))
        while true {
            let snapshot = single.snapshot()
            if (snapshot.workers[0].assignment?.elementsDone ?? 0) >= 1 << 20 { break }
            if snapshot.job?.id == job, snapshot.job?.status.isFinished == true { return nil }
            usleep(50)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        single.pause(WorkerID(1))
        var last = single.snapshot().workers[0].assignment?.elementsDone
        var lastChange = start
        while DispatchTime.now().uptimeNanoseconds - lastChange < 20_000_000 {
            let now = single.snapshot().workers[0].assignment?.elementsDone
            if now != last { last = now; lastChange = DispatchTime.now().uptimeNanoseconds }
        }
        // The job ended rather than paused.
        if single.snapshot().job?.status.isFinished == true { return nil }
        return Double(lastChange - start) / 1e9
    }
}
