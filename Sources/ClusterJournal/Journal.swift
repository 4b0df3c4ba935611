import ClusterEngine
import Foundation
import GRDB
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `--journal FILE`: the coordinator's memory across its own crash. An SQLite database in WAL
/// mode (through GRDB) holding the jobs, every accepted chunk (consecutive ones as ranges) with
/// its exact 128-bit sum and who summed it, and the ceiling of attempt ids handed out. A writer
/// thread stores what the engine gathered (`JournalFeed`) every `commitInterval`, one
/// transaction a batch (group commit), so the engine never waits for the disk.
///
/// Opening validates before it writes anything: a file that is not a journal, of a newer
/// format, corrupt (SQLite's `quick_check`) or held by another running coordinator is refused
/// (`JournalError`, exit 65) and left exactly as it was.
public final class Journal: @unchecked Sendable {
    /// The format this build writes; a journal with a higher one is refused.
    public static let formatVersion = 1
    /// SQLite's `application_id` of a cluster-top journal: "CLTJ".
    static let applicationID: Int32 = 0x434C_544A

    public let path: String
    let database: DatabaseQueue
    /// Open while the journal is ours: an exclusive `flock` that another coordinator's open finds.
    private var lockDescriptor: Int32
    /// What the journal held when opened, for the restart to go on from.
    public let unfinishedJobs: [JournaledJob]
    /// Every id handed out before this run is below it: this run's ids start here.
    public let attemptFloor: UInt64
    /// How many times a coordinator has opened this journal, this one included: worker ids
    /// start again at 1 in each run, so who summed what is kept per run.
    public let run: Int
    private let stopped = NSLock()
    private var stopReason: String?
    private var writer: Thread?
    private let writerDone = DispatchSemaphore(value: 0)
    private var cluster: Cluster?
    /// Set to end the writer's loop.
    private let ending = NSCondition()
    private var isEnding = false

    public static let commitInterval = 0.02

