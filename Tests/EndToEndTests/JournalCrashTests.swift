import ClusterEngine
import ClusterJournal
import ClusterReporting
import ClusterTestSupport
import Foundation
import Testing

/// `--journal`: the coordinator killed with SIGKILL again and again in one job, the way a crash
/// happens, and restarted each time with the same file. The job's progress is held to points the
/// test chooses (`CLUSTER_TOP_TEST_KERNEL=limit:FILE`), so every kill lands mid-job, with work in
/// flight, on a machine of any speed; the test waits only for facts the journal records.
@Suite("Journal: kill -9 and resume", .serialized)
struct JournalCrashTests {
    static let range = (lo: Int64(1), hi: Int64(8_000_000_000))
    static let chunkSize: Int64 = 1_000_000
    static let chunks = (range.hi - range.lo) / chunkSize + 1

    enum Coordinator: String, CaseIterable, CustomTestStringConvertible {
        /// `serve` with a local thread and two worker processes that must rejoin by themselves.
        case serve
        /// The local cluster, headless: the same engine and journal as the dashboard.
        case local
        var testDescription: String { rawValue }
    }

    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-\(name)-\(UUID().uuidString)").path
    }

    static func setLimit(_ limit: Int64, in file: String) throws {
        // Replaced whole, never seen half-written.
        let partial = file + ".partial"
        try "\(limit)\n".write(toFile: partial, atomically: false, encoding: .utf8)
        _ = rename(partial, file)
    }

    static func accepted(_ journal: String) -> JournalReport.Job? { (try? JournalReport.read(journal))?.jobs.first }

    @Test("killed with SIGKILL at ten moments of one job and restarted with the same journal each time: the job ends verified, every chunk accepted exactly once, none accepted before a crash lost by it or summed again after it, and the journal agrees with the work the processes did and with the last run's own account",
          arguments: Coordinator.allCases)
    func killTenTimes(coordinator: Coordinator) throws {
        let journal = Self.temporary("journal"), limitFile = Self.temporary("limit")
        // Every sub-block any process sums is a line here (the limit kernel writes it); the test
        // marks each start of the coordinator in it.
        let workLog = limitFile + ".summed"
        defer {
            Journal.removeFiles(at: journal)
            for path in [journal + ".token", journal + ".tls-cert.pem", journal + ".tls-key.pem", limitFile, workLog] {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        let environment = ["CLUSTER_TOP_TEST_KERNEL": "limit:\(limitFile)"]
        let job = ["--range", "\(Self.range.lo)...\(Self.range.hi)", "--chunk-size", "\(Self.chunkSize)", "--headless",
                   "--refresh", "0.1", "--journal", journal]
        var port = 0
        var starts = 0
        func start(_ extra: [String] = []) throws -> BackgroundBinary {
            starts += 1
            try Self.append("# start \(starts)\n", to: workLog)
            switch coordinator {
            case .serve:
                return try BackgroundBinary(["serve", "--listen", "127.0.0.1:\(port)", "--workers", "1"] + job + extra, environment: environment)
            case .local:
                return try BackgroundBinary(["--workers", "2"] + job + extra, environment: environment)
            }
        }
        // What the journal held after each kill, as spans of elements.
        var keptAtKill: [[ClosedRange<Int64>]] = []
        var students: [BackgroundBinary] = []
        defer { for student in students { student.signal(SIGKILL) } }
        var acceptedBefore: Int64 = 0
        for round in 1...10 {
            // This round's work may reach a twelfth more of the range, and no further.
            let limit = Self.range.lo - 1 + (Self.range.hi - Self.range.lo + 1) * Int64(round) / 12
            try Self.setLimit(limit, in: limitFile)
            let run = try start()
            if round == 1, coordinator == .serve {
                let joinLine = try #require(run.waitFor("join with: cluster-top worker --join "), "\(run.output)")
                let join = String(try #require(joinLine.firstMatch(of: /--join (127\.0\.0\.1:(\d+)\/[0-9a-z-]+)/)).1)
                port = Int(try #require(joinLine.firstMatch(of: /--join 127\.0\.0\.1:(\d+)\//)).1)!
                for n in 1...2 {
                    students.append(try BackgroundBinary(["worker", "--join", join, "--threads", "1", "--name", "student-\(n)",
                                                          "--retry-for", "600"], environment: environment))
                }
            }
            if round > 1 {
                // The restart says where it goes on from: exactly what the journal held at the kill.
                let said = try #require(run.waitFor("chunks already accepted"), "round \(round): \(run.output)")
                let match = try #require(said.firstMatch(of: /resuming job 1 at [0-9.]+%: ([0-9,]+) of ([0-9,]+) chunks already accepted/))
                #expect(Int64(match.1.filter(\.isNumber)) == acceptedBefore, "round \(round): \(said)")
            }
            // A random moment between what was kept and what the limit lets through.
            let reachable = (limit - Self.range.lo + 1) / Self.chunkSize
            let target = Int64.random(in: min(acceptedBefore + 1, reachable - 1)...(reachable - 1))
            // A deadline for a hang only: beside the suite's heaviest tests a restarted serve and
            // its reconnecting workers took over five minutes to get there on CI.
            let reached = eventually(within: 900) { (Self.accepted(journal)?.chunksAccepted ?? 0) >= target }
            #expect(reached, "round \(round): the journal never reached chunk \(target) of \(reachable): \(run.output.suffix(2_000))")
            run.signal(SIGKILL)
            #expect(run.exitStatus(within: 30) == 128 + SIGKILL)
            let kept = try #require(Self.accepted(journal), "round \(round): the journal cannot be read after the kill")
            #expect(kept.chunksAccepted >= acceptedBefore, "a crash never loses what the journal had")
            #expect(kept.state == "running")
            acceptedBefore = kept.chunksAccepted
            keptAtKill.append(Self.elementSpans(kept))
            if coordinator == .serve {
                #expect(students.allSatisfy { $0.exitStatus(within: 0) == nil }, "the worker processes wait for the coordinator")
            }
        }
        // The whole range, and the job runs to its end: once the same two processes, never
        // restarted, have rejoined by themselves (before that, the limit holds the job).
        let last = try start(["--json"])
        if coordinator == .serve {
            #expect(last.waitFor("joined from student-1", timeout: 120) != nil && last.waitFor("joined from student-2", timeout: 120) != nil,
                    "\(last.output)")
        }
        try Self.setLimit(Self.range.hi, in: limitFile)
        #expect(last.exitStatus(within: 900) == 0, "\(last.output.suffix(3_000))")
        let resultLine = try #require(last.output.split(separator: "\n").first { $0.contains(#""type":"result""#) },
                                      "\(last.output.suffix(3_000))")
        let result = try JSONDecoder().decode(HeadlessReport.Result.self, from: Data(resultLine.utf8))
        #expect(result.verified)
        for student in students { #expect(student.exitStatus(within: 60) == 0, "released at the end: \(student.output.suffix(1_000))") }
        let report = try #require(try? JournalReport.read(journal))
        let kept = try #require(report.jobs.first)
        #expect(report.jobs.count == 1 && kept.state == "verified")
        #expect(kept.chunksAccepted == Self.chunks && kept.elementsAccepted == Self.range.hi - Self.range.lo + 1)
        // Every chunk once: the rows' chunk counts add up to the number of chunks, and their
        // union (chunksAccepted) is all of them, so no two rows share a chunk.
        #expect(kept.summedBy.reduce(0) { $0 + $1.chunks } == Self.chunks)
        #expect(kept.acceptedTotal == kept.closedForm)
        // The journal's rows for the last run are that run's own account of who summed what.
        let lastRun = try #require(kept.summedBy.map(\.run).max())
        let journaled = Dictionary(kept.summedBy.filter { $0.run == lastRun }.map { ($0.worker, $0.elements) }, uniquingKeysWith: +)
        let accounted = Dictionary(result.workers.filter { $0.elementsAccepted > 0 }.map { ($0.id, Int64($0.elementsAccepted)) },
                                   uniquingKeysWith: +)
        #expect(journaled == accounted, "journal \(journaled), the last run's result \(accounted)")
        try Self.checkWork(log: workLog, keptAtKill: keptAtKill, coordinator: coordinator)
    }

    static func append(_ text: String, to path: String) throws {
        let file = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard file >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(file) }
        var text = text
        text.withUTF8 { _ = write(file, $0.baseAddress, $0.count) }
    }

    /// A job's accepted chunks as spans of elements.
    static func elementSpans(_ job: JournalReport.Job) -> [ClosedRange<Int64>] {
        job.acceptedChunkSpans.map { span in
            (job.lo + span[0] * job.chunkSize)...min(job.hi, job.lo + span[1] * job.chunkSize - 1)
        }
    }

    /// The work the processes really did, against what the journal kept at each kill: nothing
    /// kept before a kill is summed again after the restart; what is summed twice was summed
    /// before the kill and not yet kept (in flight); every element was summed.
    static func checkWork(log: String, keptAtKill: [[ClosedRange<Int64>]], coordinator: Coordinator) throws {
        var rounds: [[ClosedRange<Int64>]] = []
        for line in try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n") {
            if line.hasPrefix("# start") { rounds.append([]); continue }
            let fields = line.split(separator: " ")
            guard fields.count == 3, let lo = Int64(fields[1]), let hi = Int64(fields[2]), !rounds.isEmpty else {
                Issue.record("an unreadable line in the work log: \(line)"); continue
            }
            rounds[rounds.count - 1].append(lo...hi)
        }
        try #require(rounds.count == keptAtKill.count + 1)
        var summedBefore = SpanSet()
        var redoneChunks: [Double] = [], inFlightChunks: [Double] = []
        for (index, round) in rounds.enumerated() {
            if index > 0 {
                let kept = SpanSet(keptAtKill[index - 1])
                let resummed = round.reduce(Int64(0)) { $0 + kept.overlap($1) }
                #expect(resummed == 0, "after kill \(index): \(resummed) elements the journal held were summed again")
                let inFlight = summedBefore.subtracting(kept)
                let redone = round.reduce(Int64(0)) { $0 + summedBefore.overlap($1) }
                #expect(redone <= inFlight.count, "after kill \(index): \(redone) elements redone, \(inFlight.count) were in flight")
                redoneChunks.append(Double(redone) / Double(chunkSize))
                inFlightChunks.append(Double(inFlight.count) / Double(chunkSize))
            }
            for span in round { summedBefore.insert(span) }
        }
        #expect(summedBefore.count == range.hi - range.lo + 1, "every element was summed")
        func figures(_ values: [Double]) -> String { values.map { String(format: "%.1f", $0) }.joined(separator: " ") }
        print("journal kill -9 (\(coordinator)): chunks redone after each kill \(figures(redoneChunks)); summed but not kept at each kill \(figures(inFlightChunks))")
    }

    @Test("copies of the journal and its WAL taken at ten moments of a running job, the process frozen (SIGSTOP) as a crash would freeze them: each opens and resumes to the exact, verified total")
    func crashConsistentCopies() throws {
        let journal = Self.temporary("journal"), limitFile = Self.temporary("limit")
        var copies: [String] = []
        defer {
            for path in [journal] + copies { Journal.removeFiles(at: path) }
            try? FileManager.default.removeItem(atPath: limitFile)
        }
        let job = ["--range", "\(Self.range.lo)...\(Self.range.hi)", "--chunk-size", "\(Self.chunkSize)", "--headless"]
        try Self.setLimit(Self.range.lo, in: limitFile)
        let run = try BackgroundBinary(job + ["--workers", "2", "--journal", journal],
                                       environment: ["CLUSTER_TOP_TEST_KERNEL": "limit:\(limitFile)"])
        var acceptedInCopies: [Int64] = []
        for moment in 1...10 {
            let limit = Self.range.lo - 1 + (Self.range.hi - Self.range.lo + 1) * Int64(moment) / 12
            try Self.setLimit(limit, in: limitFile)
            let reachable = (limit - Self.range.lo + 1) / Self.chunkSize
            // Past everything the previous moment could have seen, so each copy holds more.
            let previous = (Self.range.hi - Self.range.lo + 1) * Int64(moment - 1) / 12 / Self.chunkSize
            let target = Int64.random(in: (previous + 1)...(reachable - 1))
            #expect(eventually(within: 900) { (Self.accepted(journal)?.chunksAccepted ?? 0) >= target }, "\(run.output.suffix(1_000))")
            // Frozen while the writer may be mid-transaction: the files as a crash would leave them.
            run.signal(SIGSTOP)
            let copy = Self.temporary("copy-\(moment)")
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: journal + suffix) {
                try FileManager.default.copyItem(atPath: journal + suffix, toPath: copy + suffix)
            }
            run.signal(SIGCONT)
            copies.append(copy)
        }
        try Self.setLimit(Self.range.hi, in: limitFile)
        #expect(run.exitStatus(within: 900) == 0, "\(run.output.suffix(2_000))")
        for copy in copies {
            let kept = try #require(Self.accepted(copy), "a copy does not open")
            #expect(kept.state == "running")
            acceptedInCopies.append(kept.chunksAccepted)
            let resumed = try BinaryProcess.run(job + ["--workers", "2", "--journal", copy])
            #expect(resumed.status == 0 && resumed.stdout.contains("[verified]"), "\(resumed.stdout.suffix(1_000)) \(resumed.stderr)")
            #expect(resumed.stdout.contains("\(NumberText.grouped(kept.chunksAccepted)) of \(NumberText.grouped(Self.chunks)) chunks already accepted"),
                    "\(resumed.stdout.prefix(1_000))")
            let finished = try #require(Self.accepted(copy))
            #expect(finished.state == "verified" && finished.acceptedTotal == finished.closedForm)
            #expect(finished.summedBy.reduce(0) { $0 + $1.chunks } == Self.chunks, "every chunk once")
        }
        #expect(acceptedInCopies == acceptedInCopies.sorted() && Set(acceptedInCopies).count == 10, "\(acceptedInCopies)")
    }
}

