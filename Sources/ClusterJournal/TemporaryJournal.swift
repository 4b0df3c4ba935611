import ClusterEngine
import Foundation

/// The journal of the lesson on the coordinator as a single point of failure: a real journal in
/// a file of its own, removed when the lesson turns it off. A crash drops the engine with its
/// journal's writer, opens the file again as a restarted coordinator would, and rebuilds the
/// running job from what it kept.
public final class TemporaryJournal: LessonJournal {
    private var journal: Journal?
    /// The file while the journal is on.
    public private(set) var path: String?

    public init() {}

    deinit {
        journal?.finish()
        if let path { Journal.removeFiles(at: path) }
    }

    public var isOn: Bool { journal != nil }

    public func start(keeping cluster: Cluster) throws {
        guard journal == nil else { return }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-lesson-\(UUID().uuidString).journal").path
        let opened = try Journal(path: path)
        opened.attach(to: cluster)
        (journal, self.path) = (opened, path)
    }

    public func crash(_ cluster: Cluster) throws -> Int64? {
        guard let journal, let path else { return nil }
        journal.abandon()
        self.journal = nil
        let reopened = try Journal(path: path)
        let kept = reopened.unfinishedJobs
        let lost = cluster.crashCoordinator { spec, id in
            kept.first { $0.id == id } ?? JournaledJob(id: id, spec: spec)
        }
        reopened.attach(to: cluster)
        self.journal = reopened
        return lost
    }

    public func stop(_ cluster: Cluster) {
        journal?.flush()
        cluster.dropJournal()
        journal?.finish()
        journal = nil
        if let path { Journal.removeFiles(at: path) }
        path = nil
    }
}