    /// Opens `path`, creating a journal if there is nothing there. `accepts` sees the jobs an
    /// existing journal holds unfinished, read before anything is written, and may refuse them
    /// (a journal of another range), leaving the file as it was.
    public init(path: String, accepts: ([JournaledJob]) throws(JournalError) -> Void = { _ throws(JournalError) in }) throws(JournalError) {
        self.path = path
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        if exists, isFolder.boolValue { throw Self.folderRefusal(path) }
        // Held before anything is read or written: a second coordinator never gets further, and
        // nothing else writes the file while it is checked. Opening it to write changes no byte.
        let descriptor = open(path, O_RDWR | O_CLOEXEC | (exists ? 0 : O_CREAT | O_EXCL), 0o600)
        guard descriptor >= 0 else {
            throw JournalError(path, "cannot be opened for writing (\(String(cString: strerror(errno))))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw JournalError(path, "is in use by another running cluster-top: a journal is written by one coordinator at a time")
        }
        if exists {
            do {
                try accepts(try Self.validate(path, removingSidecarsOnRefusal: true))
            } catch {
                close(descriptor)
                throw error
            }
        }
        lockDescriptor = descriptor
        do {
            var configuration = Configuration()
            configuration.label = "cluster-top journal"
            configuration.busyMode = .timeout(5)
            database = try DatabaseQueue(path: path, configuration: configuration)
            try database.writeWithoutTransaction { db in
                // WAL: a reader (`cluster-top journal`) never blocks the writer; NORMAL: a commit
                // survives the process being killed (not a power cut: said in docs/cluster.md).
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            let application = try database.read { try Int.fetchOne($0, sql: "PRAGMA application_id") } ?? 0
            if !exists || application == 0 { try Self.create(database) }
            let (jobs, ceiling) = try database.read { db in (try Self.unfinishedJobs(db), try Self.attemptCeiling(db)) }
            unfinishedJobs = jobs
            attemptFloor = max(1, ceiling)
            run = try database.write { db in
                let run = (try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'runs'") ?? 0) + 1
                try Self.setMeta(db, "runs", run)
                return run
            }
        } catch let error as JournalError {
            close(descriptor)
            throw error
        } catch {
            close(descriptor)
            throw JournalError(path, "cannot be used: \(Self.describe(error))")
        }
    }

    deinit { releaseLock() }

    private func releaseLock() {
        guard lockDescriptor >= 0 else { return }
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
        lockDescriptor = -1
    }

    /// Why the journal stopped writing, once it has.
    public var stoppedReason: String? { stopped.withLock { stopReason } }

    // MARK: Writing

    /// Starts keeping `cluster`'s accepted chunks and jobs: attempt ids continue above every id
    /// this journal saw handed out, and a writer thread stores a batch every `commitInterval`.
    public func attach(to cluster: Cluster) {
        self.cluster = cluster
        let firstCeiling = (try? storeCeiling(attemptFloor + AttemptCeiling.step)) ?? attemptFloor
        cluster.attachJournal(attemptFloor: attemptFloor, attemptCeiling: firstCeiling) { [weak self] wanted in
            guard let self else { return nil }
            return try? self.storeCeiling(wanted)
        }
        let thread = Thread { [self] in
            while true {
                ending.lock()
                if !isEnding { _ = ending.wait(until: Date(timeIntervalSinceNow: Self.commitInterval)) }
                let last = isEnding
                ending.unlock()
                writeBatch()
                if last { break }
            }
            writerDone.signal()
        }
        thread.name = "cluster-top-journal"
        writer = thread
        thread.start()
    }

    /// Stores `batch` in one transaction, as the writer does: for tools that build a journal
    /// without running its jobs (the benchmark's journal of a million chunks).
    public func write(_ batch: JournalBatch) throws {
        try database.write { db in try Self.store(batch, in: db, run: run) }
    }

    /// Stores whatever the engine has gathered, now, and waits for it: before a job is reported
    /// finished, and at exit.
    public func flush() { writeBatch() }

    /// The coordinator crashed (the lesson): the engine keeps nothing more for the journal, and
    /// the writer stops without storing what it had not yet stored; the file is closed, as a
    /// killed process leaves it, and may be opened again.
    public func abandon() {
        abandoned.withLock { $0 = true }
        cluster?.dropJournal()
        finish()
    }

    private let abandoned = Mutex(false)

    /// Stores the last batch and stops the writer.
    public func finish() {
        if writer != nil {
            ending.lock()
            isEnding = true
            ending.signal()
            ending.unlock()
            writerDone.wait()
            writer = nil
        }
        // The last connection closed checkpoints the WAL into the file and removes it: a
        // journal at rest is one file. Then another coordinator may have it.
        try? database.close()
        releaseLock()
    }

    private let writing = NSLock()

    /// One transaction: the job changes and accepted ranges since the last, the ceiling raised
    /// if the engine has used half of what is left below it.
    private func writeBatch() {
        writing.withLock {
            guard stoppedReason == nil, !abandoned.withLock({ $0 }), let cluster, let taken = cluster.takeJournalBatch() else { return }
            let raise = taken.attemptCeiling - min(taken.attemptCeiling, taken.nextAttempt) < AttemptCeiling.step / 2
            guard !taken.batch.isEmpty || raise else { return }
            let newCeiling = taken.nextAttempt + AttemptCeiling.step
            do {
                try database.write { db in
                    try Self.store(taken.batch, in: db, run: run)
                    if raise { try Self.setMeta(db, "attempt_ceiling", Int64(bitPattern: newCeiling)) }
                    try Self.setMeta(db, "last_written", Date().timeIntervalSince1970)
                }
                if raise { cluster.journalStoredCeiling(newCeiling) }
            } catch {
                stop(because: "writing \(path) failed (\(Self.describe(error)))")
            }
        }
    }

    private func stop(because reason: String) {
        stopped.withLock { stopReason = reason }
        cluster?.detachJournal()
        cluster?.logJournalStopped(reason)
    }

    /// Stores a higher ceiling of attempt ids at once; returns it.
    private func storeCeiling(_ ceiling: UInt64) throws -> UInt64 {
        try database.write { db in try Self.setMeta(db, "attempt_ceiling", Int64(bitPattern: ceiling)) }
        return ceiling
    }

    static func store(_ batch: JournalBatch, in db: Database, run: Int) throws {
        let now = Date().timeIntervalSince1970
        for change in batch.jobChanges {
            switch change {
            case .submitted(let job, let spec):
                try db.execute(sql: """
                    INSERT INTO jobs (id, lo, hi, chunk_size, schedule, state, submitted_at) VALUES (?, ?, ?, ?, ?, 'queued', ?)
                    ON CONFLICT(id) DO NOTHING
                    """, arguments: [job.rawValue, spec.lo, spec.hi, spec.chunkSize, spec.schedule.rawValue, now])
            case .started(let job):
                try db.execute(sql: "UPDATE jobs SET state = 'running', started_at = coalesce(started_at, ?) WHERE id = ?",
                               arguments: [now, job.rawValue])
            case .finished(let job, let verified, let total):
                try db.execute(sql: "UPDATE jobs SET state = ?, ended_at = ?, total = ? WHERE id = ?",
                               arguments: [verified ? "verified" : "mismatch", now, String(total), job.rawValue])
            }
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO accepted (job, first_chunk, end_chunk, elements, sum_high, sum_low, last_attempt, worker, host, written_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let credit = try db.cachedStatement(sql: """
            INSERT INTO summed (job, run, worker, host, chunks, elements) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(job, run, worker, host) DO UPDATE SET chunks = chunks + excluded.chunks, elements = elements + excluded.elements
            """)
        for share in batch.shares {
            try credit.execute(arguments: [share.job.rawValue, run, share.worker.rawValue, share.host ?? "", share.chunks, share.elements])
        }
        for range in batch.ranges {
            try insert.execute(arguments: [
                range.job.rawValue, range.firstChunk, range.endChunk, range.elements,
                Int64(bitPattern: UInt64(truncatingIfNeeded: range.sum >> 64)), Int64(bitPattern: UInt64(truncatingIfNeeded: range.sum)),
                Int64(bitPattern: range.lastAttempt.rawValue), range.worker?.rawValue, range.host, now,
            ])
        }
    }

    static func setMeta(_ db: Database, _ key: String, _ value: some DatabaseValueConvertible) throws {
        try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       arguments: [key, value])
    }
}