/// A set of integers kept as disjoint, sorted closed spans.
struct SpanSet {
    private(set) var spans: [ClosedRange<Int64>] = []

    init(_ spans: [ClosedRange<Int64>] = []) { for span in spans { insert(span) } }

    var count: Int64 { spans.reduce(0) { $0 + ($1.upperBound - $1.lowerBound + 1) } }

    /// The index of the first span that ends at or after `value`.
    private func firstEnding(atOrAfter value: Int64) -> Int {
        var low = 0, high = spans.count
        while low < high {
            let middle = (low + high) / 2
            if spans[middle].upperBound < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    mutating func insert(_ span: ClosedRange<Int64>) {
        // Touching spans merge too.
        let first = firstEnding(atOrAfter: span.lowerBound - 1)
        var end = first, merged = span
        while end < spans.count, spans[end].lowerBound <= span.upperBound + 1 {
            merged = min(merged.lowerBound, spans[end].lowerBound)...max(merged.upperBound, spans[end].upperBound)
            end += 1
        }
        spans.replaceSubrange(first..<end, with: [merged])
    }

    /// How many elements of `span` are in the set.
    func overlap(_ span: ClosedRange<Int64>) -> Int64 {
        var total: Int64 = 0, index = firstEnding(atOrAfter: span.lowerBound)
        while index < spans.count, spans[index].lowerBound <= span.upperBound {
            total += min(span.upperBound, spans[index].upperBound) - max(span.lowerBound, spans[index].lowerBound) + 1
            index += 1
        }
        return total
    }

    func subtracting(_ other: SpanSet) -> SpanSet {
        var result = SpanSet()
        for span in spans {
            var start = span.lowerBound
            for cut in other.spans where cut.upperBound >= start && cut.lowerBound <= span.upperBound {
                if cut.lowerBound > start { result.spans.append(start...(cut.lowerBound - 1)) }
                start = cut.upperBound + 1
            }
            if start <= span.upperBound { result.spans.append(start...span.upperBound) }
        }
        return result
    }
}
