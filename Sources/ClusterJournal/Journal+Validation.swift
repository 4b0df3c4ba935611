import ClusterEngine
import Foundation
import GRDB

/// Validation, before anything is written: a file that is not a journal, of a newer format,
/// damaged or held by another coordinator is refused and left exactly as it was.
extension Journal {
    /// Refuses a file that is not a cluster-top journal of a format this build reads, or is
    /// damaged, without changing a byte of it; returns its unfinished jobs.
    /// `removingSidecarsOnRefusal`: only for the coordinator that holds the file's lock.
    @discardableResult
    static func validate(_ path: String, removingSidecarsOnRefusal: Bool = false) throws(JournalError) -> [JournaledJob] {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw folderRefusal(path)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw JournalError(path, "cannot be read (\(String(cString: strerror(errno))))")
        }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        try? handle.close()
        if header.isEmpty {
            throw JournalError(path, "is empty, not a journal: remove it, or give another file name")
        }
        guard header.count == 100, header.prefix(16) == Data("SQLite format 3\0".utf8) else {
            throw JournalError(path, "is not a cluster-top journal (not an SQLite database): give another file name")
        }
        // SQLite makes a WAL database's -wal and -shm files to read it, even read-only: ones
        // that were not there before are removed again when the file is refused (by the holder
        // of its lock only: another process may be making them for a live journal).
        let sidecars = [path + "-wal", path + "-shm"].filter { !FileManager.default.fileExists(atPath: $0) }
        do {
            return try readChecks(path)
        } catch {
            if removingSidecarsOnRefusal {
                for sidecar in sidecars { try? FileManager.default.removeItem(atPath: sidecar) }
            }
            throw error
        }
    }

    /// A journal is its file and, while written or after a crash, SQLite's -wal and -shm beside
    /// it: removes all three (what is not there is no matter).
    public static func removeFiles(at path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    static func folderRefusal(_ path: String) -> JournalError {
        JournalError(path, "is a folder, not a journal: give a file name (a new one starts a journal)")
    }

    /// Runs `body` on a read-only connection to `path`, closed after.
    static func reading<T>(_ path: String, _ body: (Database) throws -> T) throws -> T {
        var configuration = Configuration()
        configuration.readonly = true
        let reader = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? reader.close() }
        return try reader.read(body)
    }

    private static func readChecks(_ path: String) throws(JournalError) -> [JournaledJob] {
        do {
            return try reading(path) { db in
                let application = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                guard application == applicationID else {
                    throw JournalError(path, "is an SQLite database but not a cluster-top journal: give another file name")
                }
                let format = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                guard format <= formatVersion else {
                    throw JournalError(path, "is a journal of a newer format (\(format)) than this cluster-top reads (\(formatVersion)): "
                                       + "use the cluster-top that wrote it")
                }
                let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
                guard check == ["ok"] else {
                    throw JournalError(path, "is damaged (SQLite's quick_check: \(check.prefix(2).joined(separator: "; "))): "
                                       + "it is left as it is; start a new journal under another name")
                }
                return try unfinishedJobs(db)
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(path, "is damaged or not a journal (\(describe(error))): it is left as it is; start a new journal under another name")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(error)"
    }
}

/// A journal refused: the file and what is wrong with it, in one line; exit 65 (EX_DATAERR).
public struct JournalError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public static let exitStatus: Int32 = 65

    public init(_ path: String, _ what: String) { message = "journal \(path) \(what)" }
    public init(message: String) { self.message = message }

    public var description: String { message }
}
