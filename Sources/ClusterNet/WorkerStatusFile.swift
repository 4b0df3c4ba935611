import Foundation
import Synchronization

/// A file that says whether a worker process is in the cluster, for probes that cannot ask it:
/// Kubernetes' readiness ("joined" on the first line) and liveness (written again at least every
/// few seconds while the process works, so a stale file means a stuck process).
public final class WorkerStatusFile: Sendable {
    public enum Status: Sendable, Equatable {
        case connecting
        case joined
    }

    public let path: String
    private let coordinator: String
    /// What was written last, and when: a refresh of the same status waits `refreshInterval`.
    private let written = Mutex<(status: Status, at: ContinuousClock.Instant)?>(nil)
    static let refreshInterval = Duration.seconds(2)

    public init(path: String, coordinator: String) {
        self.path = path
        self.coordinator = coordinator
    }

    /// Writes `status` now if it changed, else at most every `refreshInterval`.
    public func update(_ status: Status) {
        let now = ContinuousClock.now
        let due = written.withLock { last -> Bool in
            if let last, last.status == status, now - last.at < Self.refreshInterval { return false }
            last = (status, now)
            return true
        }
        guard due else { return }
        let line: String
        switch status {
        case .connecting: line = "connecting to \(coordinator)\n"
        case .joined: line = "joined \(coordinator)\n"
        }
        // Written beside and renamed over, so a probe never reads half a file.
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(line.utf8)) else { return }
        _ = rename(temporary, path)
    }

    /// The process is leaving: nothing should take it for a live worker.
    public func remove() {
        written.withLock { $0 = nil }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Whether `path` can be written at all, for the command line to check before it starts.
    public static func problem(writing path: String) -> String? {
        let directory = (path as NSString).deletingLastPathComponent
        let folder = directory.isEmpty ? "." : directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "the folder \(folder) does not exist"
        }
        guard FileManager.default.isWritableFile(atPath: folder) else { return "the folder \(folder) is not writable" }
        return nil
    }
}

/// The name a worker's threads are grouped under on the dashboard when `--name` is not given.
public enum WorkerName {
    /// The host name, and under Slurm the job and task too ("node7 job 4211 task 3"), so a row
    /// says which task of which allocation it is.
    public static func automatic(hostName: String, environment: [String: String]) -> String {
        let host = WireProtocol.printableHostName(hostName, fallback: "worker")
        guard let job = environment["SLURM_JOB_ID"].flatMap(UInt64.init),
              let task = environment["SLURM_PROCID"].flatMap(UInt64.init) else { return host }
        let slurm = " job \(job) task \(task)"
        // The whole name must stay within the dashboard's limit: a long host name gives way.
        let room = WireProtocol.hostNameLimit - slurm.count
        return String(host.prefix(max(1, room))) + slurm
    }
}
