import Foundation
import Testing

/// `--json` as a documented interface: the real binary's output, from runs with a kill, a backup,
/// a split and an interruption, validated line by line against docs/json-schema.json by a real
/// JSON Schema validator (Python's `jsonschema`). Every moment that matters is held at the limit
/// kernel's line until the test has seen what it waits for, so no step depends on a machine's
/// speed.
@Suite("The --json interface")
struct JSONInterfaceTests {
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

    @Test("a script with a kill, a backup and a split: every line validates, and the events carry their kind and fields")
    func killBackupSplit() throws {
        let limit = JournalCrashTests.temporary("limit"), script = JournalCrashTests.temporary("script")
        defer { for path in [limit, limit + ".summed", script] { try? FileManager.default.removeItem(atPath: path) } }
        // Job 1 (dynamic, chunks of 1 M): worker 2 is killed while both are held at 10 M; then the
        // last chunk is held at its first sub-block until the idle worker copies it (a backup).
        // Job 2 (stealing, two slices of two 10 M chunks): worker 2 is paused while held at the
        // start of its slice; worker 1, done with its own, takes the rest and splits worker 2's.
        try """
            workers 2
            chunk-size 1_000_000
            submit 1...40_000_000
            wait 25%
            kill 2
            restart 2
            wait
            schedule stealing
            chunk-size 10_000_000
            submit 40_000_001...80_000_000
            wait 50%
            pause 2
            wait
            resume 2
            """.write(toFile: script, atomically: true, encoding: .utf8)
        try JournalCrashTests.setLimit(10_000_100, in: limit)
        let run = try BackgroundBinary(["--script", script, "--headless", "--json", "--refresh", "0.2"],
                                       environment: ["CLUSTER_TOP_TEST_KERNEL": "limit:\(limit)"], separateErrors: true)
        #expect(run.waitFor(#""kind":"workerKilled""#, timeout: 600) != nil, "\(run.output)\(run.errors)")
        try JournalCrashTests.setLimit(39_000_100, in: limit)
        #expect(run.waitFor(#""kind":"backupStarted""#, timeout: 600) != nil, "\(run.output)\(run.errors)")
        try JournalCrashTests.setLimit(60_000_100, in: limit)
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
        #expect(backup["chunk"] as? Int == 39 && backup["of"] is Int && backup["on"] is Int && backup["duration"] is Double)
        #expect(event("backupRaceWon")?["outcome"] as? String == "superseded")
        let split = try #require(event("chunkSplit"))
        #expect(split["from"] as? Int == 2 && (split["elements"] as? [Int])?.count == 2 && split["outcome"] as? String == "split")
        #expect(event("jobFinished")?["total"] is String)
        // Events in order, numbered from 1 without a gap.
        let sequence = events.compactMap { $0["sequence"] as? Int }
        #expect(sequence == Array(1...sequence.count))
        let results = objects.filter { $0["type"] as? String == "result" }
        #expect(results.count == 2 && results.allSatisfy { $0["verified"] as? Bool == true && $0["interrupted"] as? Bool == false })
        #expect(objects.last?["type"] as? String == "scriptFinished")
        // A progress line says null where nothing is known, never leaves the field out.
        let progress = objects.filter { $0["type"] as? String == "progress" }
        #expect(!progress.isEmpty && progress.allSatisfy { $0.keys.contains("etaSeconds") })
        #expect(progress.flatMap { ($0["workers"] as? [[String: Any]]) ?? [] }.allSatisfy { $0.keys.contains("chunk") })
    }

    @Test("a run stopped by SIGINT ends with a result marked interrupted, with the partial total, and validates")
    func interrupted() throws {
        let limit = JournalCrashTests.temporary("limit")
        defer { for path in [limit, limit + ".summed"] { try? FileManager.default.removeItem(atPath: path) } }
        try JournalCrashTests.setLimit(5_000_000, in: limit)
        let run = try BackgroundBinary(["--range", "1...100_000_000", "--chunk-size", "1_000_000", "--workers", "2",
                                        "--json", "--refresh", "0.2"],
                                       environment: ["CLUSTER_TOP_TEST_KERNEL": "limit:\(limit)"], separateErrors: true)
        // Held at 5 M: chunks up to there are accepted, the rest wait.
        #expect(run.waitFor(#""chunksDone":5"#, timeout: 600) != nil, "\(run.output)\(run.errors)")
        run.signal(SIGINT)
        #expect(run.exitStatus(within: 600) == 130)
        try JournalCrashTests.setLimit(Int64.max, in: limit)
        let output = run.output
        let errors = try Self.schemaErrors(output)
        #expect(errors == nil, "\(errors ?? "")")
        let last = try #require(Self.objects(output).last)
        #expect(last["type"] as? String == "result" && last["interrupted"] as? Bool == true && last["verified"] as? Bool == false)
        // The partial total is the sum of the squares of what was accepted: 1...5,000,000.
        #expect(last["total"] as? String == "41666679166667500000")
    }
}
