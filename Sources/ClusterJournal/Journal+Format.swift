import ClusterEngine
import Foundation
import GRDB

/// The journal's format: its tables, and what they say back.
extension Journal {
    static func create(_ database: DatabaseQueue) throws {
        try database.write { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value);
                CREATE TABLE jobs (
                    id INTEGER PRIMARY KEY,
                    lo INTEGER NOT NULL, hi INTEGER NOT NULL, chunk_size INTEGER NOT NULL, schedule TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'verified', 'mismatch')),
                    submitted_at REAL, started_at REAL, ended_at REAL,
                    total TEXT
                );
                CREATE TABLE accepted (
                    job INTEGER NOT NULL REFERENCES jobs(id),
                    first_chunk INTEGER NOT NULL, end_chunk INTEGER NOT NULL CHECK (end_chunk > first_chunk),
                    elements INTEGER NOT NULL,
                    sum_high INTEGER NOT NULL, sum_low INTEGER NOT NULL,
                    last_attempt INTEGER NOT NULL,
                    worker INTEGER, host TEXT,
                    written_at REAL NOT NULL,
                    PRIMARY KEY (job, first_chunk)
                ) WITHOUT ROWID;
                CREATE TABLE summed (
                    job INTEGER NOT NULL REFERENCES jobs(id),
                    run INTEGER NOT NULL, worker INTEGER NOT NULL, host TEXT NOT NULL,
                    chunks INTEGER NOT NULL, elements INTEGER NOT NULL,
                    PRIMARY KEY (job, run, worker, host)
                ) WITHOUT ROWID;
                """)
            try setMeta(db, "format", formatVersion)
            try setMeta(db, "created", Date().timeIntervalSince1970)
            try setMeta(db, "attempt_ceiling", 1)
            try db.execute(sql: "PRAGMA user_version = \(formatVersion)")
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
        }
    }

    static func attemptCeiling(_ db: Database) throws -> UInt64 {
        UInt64(bitPattern: try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'attempt_ceiling'") ?? 1)
    }

    /// The jobs not finished, the running one first, each with its accepted chunks.
    static func unfinishedJobs(_ db: Database) throws -> [JournaledJob] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT id, lo, hi, chunk_size, schedule FROM jobs WHERE state IN ('queued', 'running')
            ORDER BY state = 'running' DESC, id
            """)
        return try rows.map { row in
            let id: Int = row["id"]
            let schedule = SchedulePolicy(rawValue: row["schedule"]) ?? .dynamic
            let spec = try JobSpec(lo: row["lo"], hi: row["hi"], chunkSize: row["chunk_size"], schedule: schedule)
            let accepted = try acceptedSpans(db, job: id)
            return JournaledJob(id: JobID(id), spec: spec, accepted: accepted.spans, acceptedSum: accepted.sum,
                                acceptedElements: accepted.elements)
        }
    }

    /// A job's accepted chunks merged into spans, with their sum and element count.
    static func acceptedSpans(_ db: Database, job: Int) throws -> (spans: [Range<Int64>], sum: UInt128, elements: Int64) {
        var spans: [Range<Int64>] = []
        var sum: UInt128 = 0
        var elements: Int64 = 0
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT first_chunk, end_chunk, elements, sum_high, sum_low FROM accepted WHERE job = ? ORDER BY first_chunk
            """, arguments: [job])
        while let row = try cursor.next() {
            let first: Int64 = row[0], end: Int64 = row[1]
            let high = UInt128(UInt64(bitPattern: row[3] as Int64)), low = UInt128(UInt64(bitPattern: row[4] as Int64))
            sum &+= high << 64 | low
            elements += row[2] as Int64
            if let last = spans.last, last.upperBound == first {
                spans[spans.count - 1] = last.lowerBound..<end
            } else {
                spans.append(first..<end)
            }
        }
        return (spans, sum, elements)
    }
}
