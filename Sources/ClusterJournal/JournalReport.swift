import ClusterEngine
import Foundation
import GRDB

/// What a journal holds, read without writing to it (`cluster-top journal FILE`): its jobs, how
/// far each got, the exact total of what was accepted, who summed it, and when it was written.
public struct JournalReport: Codable, Sendable, Equatable {
    public struct Job: Codable, Sendable, Equatable {
        public let id: Int
        public let lo: Int64
        public let hi: Int64
        public let chunkSize: Int64
        public let schedule: String
        /// queued, running, verified or mismatch (as of the last write).
        public let state: String
        public let chunks: Int64
        public let chunksAccepted: Int64
        /// The accepted chunks as spans of chunk indices, each [first, end), in order.
        public let acceptedChunkSpans: [[Int64]]
        public let elementsAccepted: Int64
        /// The sum of the accepted chunks, exact, in decimal.
        public let acceptedTotal: String
        /// The closed form of the whole range, in decimal, for comparison.
        public let closedForm: String
        public let submittedAt: Double?
        public let startedAt: Double?
        public let endedAt: Double?
        public let summedBy: [Summer]
        /// Rows the accepted chunks take (consecutive chunks stored as one range).
        public let rows: Int
    }

    /// One worker's share of a job's accepted chunks: the chunks it completed, in one run of the
    /// coordinator (worker ids start again at 1 in each); `host` nil for this machine's threads.
    public struct Summer: Codable, Sendable, Equatable {
        public let run: Int
        public let worker: Int
        public let host: String?
        public let chunks: Int64
        public let elements: Int64
    }

    public let type: String
    public let path: String
    public let format: Int
    public let createdAt: Double?
    public let lastWrittenAt: Double?
    /// Attempt ids at or above this were never handed out.
    public let attemptCeiling: UInt64
    public let jobs: [Job]

    /// Reads `path` read-only, after the checks a coordinator's open makes.
    public static func read(_ path: String) throws(JournalError) -> JournalReport {
        guard FileManager.default.fileExists(atPath: path) else {
            throw JournalError(path, "does not exist: give the file a coordinator was started with (--journal FILE)")
        }
        try Journal.validate(path)
        do {
            return try Journal.reading(path) { db in
                func meta(_ key: String) throws -> DatabaseValue? {
                    try DatabaseValue.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
                }
                var jobs: [Job] = []
                for row in try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY id") {
                    let id: Int = row["id"]
                    let spec = try JobSpec(lo: row["lo"], hi: row["hi"], chunkSize: row["chunk_size"],
                                           schedule: SchedulePolicy(rawValue: row["schedule"]) ?? .dynamic)
                    let accepted = try Journal.acceptedSpans(db, job: id)
                    let summers = try Row.fetchAll(db, sql: """
                        SELECT run, worker, host, chunks, elements FROM summed WHERE job = ? ORDER BY run, worker, host
                        """, arguments: [id]).map { row in
                            let host: String = row["host"]
                            return Summer(run: row["run"], worker: row["worker"], host: host.isEmpty ? nil : host,
                                          chunks: row["chunks"], elements: row["elements"])
                        }
                    jobs.append(Job(id: id, lo: spec.lo, hi: spec.hi, chunkSize: spec.chunkSize, schedule: spec.schedule.rawValue,
                                    state: row["state"], chunks: spec.chunkCount,
                                    chunksAccepted: accepted.spans.reduce(0) { $0 + Int64($1.count) },
                                    acceptedChunkSpans: accepted.spans.map { [$0.lowerBound, $0.upperBound] },
                                    elementsAccepted: accepted.elements, acceptedTotal: String(accepted.sum),
                                    closedForm: String(spec.closedFormTotal), submittedAt: row["submitted_at"],
                                    startedAt: row["started_at"], endedAt: row["ended_at"], summedBy: summers,
                                    rows: try Int.fetchOne(db, sql: "SELECT count(*) FROM accepted WHERE job = ?", arguments: [id]) ?? 0))
                }
                return JournalReport(type: "journal", path: path, format: try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0,
                                     createdAt: try meta("created").flatMap { Double.fromDatabaseValue($0) },
                                     lastWrittenAt: try meta("last_written").flatMap { Double.fromDatabaseValue($0) },
                                     attemptCeiling: try Journal.attemptCeiling(db), jobs: jobs)
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(path, "cannot be read: \(Journal.describe(error))")
        }
    }
}
