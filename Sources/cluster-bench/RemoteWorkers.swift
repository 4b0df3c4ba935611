import ClusterEngine
import ClusterNet
import ClusterReporting
import Foundation

extension Measurements {
    // MARK: 8 and 9. Remote workers over loopback

    /// Seconds for one job on a coordinator in this process with no local threads, worked by
    /// `processes` real `cluster-top worker` processes of `threads` threads each. The clock is
    /// the job's own: it starts once every thread has joined.
    func remoteSeconds(_ spec: JobSpec, processes: Int, threads: Int) throws -> Double {
        let loopback = try LoopbackCluster(clusterTop: clusterTop, processes: processes, threads: threads, joinWithin: 30)
        defer { loopback.stop() }
        let cluster = loopback.cluster
        let job = cluster.submit(spec)
        guard let summary = cluster.waitForJob(job, timeout: 600), summary.verified else {
            throw BenchError("remote job \(spec.lo)...\(spec.hi) did not verify")
        }
        return summary.elapsed
    }

    /// Figure 8: remote threads against the same number of local threads, default chunk size.
    func remoteThroughput() throws {
        // At the IFMA kernel's speed 20 G elements were a third of a second, and the join's
        // ramp weighed in the ratio.
        let count = elements(lasting: 2, atLeast: 2e10)
        let spec = try JobSpec(lo: 1, hi: count)
        let table = Table("8. Remote workers over loopback against local threads: \(cores) threads, default chunks (median of \(runs) runs)",
                          ["job", "local threads", "one worker process", "remote / local", "spread (local / remote)"])
        var local = Sample(), remote = Sample()
        for _ in 0..<runs {
            local.add(try engineSeconds(spec, workers: cores))
            remote.add(try remoteSeconds(spec, processes: 1, threads: cores))
        }
        table.row("1...\(Format.grouped(count)), \(Format.grouped(spec.chunkCount)) chunks",
                  Self.rate(count, local.median), Self.rate(count, remote.median),
                  Format.percent(local.median / remote.median), Self.spread(local, remote))
    }

    /// Figure 9: chunk round trips per second through one coordinator, with chunks so small
    /// (1,000 elements, half a microsecond of work) that the messages are all the work.
    func remoteRoundTrips() throws {
        let chunkSize: Int64 = 1_000
        let chunks = elements(4e5) / 10 * 10
        let spec = try JobSpec(lo: 1, hi: chunks * chunkSize, chunkSize: chunkSize)
        let table = Table("9. Chunk round trips per second through one coordinator, \(Format.grouped(chunks)) chunks of \(Format.grouped(chunkSize)) (median of \(runs) runs)",
                          ["workers", "round trips / s", "against the floor of 20,000", "spread"])
        let setups = [(1, 1), (1, cores), (2, cores)]
        var samples = Array(repeating: Sample(), count: setups.count)
        var local = Sample()
        for _ in 0..<runs {
            for (i, setup) in setups.enumerated() {
                samples[i].add(try remoteSeconds(spec, processes: setup.0, threads: setup.1))
            }
            local.add(try engineSeconds(spec, workers: cores))
        }
        for (i, setup) in setups.enumerated() {
            let perSecond = Double(chunks) / samples[i].median
            table.row("\(setup.0) process\(setup.0 == 1 ? "" : "es") × \(setup.1) thread\(setup.1 == 1 ? "" : "s")",
                      Format.grouped(Int64(perSecond)), Self.ratio(perSecond / 20_000), Self.spread(samples[i]))
        }
        let localRate = Double(chunks) / local.median
        table.row("(\(cores) local threads, no network)", Format.grouped(Int64(localRate)), "", Self.spread(local))
    }
}

/// A coordinator in this process on loopback, over TLS as `serve` runs by default, with `local`
/// threads of its own and `processes` real `cluster-top worker` processes of `threads` threads,
/// all joined. `stop()` ends it all.
final class LoopbackCluster {
    let cluster = Cluster()
    let coordinator: Coordinator
    private var workers: [Process] = []

    /// `names` gives each worker process its `--name` (by its index), if any.
    init(clusterTop: String, local: Int = 0, processes: Int, threads: Int, names: ((Int) -> String)? = nil,
         joinWithin seconds: Double) throws {
        let token = AccessToken.generate()
        let identity = try ServerIdentity.selfSigned()
        coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0), token: token, identity: identity)
        do {
            let port = try coordinator.start().port
            for _ in 0..<local { cluster.addWorker() }
            for n in 0..<processes {
                let worker = Process()
                worker.executableURL = URL(fileURLWithPath: clusterTop)
                worker.arguments = ["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", identity.fingerprint.description,
                                    "--threads", "\(threads)", "--retry-for", "\(Int(seconds))",
                                    "--kernel", KernelVariant.active.rawValue] + (names.map { ["--name", $0(n)] } ?? [])
                worker.environment = ["CLUSTER_TOP_TOKEN": token]
                worker.standardOutput = FileHandle.nullDevice
                worker.standardError = FileHandle.nullDevice
                try worker.run()
                workers.append(worker)
            }
            let deadline = Date().addingTimeInterval(seconds)
            while cluster.snapshot().workers.count < local + processes * threads {
                guard Date() < deadline else { throw BenchError("the \(processes) worker processes did not join") }
                usleep(10_000)
            }
        } catch {
            stop()
            throw error
        }
    }

    func stop() {
        cluster.shutdown()
        coordinator.stop()
        for worker in workers where worker.isRunning { worker.terminate() }
        for worker in workers { worker.waitUntilExit() }
        workers = []
    }
}
