import ClusterEngine
import ClusterNet
import Foundation
import Testing
import ClusterTestSupport

/// The Slurm batch script as people run it: a real single-node Slurm (slurmctld, slurmd and
/// munged started by `deploy/slurm/single-node-slurm.sh`), `sbatch` of
/// `deploy/slurm/cluster-top-workers.sbatch`, and its tasks joining a coordinator over TLS.
@Suite("Slurm: worker tasks launched by sbatch", .serialized,
       .enabled(if: SingleNodeSlurm.unavailable == nil || SingleNodeSlurm.isRequired,
                "Slurm cannot run here (\(SingleNodeSlurm.unavailable ?? "")): apt-get install slurm-wlm munge, as root"))
struct SlurmTests {
    @Test("sbatch starts one worker per task: rows name their Slurm job and task, and the job ends exact and verified")
    func batchJobJoinsAndFinishes() throws {
        let slurm = try SingleNodeSlurm()
        defer { slurm.stop() }
        let local = try RemoteWorkerProcessTests.LocalCoordinator()
        defer { local.stop() }
        let job = try slurm.submitWorkers(to: local, tasks: 2)

        let names = try #require(local.remoteNames(count: 2), "both tasks join; slurm output: \(slurm.output(of: job))")
        let host = ProcessInfo.processInfo.hostName
        #expect(names == ["\(host) job \(job) task 0", "\(host) job \(job) task 1"])
        // The token came through the environment: `ps` shows no trace of it.
        for pid in local.cluster.snapshot().workers.compactMap(\.remote?.pid) {
            let commandLine = try #require(FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"))
            let arguments = String(decoding: commandLine, as: UTF8.self).split(separator: "\0").map(String.init)
            #expect(arguments.contains("worker") && arguments.contains("--threads"))
            #expect(!arguments.joined(separator: " ").contains(RemoteWorkerProcessTests.token))
        }

        let spec = try JobSpec(lo: 1, hi: 600_000_000, chunkSize: 20_000_000)
        let summary = try #require(local.cluster.waitForJob(local.cluster.submit(spec), timeout: 120))
        #expect(summary.verified)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<30))
        let byWorker = Set(local.cluster.snapshot().workers.filter { $0.chunksDone > 0 }.compactMap(\.remote?.host))
        #expect(!byWorker.isEmpty && byWorker.isSubset(of: names))

        // Released by the coordinator, the workers exit 0 and Slurm records the job as done.
        local.stop()
        #expect(slurm.waitForState(of: job, "COMPLETED"), "slurm output: \(slurm.output(of: job))")
        #expect(slurm.output(of: job).components(separatedBy: "released by the coordinator; exiting").count == 3)
    }

    @Test("scancel mid-job: the tasks leave on SIGTERM, the coordinator re-queues their chunks, nothing is lost")
    func scancelRequeues() throws {
        let slurm = try SingleNodeSlurm()
        defer { slurm.stop() }
        let local = try RemoteWorkerProcessTests.LocalCoordinator()
        defer { local.stop() }
        // The tasks' sub-blocks wait at a gate file that stays: they are mid-chunk when cancelled.
        let gate = RemoteWorkerProcessTests.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let job = try slurm.submitWorkers(to: local, tasks: 2, environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
        #expect(local.remoteNames(count: 2) != nil, "both tasks join; slurm output: \(slurm.output(of: job))")
        let remote = local.cluster.snapshot().workers.filter { $0.remote != nil }.map(\.id)

        let spec = try JobSpec(lo: 1, hi: 1_500_000_000, chunkSize: 50_000_000)
        let jobID = local.cluster.submit(spec)
        var held: [WorkerID: ChunkAssignment] = [:]
        #expect(eventually {
            for id in remote { held[id] = local.row(id).assignment }
            return held.count == remote.count
        })

        try slurm.run("scancel", [job])
        #expect(slurm.waitForState(of: job, "CANCELLED"), "slurm output: \(slurm.output(of: job))")
        let kinds = { local.cluster.events(after: 0).map(\.kind) }
        #expect(eventually {
            let now = kinds()
            return held.allSatisfy { now.contains(.remoteWorkerDisconnected($0.key, chunk: $0.value.chunk)) }
        }, "each task's chunk goes back to the queue")

        // A local thread takes over what the cancelled tasks held.
        let rescuer = try #require(local.cluster.addWorker())
        let summary = try #require(local.cluster.waitForJob(jobID, timeout: 120))
        #expect(summary.verified)
        #expect(summary.chunksRequeued >= 2)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<30), "every chunk counted exactly once")
        for (from, assignment) in held {
            #expect(kinds().contains(.chunkRedistributed(chunk: assignment.chunk, from: from, to: rescuer)))
        }
        let output = slurm.output(of: job)
        #expect(output.components(separatedBy: "stopped by signal 15; left the cluster").count == 3, "\(output)")
    }
}

