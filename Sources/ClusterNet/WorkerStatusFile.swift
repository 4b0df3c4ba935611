import Foundation
import Synchronization

/// A file that says whether a worker process is in the cluster, for probes that cannot ask it:
/// Kubernetes' readiness (a line starting "joined") and liveness (written again at least every
/// few seconds while the process works, so a stale file means a stuck process).
///
/// It only ever writes and removes its own file: its first line is a marker, a path that exists
/// and is not such a file is refused before the worker starts, each write goes to a new file in
/// the same folder that is renamed over the path, and it is written again or removed only while
/// the path still holds the file this process wrote there (the same inode and the same text: an
/// inode number alone may be reused by a file someone else made).
public final class WorkerStatusFile: Sendable {
    public enum Status: Sendable, Equatable {
        case connecting
        case joined
    }

    /// The first line of every status file.
    public static let marker = "cluster-top worker status"

    public let path: String
    private let coordinator: String
    /// What was written last, when, and the inode of the file written: a refresh of the same
    /// status waits `refreshInterval`.
    private let written = Mutex<(status: Status, at: ContinuousClock.Instant, inode: ino_t, text: String)?>(nil)
    static let refreshInterval = Duration.seconds(2)

    public init(path: String, coordinator: String) {
        self.path = path
        self.coordinator = coordinator
    }

    /// Writes `status` now if it changed, else at most every `refreshInterval`.
    public func update(_ status: Status) {
        let now = ContinuousClock.now
        written.withLock { last in
            if let last, last.status == status, now - last.at < Self.refreshInterval { return }
            let line: String
            switch status {
            case .connecting: line = "connecting to \(coordinator)\n"
            case .joined: line = "joined \(coordinator)\n"
            }
            // Something else has taken the path since (a person, another program): leave it.
            if let last, !isStill(last.inode, last.text) { return }
            let text = Self.marker + "\n" + line
            guard let inode = write(text) else { return }
            last = (status, now, inode, text)
        }
    }

    /// The process is leaving: nothing should take it for a live worker. Removes the path only
    /// if it is still the file this process wrote.
    public func remove() {
        written.withLock { last in
            if let last, isStill(last.inode, last.text) { unlink(path) }
            last = nil
        }
    }

    /// Writes `text` to a new file beside the path and renames it over the path, so a probe
    /// never reads half a file; the new file's inode, or nil if it could not be written.
    private func write(_ text: String) -> ino_t? {
        let directory = (path as NSString).deletingLastPathComponent
        var template = Array(((directory.isEmpty ? "." : directory) + "/.cluster-top-status-XXXXXX").utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { return nil }
        let temporary = String(cString: template)
        let bytes = Array(text.utf8)
        let complete = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) } == bytes.count
        fchmod(descriptor, 0o644)
        var info = stat()
        let statted = fstat(descriptor, &info) == 0
        close(descriptor)
        guard complete, statted, rename(temporary, path) == 0 else {
            unlink(temporary)
            return nil
        }
        return info.st_ino
    }

    /// Whether the path still holds the file with `inode` that this process wrote `text` to.
    private func isStill(_ inode: ino_t, _ text: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_ino == inode, info.st_mode & S_IFMT == S_IFREG else { return false }
        return (try? String(contentsOfFile: path, encoding: .utf8)) == text
    }

    /// Why `path` cannot be the status file, for the command line to say before it starts: its
    /// folder is missing or not writable, or something is there that is not a status file (a
    /// file of someone else's, a folder, a device, a link).
    public static func problem(writing path: String) -> String? {
        let directory = (path as NSString).deletingLastPathComponent
        let folder = directory.isEmpty ? "." : directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "the folder \(folder) does not exist"
        }
        guard FileManager.default.isWritableFile(atPath: folder) else { return "the folder \(folder) is not writable" }
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }  // nothing there: it will be ours
        let kind = info.st_mode & S_IFMT
        let what = kind == S_IFDIR ? "a folder" : kind == S_IFLNK ? "a symbolic link"
            : kind == S_IFCHR || kind == S_IFBLK ? "a device" : kind == S_IFIFO ? "a pipe" : kind == S_IFSOCK ? "a socket" : nil
        if let what { return "\(path) is \(what), not a status file: give a path of its own (it is written and removed)" }
        // A status file left by a worker that was killed may be written again.
        guard let handle = FileHandle(forReadingAtPath: path) else { return "\(path) exists and cannot be read" }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: marker.utf8.count + 1)) ?? Data()
        guard head == Data((marker + "\n").utf8) else {
            return "\(path) exists and is not a status file: give a path of its own (it is written and removed)"
        }
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
