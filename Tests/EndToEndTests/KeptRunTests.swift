import ClusterTestSupport
import Foundation
import Testing

/// Runs kept as files: `--json` as a documented interface, validated line by line against
/// docs/json-schema.json by a real JSON Schema validator (Python's `jsonschema`), and `--trace`
/// as a Chrome Trace Event file, from runs with a kill, a backup, a split and an interruption.
/// Every moment that matters is held at the limit kernel's line until the test has seen what it
/// waits for, so no step depends on a machine's speed.
@Suite("Runs kept: --json and --trace")
struct KeptRunTests {
    static let schema = BinaryProcess.repository.appendingPathComponent("docs/json-schema.json").path

    /// Validates every line of `output` against the schema; what the validator said when one
    /// does not hold, or nil.
    static func schemaErrors(_ output: String) throws -> String? {
        let lines = JournalCrashTests.temporary("json-lines"), program = JournalCrashTests.temporary("check") + ".py"
        defer { for path in [lines, program] { try? FileManager.default.removeItem(atPath: path) } }
        try output.write(toFile: lines, atomically: true, encoding: .utf8)
        let check = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            whole = jsonschema.Draft202012Validator(schema)
            for number, line in enumerate(open(sys.argv[2]), 1):
                if not line.strip():
                    continue
                value = json.loads(line)
                if whole.is_valid(value):
                    continue
                # Say why against the definition its type names, not "none of the five".
                kind = value.get("type") if isinstance(value, dict) else None
                part = dict(schema, oneOf=None)
                part.pop("oneOf")
                part["$ref"] = "#/$defs/" + str(kind)
                error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(part).iter_errors(value))
                where = "/".join(str(p) for p in error.absolute_path) if error else ""
                print(f"line {number}, {where}: {error.message if error else 'no definition for its type'}")
                sys.exit(1)
            """
        try check.write(toFile: program, atomically: true, encoding: .utf8)
        let result = try BinaryProcess.runShell("python3 '\(program)' '\(schema)' '\(lines)' 2>&1")
        return result.status == 0 ? nil : result.stdout + result.stderr
    }

    static func objects(_ output: String) -> [[String: Any]] {
        output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test("a script with a kill, a backup and a split: every --json line validates, the events carry their kind and fields, and the trace has every accepted attempt once and an arrow from each lost attempt to its redo")
    func killBackupSplit() throws {
        let limit = JournalCrashTests.temporary("limit"), script = JournalCrashTests.temporary("script")
        let trace = JournalCrashTests.temporary("trace") + ".json"
        defer { for path in [limit, limit + ".summed", script, trace] { try? FileManager.default.removeItem(atPath: path) } }
        // Job 1 (dynamic, 16 chunks of 100 M): worker 2 is killed while both are held at 400 M; then
        // the last chunk is held at its first sub-block until the idle worker copies it (a
        // backup). Its chunks are too long for a thread to claim one ahead (that takes one that
        // lasts under 100 µs): on CI, with chunks of 1 M, the restarted worker took back the
        // last chunk from the other's claimed queue while that one's thread had begun it, and
        // both threads were held at the limit, one of them with its finished chunk unreported,
        // so neither was idle to copy it. Job 2 (stealing, two slices of two 10 M chunks):
        // worker 2 is paused while held at the start of its slice; worker 1, done with its own,
        // takes the rest and splits worker 2's.
        try """
            workers 2
            chunk-size 100_000_000
            submit 1...1_600_000_000
            wait 25%
            kill 2
            restart 2
            wait
            schedule stealing
            chunk-size 10_000_000
            submit 1_600_000_001...1_640_000_000
            wait 50%
            pause 2
            wait
            resume 2
            """.write(toFile: script, atomically: true, encoding: .utf8)
        // Held at 0 until both workers hold a chunk of job 1 (a progress line says so): then the
        // kill finds worker 2 with one, however late its thread first ran.
        try JournalCrashTests.setLimit(0, in: limit)
        let run = try BackgroundBinary(["--script", script, "--headless", "--json", "--refresh", "0.2", "--trace", trace],
                                       environment: ["CLUSTER_TOP_TEST_KERNEL": "limit:\(limit)"], separateErrors: true)
        func bothHoldChunks(ofJob job: Int) -> Bool {
            Self.objects(run.output).contains {
                $0["type"] as? String == "progress" && $0["job"] as? Int == job
                    && (($0["workers"] as? [[String: Any]]).map { $0.count == 2 && $0.allSatisfy { $0["chunk"] is Int } } ?? false)
            }
        }
        #expect(eventually(within: 600) { bothHoldChunks(ofJob: 1) }, "\(run.output)\(run.errors)")
        try JournalCrashTests.setLimit(400_000_100, in: limit)
        #expect(run.waitFor(#""kind":"workerKilled""#, timeout: 600) != nil, "\(run.output)\(run.errors)")
        try JournalCrashTests.setLimit(1_500_000_100, in: limit)
        #expect(run.waitFor(#""kind":"backupStarted""#, timeout: 600) != nil, "\(run.output)\(run.errors)")
        // Job 1 ends; job 2 is held at its start until both hold a chunk of it, so worker 2 is
        // paused holding one.
        try JournalCrashTests.setLimit(1_600_000_000, in: limit)
        #expect(eventually(within: 600) { bothHoldChunks(ofJob: 2) }, "\(run.output)\(run.errors)")
        try JournalCrashTests.setLimit(1_620_000_100, in: limit)
        #expect(run.waitFor(#""kind":"workerPaused""#, timeout: 600) != nil, "\(run.output)\(run.errors)")
        try JournalCrashTests.setLimit(Int64.max, in: limit)
        #expect(run.exitStatus(within: 600) == 0, "\(run.output)\(run.errors)")

        let output = run.output
        let errors = try Self.schemaErrors(output)
        #expect(errors == nil, "\(errors ?? "")")
        let objects = Self.objects(output)
        #expect(objects.count == output.split(separator: "\n").count, "every line is JSON")
        #expect(objects.allSatisfy { $0["version"] as? Int == 1 && $0["type"] is String })
        let events = objects.filter { $0["type"] as? String == "event" }
        func event(_ kind: String) -> [String: Any]? { events.first { $0["kind"] as? String == kind } }
        let killed = try #require(event("workerKilled"))
        #expect(killed["worker"] as? Int == 2 && killed["chunk"] is Int && killed["outcome"] as? String == "killed")
        let requeued = try #require(event("chunkRequeued"))
        #expect(requeued["chunk"] as? Int == killed["chunk"] as? Int && requeued["from"] as? Int == 2)
        let backup = try #require(event("backupStarted"))
        #expect(backup["chunk"] as? Int == 15 && backup["of"] is Int && backup["on"] is Int && backup["duration"] is Double)
        #expect(event("backupRaceWon")?["outcome"] as? String == "superseded")
        let split = try #require(event("chunkSplit"))
        #expect(split["from"] as? Int == 2 && (split["elements"] as? [Int])?.count == 2 && split["outcome"] as? String == "split")
        #expect(event("jobFinished")?["total"] is String)
        // Events in order, numbered from 1 without a gap.
        let sequence = events.compactMap { $0["sequence"] as? Int }
        #expect(sequence == Array(1...sequence.count))
        let results = objects.filter { $0["type"] as? String == "result" }
        #expect(results.count == 2 && results.allSatisfy { $0["verified"] as? Bool == true && $0["interrupted"] as? Bool == false })
        // Each result counts its own job's work per worker: the shares make the job, exactly.
        for (result, size) in zip(results, [1_600_000_000, 40_000_000]) {
            let workers = result["workers"] as? [[String: Any]] ?? []
            #expect(workers.reduce(0) { $0 + ($1["elementsAccepted"] as? Int ?? 0) } == size)
        }
        #expect(objects.last?["type"] as? String == "scriptFinished")

        try Self.checkTrace(trace, elements: 1_640_000_000, requeued: events.filter { $0["kind"] as? String == "chunkRequeued" })
    }

    /// The trace parses; every accepted attempt is one slice and their elements make the jobs;
    /// each re-queued chunk has an arrow from its lost attempt to the attempt that redid it.
    static func checkTrace(_ path: String, elements: Int, requeued: [[String: Any]]) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let trace = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]], "not a JSON array")
        func args(_ event: [String: Any]) -> [String: Any] { event["args"] as? [String: Any] ?? [:] }
        let slices = trace.filter { $0["ph"] as? String == "X" }
        let accepted = slices.filter { $0["cat"] as? String == "done" }
        let attempts = accepted.compactMap { args($0)["attempt"] as? Int }
        #expect(attempts.count == accepted.count && Set(attempts).count == attempts.count, "each accepted attempt once")
        #expect(accepted.reduce(0) { $0 + (args($1)["count"] as? Int ?? 0) } == elements)
        #expect(slices.contains { args($0)["origin"] as? String == "backup" })
        #expect(slices.contains { $0["cat"] as? String == "superseded" })
        #expect(slices.contains { args($0)["origin"] as? String == "split" || args($0)["wasSplit"] as? Bool == true })
        // No two slices overlap on one track: Perfetto nests slices on a track.
        let byTrack = Dictionary(grouping: slices) { "\($0["pid"] ?? 0)/\($0["tid"] ?? 0)" }
        for (track, list) in byTrack {
            let ordered = list.sorted { ($0["ts"] as? Double ?? 0) < ($1["ts"] as? Double ?? 0) }
            for (a, b) in zip(ordered, ordered.dropFirst()) {
                let end = (a["ts"] as? Double ?? 0) + (a["dur"] as? Double ?? 0)
                #expect(end <= (b["ts"] as? Double ?? 0) + 1e-3, "overlap on \(track)")
            }
        }
        let starts = trace.filter { $0["ph"] as? String == "s" }, finishes = trace.filter { $0["ph"] as? String == "f" }
        #expect(!requeued.isEmpty)
        for event in requeued {
            let chunk = try #require(event["chunk"] as? Int)
            let lost = slices.filter { args($0)["chunk"] as? Int == chunk && ["killed", "leaseLost", "disconnected"].contains($0["cat"] as? String ?? "") }
            let start = starts.first { flow in lost.contains { args($0)["attempt"] as? Int == flow["id"] as? Int } }
            let flowStart = try #require(start, "no arrow from chunk \(chunk)'s lost attempt")
            let finish = try #require(finishes.first { $0["id"] as? Int == flowStart["id"] as? Int }, "the arrow from chunk \(chunk) ends nowhere")
            #expect(slices.contains { args($0)["chunk"] as? Int == chunk && args($0)["origin"] as? String == "redo"
                && $0["ts"] as? Double == finish["ts"] as? Double && $0["tid"] as? Int == finish["tid"] as? Int })
        }
        #expect(trace.contains { $0["ph"] as? String == "i" && $0["name"] as? String == "workerKilled" })
        #expect(trace.contains { $0["ph"] as? String == "C" && $0["name"] as? String == "throughput" })
        #expect(trace.contains { $0["ph"] as? String == "M" && $0["name"] as? String == "thread_name" })
    }

    @Test("a run stopped by SIGINT ends with a result marked interrupted, with the partial total, and validates")
    func interrupted() throws {
        let limit = JournalCrashTests.temporary("limit")
        defer { for path in [limit, limit + ".summed"] { try? FileManager.default.removeItem(atPath: path) } }
        try JournalCrashTests.setLimit(5_000_000, in: limit)
        let run = try BackgroundBinary(["--range", "1...100_000_000", "--chunk-size", "1_000_000", "--workers", "2",
                                        "--json", "--refresh", "0.2"],
                                       environment: ["CLUSTER_TOP_TEST_KERNEL": "limit:\(limit)"], separateErrors: true)
        // Held at 5 M: the work up to there is done, the rest waits. (A chunk done may still be
        // held back from its hand-in by the next one its thread claimed ahead, held at the limit.)
        #expect(run.waitFor(#""elementsDone":5000000,"#, timeout: 600) != nil, "\(run.output)\(run.errors)")
        run.signal(SIGINT)
        #expect(run.exitStatus(within: 600) == 130)
        try JournalCrashTests.setLimit(Int64.max, in: limit)
        let output = run.output
        let errors = try Self.schemaErrors(output)
        #expect(errors == nil, "\(errors ?? "")")
        // Progress lines (the test waited for one) say null where nothing is known, never leave
        // a field out.
        let progress = Self.objects(output).filter { $0["type"] as? String == "progress" }
        #expect(!progress.isEmpty && progress.allSatisfy { $0.keys.contains("etaSeconds") })
        #expect(progress.flatMap { ($0["workers"] as? [[String: Any]]) ?? [] }.allSatisfy { $0.keys.contains("chunk") })
        let last = try #require(Self.objects(output).last)
        #expect(last["type"] as? String == "result" && last["interrupted"] as? Bool == true && last["verified"] as? Bool == false)
        // The partial total is the sum of the squares of the chunks accepted: as many of the five
        // chunks under the limit as the workers' accepted elements say.
        let accepted = ((last["workers"] as? [[String: Any]]) ?? []).compactMap { $0["elementsAccepted"] as? Int }.reduce(0, +)
        #expect(accepted % 1_000_000 == 0 && (1...5).contains(accepted / 1_000_000), "\(accepted)")
        func squares(_ chunk: Int) -> UInt128 {
            let lo = UInt128(chunk) * 1_000_000 + 1, hi = lo + 999_999
            func f(_ n: UInt128) -> UInt128 { n * (n + 1) * (2 * n + 1) / 6 }
            return f(hi) - f(lo - 1)
        }
        let sums = (0..<32).filter { $0.nonzeroBitCount == accepted / 1_000_000 }.map { subset in
            (0..<5).filter { subset & (1 << $0) != 0 }.reduce(UInt128(0)) { $0 + squares($1) }
        }
        #expect(sums.map { String($0) }.contains(last["total"] as? String ?? ""), "\(last)")
    }

    @Test("a trace or recording that cannot be written: one line and 73 before the run (64 for two of them in one file), or the run kept, one line and 74 when a write fails during it; a device given as the file stays a device")
    func unwritableFiles() throws {
        let folder = FileManager.default.temporaryDirectory.path
        let intoFolder = try BinaryProcess.run(["--headless", "--range", "1...1000", "--trace", folder])
        #expect(intoFolder.status == 73 && intoFolder.stderr.hasPrefix("cluster-top: cannot write the trace \(folder): "), "\(intoFolder.stderr)")
        #expect(intoFolder.stderr.split(separator: "\n").count == 1 && intoFolder.stdout.isEmpty)
        // Two writers in one file would leave neither readable: refused before anything is written.
        let same = JournalCrashTests.temporary("same")
        let twice = try BinaryProcess.run(["--headless", "--range", "1...1000", "--record", same, "--trace", same])
        #expect(twice.status == 64 && twice.stderr.hasPrefix("cluster-top: --record and --trace both name '\(same)': give each a file of its own"),
                "\(twice.stderr)")
        #expect(!FileManager.default.fileExists(atPath: same))
        let replayFolder = try BinaryProcess.run(["replay", folder])
        #expect(replayFolder.status == 65 && replayFolder.stderr == "cluster-top: '\(folder)' is a folder, not a cluster-top recording (make one with --record FILE)\n")

        // /dev/full takes an open and refuses every write. (The trace used to be written beside
        // and renamed over its path: run as root, that replaced the device with a regular file.)
        var status = stat()
        guard stat("/dev/full", &status) == 0, status.st_mode & S_IFMT == S_IFCHR else { return }
        let traced = try BinaryProcess.run(["--headless", "--range", "1...100000000", "--trace", "/dev/full"])
        #expect(traced.status == 74, "\(traced.stdout)\(traced.stderr)")
        #expect(traced.stdout.contains("[verified]"), "the run itself is kept: \(traced.stdout)")
        #expect(traced.stderr == "cluster-top: the trace '/dev/full' stopped early: No space left on device\n", "\(traced.stderr)")
        let recorded = try BinaryProcess.run(["--headless", "--range", "1...1000", "--record", "/dev/full"])
        #expect(recorded.status == 73 && recorded.stderr == "cluster-top: cannot write the recording '/dev/full': No space left on device\n",
                "\(recorded.stderr)")
        #expect(stat("/dev/full", &status) == 0 && status.st_mode & S_IFMT == S_IFCHR, "/dev/full is still a device")
    }

    /// Starts `program` reading a FIFO (its output thrown away): the other end of a recording
    /// written into a pipe.
    static func startReader(_ program: String, _ arguments: [String]) throws -> Process {
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: program)
        reader.arguments = arguments
        reader.standardOutput = FileHandle.nullDevice
        try reader.run()
        return reader
    }

    @Test("a recording whose reader goes away during the run (a pipe): the run goes on and verifies, one line at the end says where the recording stopped, exit 74")
    func recordingReaderGone() throws {
        let limit = JournalCrashTests.temporary("limit"), fifo = JournalCrashTests.temporary("fifo")
        defer { for path in [limit, limit + ".summed", fifo] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(mkfifo(fifo, 0o600) == 0)
        // The job is held at its start until the reader has gone, so frames are written after.
        try JournalCrashTests.setLimit(0, in: limit)
        let run = try BackgroundBinary(["--headless", "--range", "1...10_000_000", "--chunk-size", "1_000_000", "--record", fifo],
                                       environment: ["CLUSTER_TOP_TEST_KERNEL": "limit:\(limit)"], separateErrors: true)
        // Takes the header's first byte and goes (cluster-top's open waits for it to open).
        let reader = try Self.startReader("/usr/bin/head", ["-c", "1", fifo])
        reader.waitUntilExit()
        try JournalCrashTests.setLimit(Int64.max, in: limit)
        #expect(run.exitStatus(within: 600) == 74, "\(run.output)\(run.errors)")
        #expect(run.output.contains("[verified]"), "\(run.output)")
        #expect(run.errors == "cluster-top: the recording '\(fifo)' stopped early: Broken pipe; it replays up to its last whole frame\n",
                "\(run.errors)")
    }
}
