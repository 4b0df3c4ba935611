import Foundation
import ClusterEngine
import Testing

@Suite("Headless binary")
struct HeadlessCommandTests {
    @Test("the seed's example reproduces 338350, verified")
    func seedExample() throws {
        let result = try BinaryProcess.run(["--range", "1...100", "--workers", "4", "--headless"])
        #expect(result.status == 0)
        #expect(result.stdoutLines.contains("sum of squares over 1...100 = 338350"))
        #expect(result.stdout.contains("338350  [verified]"))
    }

    @Test("without a terminal on stdout it runs headless on its own")
    func headlessWhenPiped() throws {
        let result = try BinaryProcess.run(["--range", "-5...5", "--workers", "2"])
        #expect(result.status == 0)
        #expect(result.stdoutLines.contains("sum of squares over -5...5 = 110"))
        #expect(result.stderr == "cluster-top: standard output is not a terminal; running headless\n")
    }

    static let badInputs: [([String], String)] = [
        (["--range", "5...1"], "LO must not exceed HI"),
        (["--range", "1..5"], "must be written LO...HI"),
        (["--range", "abc...5"], "is not a whole number"),
        (["--range", "--1...5"], "range start '--1' is not a whole number"),
        (["--script", "/dev/null"], "'/dev/null': it is not a regular file"),
        (["--range", "1...99999999999999999999999"], "does not fit in a 64-bit integer"),
        (["--range", "-9223372036854775808...9223372036854775807"], "does not fit in 128 bits"),
        (["--workers", "0"], "between 1 and 1024"),
        (["--workers", "-3"], "between 1 and 1024"),
        (["--workers", "100000"], "between 1 and 1024"),
        (["--workers", "two"], "'two' is invalid"),
        (["--chunk-size", "0"], "at least 1"),
        (["--chunk-size", "-4"], "at least 1"),
        (["--schedule", "round-robin"], "static"),
        (["--throttle", "7"], "out of range"),
        (["--refresh", "0"], "between 0.01 and 60"),
        (["--bogus"], "Unknown option"),
        (["--kernel", "avx1024"], "unknown kernel 'avx1024'; use auto or one of: scalar, sse2, avx2, avx512, ifma, neon"),
    ]

    static let badWorkerInputs: [([String], String)] = [
        (["--threads", "-1"], "--threads must be between 1 and 256 (got -1)"),
        (["--token", "abcdefgh1234\r"], "bad token: the token may only contain printable ASCII"),
        (["--kernel", "fastest"], "unknown kernel 'fastest'"),
        (["--fingerprint", "sha256:abc"], "--fingerprint must be sha256: and 64 hex digits"),
        (["--insecure", "--tls-ca", "/etc/hostname"], "--insecure turns TLS off"),
        (["--status-file", "/no/such/folder/status"], "--status-file: the folder /no/such/folder does not exist"),
    ]