extension RemoteWorkerProcessTests.LocalCoordinator {
    /// The names of the `count` remote workers once they have all joined, sorted.
    func remoteNames(count: Int) -> [String]? {
        var names: [String] = []
        guard eventually({
            names = cluster.snapshot().workers.compactMap(\.remote?.host).sorted()
            return names.count == count
        }) else { return nil }
        return names
    }
}

/// A Slurm of one node, for one test: started in a folder of its own, stopped at the end.
final class SingleNodeSlurm {
    /// Why Slurm cannot run here, or nil.
    static let unavailable: String? = {
        guard getuid() == 0 else { return "its daemons need root" }
        let missing = ["sbatch", "slurmctld", "slurmd", "munged"].filter { tool in
            !["/usr/bin", "/usr/sbin"].contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }
        return missing.isEmpty ? nil : "\(missing.joined(separator: ", ")) not installed"
    }()
    /// CI sets this so a machine without Slurm fails loudly instead of skipping.
    static var isRequired: Bool { ProcessInfo.processInfo.environment["CLUSTER_TOP_REQUIRE_SLURM"] == "1" }

    static let batchScript = BinaryProcess.repository.appendingPathComponent("deploy/slurm/cluster-top-workers.sbatch").path
    static let startScript = BinaryProcess.repository.appendingPathComponent("deploy/slurm/single-node-slurm.sh").path

    let folder: URL
    let configuration: String

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-slurm-\(UUID().uuidString)")
        configuration = folder.appendingPathComponent("slurm.conf").path
        let started = try Self.command(Self.startScript, ["start", folder.path])
        guard started.status == 0 else {
            throw SlurmFailure("single-node-slurm.sh start exited \(started.status): \(started.output)")
        }
    }

    func stop() {
        _ = try? Self.command(Self.startScript, ["stop", folder.path])
        try? FileManager.default.removeItem(at: folder)
    }

    /// Submits the batch script with `tasks` tasks of one CPU, joining `local`; returns the job id.
    func submitWorkers(to local: RemoteWorkerProcessTests.LocalCoordinator, tasks: Int,
                       environment: [String: String] = [:]) throws -> String {
        let variables = [
            "CLUSTER_TOP_CONNECT": "127.0.0.1:\(local.port)",
            "CLUSTER_TOP_TOKEN": RemoteWorkerProcessTests.token,
            "CLUSTER_TOP_FINGERPRINT": local.identity.fingerprint.description,
            "CLUSTER_TOP_BIN": BinaryProcess.url.path,
        ].merging(environment) { $1 }
        let submitted = try run("sbatch", ["--parsable", "--ntasks=\(tasks)", "--cpus-per-task=1",
                                           "--output=\(folder.path)/job-%j.out", Self.batchScript], environment: variables)
        return submitted.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What the job's tasks printed.
    func output(of job: String) -> String {
        (try? String(contentsOf: folder.appendingPathComponent("job-\(job).out"), encoding: .utf8)) ?? ""
    }

    /// True once Slurm reports the job in `state` (COMPLETED, CANCELLED, ...).
    func waitForState(of job: String, _ state: String) -> Bool {
        eventually { ((try? run("scontrol", ["show", "job", job])) ?? "").contains("JobState=\(state)") }
    }

    /// Runs a Slurm command against this Slurm; its output, or an error if it failed.
    @discardableResult
    func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let result = try Self.command(tool, arguments, environment: environment.merging(["SLURM_CONF": configuration]) { $1 })
        guard result.status == 0 else { throw SlurmFailure("\(tool) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)") }
        return result.output
    }

    private static func command(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // A file, not a pipe: the daemons the start script leaves running must not hold our read open.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-slurm-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
        process.waitUntilExit()
        let output = (try? Data(contentsOf: log)) ?? Data()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

struct SlurmFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
