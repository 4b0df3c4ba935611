import ClusterEngine
import ClusterJournal
import ClusterModel

/// `--journal`: opening it against the plan, and the jobs a restart resumes.
extension RunOptions {
    /// Opens `--journal`, refusing (exit 65, one line) a file that is not a journal of this
    /// format, is damaged or in use.
    /// `plan`'s job, when `--range` gave one: an unfinished job the journal holds must be it.
    func openJournal(plan: Plan?) throws -> Journal? {
        guard let path = journal else { return nil }
        if script != nil || demo {
            throw CommandFailure(message: "--journal keeps one job given with --range, not a script's or the demo's: leave one of them out",
                                 status: 64)
        }
        let asked = range == nil ? nil : plan?.spec
        do {
            return try Journal(path: path) { (kept: [JournaledJob]) throws(JournalError) in
                guard let kept = kept.first, let asked,
                      kept.spec.lo != asked.lo || kept.spec.hi != asked.hi || kept.spec.chunkSize != asked.chunkSize else { return }
                throw JournalError(
                    path, "holds \(kept.id) over \(NumberText.range(kept.spec.lo, kept.spec.hi)) in chunks of "
                        + "\(NumberText.grouped(kept.spec.chunkSize)), not \(NumberText.range(asked.lo, asked.hi)) in chunks of "
                        + "\(NumberText.grouped(asked.chunkSize)): give the same --range and --chunk-size to resume it, or another journal")
            }
        } catch {
            throw CommandFailure(message: error.description, status: JournalError.exitStatus)
        }
    }

    /// Queues the plan's job, or resumes the jobs the journal kept unfinished; returns the job
    /// to follow (headless), if any.
    @discardableResult
    func startJobs(_ cluster: Cluster, plan: Plan, journal: Journal?) -> JobID? {
        if let journal, let running = journal.unfinishedJobs.first {
            cluster.resume(journal.unfinishedJobs)
            cluster.logJournalResumed(running, file: journal.path)
            return running.id
        }
        return plan.spec.map { cluster.submit($0) }
    }
}
