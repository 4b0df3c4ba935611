import ClusterEngine
import ClusterNet
import ClusterReporting
import Foundation
import ProcessSupport

/// Figure 20: workers launched by a real Slurm (a single-node one started for the figure by
/// deploy/slurm/single-node-slurm.sh) against the same number of local threads. Needs root and
/// Debian's slurm-wlm and munge; it is not in the default set (`--only 20`).
struct SlurmLaunch {
    let measurements: Measurements
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func run() throws {
        let script = Self.repository.appendingPathComponent("deploy/slurm/single-node-slurm.sh").path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-bench-slurm-\(getpid())").path
        // Output to /dev/null: the daemons it starts must not hold a pipe of ours.
        let started = try ChildProcess.run([script, "start", folder], captureOutput: false)
        guard started.exitStatus == 0 else { throw BenchError("could not start a single-node Slurm (root, slurm-wlm and munge needed)") }
        defer { _ = try? ChildProcess.run([script, "stop", folder], captureOutput: false) }
        let configuration = folder + "/slurm.conf"

        let tasks = measurements.cores
        let count = measurements.elements(2e10)
        let spec = try JobSpec(lo: 1, hi: count)
        let table = Table("20. Workers launched by Slurm (sbatch, \(tasks) tasks × 1 CPU, over TLS) against \(tasks) local threads (median of \(measurements.runs) runs)",
                          ["job", "sbatch to all joined", "local threads", "Slurm's tasks", "Slurm / local", "spread (join / local / Slurm)"])
        var join = Sample(), local = Sample(), slurm = Sample()
        for _ in 0..<measurements.runs {
            local.add(try measurements.engineSeconds(spec, workers: tasks))
            let (joined, seconds) = try slurmJob(spec, tasks: tasks, configuration: configuration, output: folder)
            join.add(joined)
            slurm.add(seconds)
        }
        table.row("1...\(Format.grouped(count))", Format.fixed(join.median * 1000, decimals: 0) + " ms",
                  Measurements.rate(count, local.median), Measurements.rate(count, slurm.median),
                  Format.percent(local.median / slurm.median), Measurements.spread(join, local, slurm))
    }

    /// Seconds from sbatch to every task's thread joined, and the job's own seconds on them.
    private func slurmJob(_ spec: JobSpec, tasks: Int, configuration: String, output: String) throws -> (Double, Double) {
        let cluster = Cluster()
        let identity = try ServerIdentity.selfSigned()
        let token = AccessToken.generate()
        let coordinator = Coordinator(cluster: cluster, listen: Endpoint(host: "127.0.0.1", port: 0), token: token, identity: identity)
        let port = try coordinator.start().port
        defer {
            cluster.shutdown()
            coordinator.stop()
        }
        var environment = ProcessInfo.processInfo.environment
        environment["SLURM_CONF"] = configuration
        environment["CLUSTER_TOP_CONNECT"] = "127.0.0.1:\(port)"
        environment["CLUSTER_TOP_TOKEN"] = token
        environment["CLUSTER_TOP_FINGERPRINT"] = identity.fingerprint.description
        environment["CLUSTER_TOP_BIN"] = measurements.clusterTop
        // The last run's tasks hold the CPUs until they have exited: wait for an empty queue.
        let drained = Date().addingTimeInterval(60)
        while try ChildProcess.run(["squeue", "-h"], environment: environment).output.contains(where: { !$0.isWhitespace }) {
            guard Date() < drained else { throw BenchError("the previous Slurm job never left the queue") }
            usleep(50_000)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let submitted = try ChildProcess.run(["sbatch", "--parsable", "--ntasks=\(tasks)", "--cpus-per-task=1",
                                              "--output=\(output)/bench-%j.out",
                                              Self.repository.appendingPathComponent("deploy/slurm/cluster-top-workers.sbatch").path],
                                             environment: environment)
        guard submitted.exitStatus == 0 else { throw BenchError("sbatch failed: \(submitted.output)") }
        let deadline = Date().addingTimeInterval(60)
        while cluster.snapshot().workers.filter({ $0.remote != nil }).count < tasks {
            guard Date() < deadline else { throw BenchError("Slurm's \(tasks) tasks did not join within 60 s") }
            usleep(2_000)
        }
        let joined = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let job = cluster.submit(spec)
        guard let summary = cluster.waitForJob(job, timeout: 600), summary.verified else {
            throw BenchError("the Slurm job \(spec.lo)...\(spec.hi) did not verify")
        }
        return (joined, summary.elapsed)
    }
}
