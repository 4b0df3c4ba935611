import ClusterJournal
import ClusterTestSupport
import Foundation
import GRDB
import Testing

/// Bad journals are refused, never reset: one line naming the file and what is wrong, exit 65,
/// and the file's bytes as they were. And a journal that cannot be written any more (a full
/// disk) stops the journal, not the job.
@Suite("Journal: bad files refused, untouched")
struct JournalRefusalTests {
    static let job = ["--range", "1...20_000_000", "--chunk-size", "100_000", "--headless", "--workers", "2"]

    /// A whole journal of a finished job, closed: one file.
    static func finishedJournal() throws -> String {
        let path = JournalCrashTests.temporary("journal")
        let run = try BinaryProcess.run(job + ["--journal", path])
        try #require(run.status == 0, "\(run.stderr)")
        try #require(!FileManager.default.fileExists(atPath: path + "-wal"), "a journal at rest is one file")
        return path
    }

    /// Runs a job on `path` and checks the refusal: exit 65, one line that names the file and
    /// says `what`, and every byte of the file (and of any -wal beside it) as it was.
    func expectRefused(_ path: String, saying what: String, arguments: [String] = job,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = [path, path + "-wal"].map { FileManager.default.contents(atPath: $0) }
        let run = try BinaryProcess.run(arguments + ["--journal", path])
        #expect(run.status == 65, "\(run.stderr)", sourceLocation: sourceLocation)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("journal \(path)") && lines[0].contains(what), "\(run.stderr)",
                sourceLocation: sourceLocation)
        #expect([path, path + "-wal"].map { FileManager.default.contents(atPath: $0) } == before, "the file was changed",
                sourceLocation: sourceLocation)
        #expect(!run.stdout.contains("job 1 started"), "no job ran", sourceLocation: sourceLocation)
    }

    @Test("a file that is not a journal: text, empty, a folder, another SQLite database")
    func notAJournal() throws {
        let text = JournalCrashTests.temporary("text")
        try "job 1: 1...100\n".write(toFile: text, atomically: true, encoding: .utf8)
        try expectRefused(text, saying: "is not a cluster-top journal (not an SQLite database)")
        let empty = JournalCrashTests.temporary("empty")
        FileManager.default.createFile(atPath: empty, contents: Data())
        try expectRefused(empty, saying: "is empty, not a journal")
        let folder = JournalCrashTests.temporary("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let run = try BinaryProcess.run(Self.job + ["--journal", folder])
        #expect(run.status == 65 && run.stderr.contains("is a folder, not a journal"), "\(run.stderr)")
        let other = JournalCrashTests.temporary("other.sqlite")
        try DatabaseQueue(path: other).write { try $0.execute(sql: "CREATE TABLE jobs (id INTEGER PRIMARY KEY)") }
        try expectRefused(other, saying: "is an SQLite database but not a cluster-top journal")
        for path in [text, empty, folder, other] { Journal.removeFiles(at: path) }
    }

    @Test("a journal of a newer format, a truncated one, a damaged one (quick_check)")
    func damagedOrNewer() throws {
        let newer = try Self.finishedJournal()
        try DatabaseQueue(path: newer).writeWithoutTransaction { try $0.execute(sql: "PRAGMA user_version = 99") }
        try expectRefused(newer, saying: "is a journal of a newer format (99) than this cluster-top reads (1)")

        let truncated = try Self.finishedJournal()
        let whole = try #require(FileManager.default.contents(atPath: truncated))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))
        try expectRefused(truncated, saying: "damaged")

        let damaged = try Self.finishedJournal()
        var bytes = try #require(FileManager.default.contents(atPath: damaged))
        // Every page after the first (the header and schema) overwritten with noise.
        for i in 4_096..<bytes.count { bytes[i] = UInt8.random(in: 0...255) }
        try bytes.write(to: URL(fileURLWithPath: damaged))
        try expectRefused(damaged, saying: "damaged")
        for path in [newer, truncated, damaged] { Journal.removeFiles(at: path) }
    }

    @Test("a journal whose unfinished job is another range, and one a running coordinator holds")
    func otherRangeOrInUse() throws {
        let path = JournalCrashTests.temporary("journal"), limit = JournalCrashTests.temporary("limit")
        defer { Journal.removeFiles(at: path); try? FileManager.default.removeItem(atPath: limit) }
        // Held at element 1,000,000: the job stays unfinished, whatever the machine's speed.
        try "1000000\n".write(toFile: limit, atomically: true, encoding: .utf8)
        let running = try BackgroundBinary(Self.job + ["--journal", path, "--refresh", "0.1"],
                                           environment: ["CLUSTER_TOP_TEST_KERNEL": "limit:\(limit)"])
        var report: JournalReport?
        var problem = ""
        let held = eventually {
            do {
                report = try JournalReport.read(path)
            } catch {
                problem = "\(error)"
            }
            return (report?.jobs.first?.chunksAccepted ?? 0) >= 5
        }
        #expect(held, "\(problem) \(String(describing: report)) \(running.output)")
        let second = try BinaryProcess.run(Self.job + ["--journal", path])
        #expect(second.status == 65 && second.stderr.contains("is in use by another running cluster-top"), "\(second.stderr)")
        running.signal(SIGKILL)
        #expect(running.exitStatus(within: 30) == 128 + SIGKILL)
        try expectRefused(path, saying: "holds job 1 over 1...20,000,000 in chunks of 100,000, not 1...30,000,000",
                          arguments: ["--range", "1...30_000_000", "--chunk-size", "100_000", "--headless"])
    }

    @Test("a journal that cannot grow (a file-size limit, as on a full disk) stops, says so in one log line, and the job still ends verified",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit"), "prlimit (util-linux) is not installed"))
    func fullDisk() throws {
        let path = JournalCrashTests.temporary("journal"), limit = JournalCrashTests.temporary("limit")
        defer { Journal.removeFiles(at: path); try? FileManager.default.removeItem(atPath: limit) }
        try "1\n".write(toFile: limit, atomically: true, encoding: .utf8)
        // 256 KiB: a few hundred commits of small chunks; the job is held until the journal stopped.
        let run = try BackgroundBinary(["--range", "1...400_000_000", "--chunk-size", "1_000", "--headless", "--workers", "2",
                                        "--journal", path],
                                       environment: ["CLUSTER_TOP_TEST_KERNEL": "limit:\(limit)"],
                                       launcher: ["/usr/bin/prlimit", "--fsize=262144", "--"])
        var limitNow: Int64 = 1
        // Let it go a little at a time until the journal hits the limit: a fact, not a time.
        let stopped = eventually(within: 300) {
            if run.output.contains("the journal stopped") { return true }
            limitNow += 2_000_000
            try? "\(limitNow)\n".write(toFile: limit, atomically: true, encoding: .utf8)
            return false
        }
        #expect(stopped, "\(run.output.suffix(2_000))")
        try "400000000\n".write(toFile: limit, atomically: true, encoding: .utf8)
        #expect(run.exitStatus(within: 300) == 0, "\(run.output.suffix(2_000))")
        #expect(run.output.contains("[verified]"))
        let said = run.output.split(separator: "\n").filter { $0.contains("the journal stopped") }
        #expect(said.count == 1 && said[0].contains("writing \(path) failed"), "\(said)")
    }
}