    @Test("serve listens on a host name (localhost) and on IPv6; a name that does not resolve is a usage error in one line")
    func listenNames() throws {
        for (listen, shown) in [("localhost:0", "listening on 127.0.0.1:"), ("[::1]:0", "listening on [::1]:")] {
            let result = try BinaryProcess.run(["serve", "--listen", listen, "--headless", "--workers", "1", "--range", "1...1000",
                                                "--token", "abcdefgh1234"])
            #expect(result.status == 0, "\(listen): \(result.stderr)")
            #expect(result.stdout.contains(shown) && result.stdout.contains("[verified]"), "\(listen): \(result.stdout)")
        }
        let bad = try BinaryProcess.run(["serve", "--listen", "no-such-host.invalid:7070", "--headless", "--range", "1...10",
                                         "--token", "abcdefgh1234"])
        #expect(bad.status == 64)
        let lines = bad.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("--listen: cannot find the address of 'no-such-host.invalid'"), "\(bad.stderr)")
    }

    @Test("a worker's bad input: one clear line, usage exit status, before any connection", arguments: badWorkerInputs)
    func badWorkerInput(arguments: [String], expected: String) throws {
        let result = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:9", "--token", "abcdefgh1234"] + arguments)
        #expect(result.status == 64)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(expected), "\(result.stderr)")
        #expect(!result.stdout.contains("connecting"))
    }

    @Test("bad input: one clear line on stderr, usage exit status, no trace", arguments: badInputs)
    func badInput(arguments: [String], expected: String) throws {
        let result = try BinaryProcess.run(arguments + ["--headless"])
        #expect(result.status == 64)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("cluster-top: "))
        #expect(result.stderr.contains(expected), "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("Fatal") && !result.stderr.contains("Stack"))
    }

    @Test("--json ends with a parseable result object")
    func json() throws {
        let result = try BinaryProcess.run(["--range", "1...3000000", "--chunk-size", "100000", "--workers", "3",
                                            "--json", "--refresh", "0.05"])
        #expect(result.status == 0)
        let last = try #require(result.stdoutLines.last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        let expected = String((1...3_000_000).reduce(UInt128(0)) { $0 + UInt128($1) * UInt128($1) })
        #expect(object["type"] as? String == "result")
        #expect(object["total"] as? String == expected)
        #expect(object["closedForm"] as? String == expected)
        #expect(object["verified"] as? Bool == true)
        #expect(object["elapsedSeconds"] is Double)
        #expect(object["throughput"] is Double)
        #expect((object["workers"] as? [Any])?.count == 3)
    }

    @Test("--kernel runs the variant asked for, every one this CPU has, and says so in the result", arguments: KernelVariant.allCases)
    func kernelVariant(variant: KernelVariant) throws {
        let result = try BinaryProcess.run(["--range", "-3000000...5000000", "--kernel", variant.rawValue, "--headless"])
        guard variant.isSupported else {
            // One line that says which this CPU can run.
            #expect(result.status == 64)
            #expect(result.stderr.contains("this CPU cannot run the \(variant) kernel; it can run: scalar"), "\(result.stderr)")
            return
        }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("[verified]") && result.stdout.contains("schedule, \(variant) kernel"), "\(result.stdout)")
        let json = try BinaryProcess.run(["--range", "1...1000", "--kernel", variant.rawValue, "--json"])
        let last = try #require(json.stdoutLines.last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(object["kernel"] as? String == variant.rawValue)
    }

    @Test("a failed verification exits non-zero")
    func mismatch() throws {
        let result = try BinaryProcess.run(["--range", "1...1000", "--headless", "--debug-wrong-kernel"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("[MISMATCH]"))
    }

    @Test("SIGTERM and SIGINT stop a run cleanly with 128+N", arguments: [SIGTERM, SIGINT, SIGHUP])
    func signals(signal: Int32) throws {
        let run = try BackgroundBinary(["--range", DashboardTerminalTests.endlessRange, "--headless", "--throttle", "0.01"],
                                       separateErrors: true)
        // Its stop handlers are in place before the job starts.
        #expect(run.waitFor("job 1 started") != nil)
        run.signal(signal)
        #expect(run.exitStatus() == 128 + signal)
        #expect(run.output.contains("interrupted at"))
        #expect(run.errors.isEmpty)
    }

    @Test("300 equal workers on this machine for 20 s of their job: no one is called a straggler, and the log says once that they take turns")
    func equalWorkersDoNotFlood() throws {
        let run = try BackgroundBinary(["--range", "1...10_000_000_000_000", "--workers", "300", "--headless"])
        defer { run.signal(SIGKILL) }
        // The job's own clock is the window: lines can only add up while it runs, so a machine
        // of any speed is held to the same bound.
        let output = try #require(run.waitFor("[0:20] job 1", timeout: 120), "\(run.output)")
        #expect(output.components(separatedBy: "lagging now").count - 1 == 0, "\(output)")
        #expect(output.components(separatedBy: "more workers than cores take turns on").count - 1 == 1, "\(output)")
    }
}
