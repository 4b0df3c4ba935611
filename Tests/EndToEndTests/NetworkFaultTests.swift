import Foundation
import Testing
import ClusterTestSupport

/// The coordinator and its workers in network namespaces of their own, joined by a link that
/// delays, jitters, drops, duplicates and reorders packets, or is cut: `Tests/Tools/fault-link.py`
/// between two TUN devices (this kernel has no netem). The real binaries, over TLS.
@Suite("Network faults between namespaces", .serialized,
       .enabled(if: FaultLink.unavailable == nil || FaultLink.isRequired,
                "network namespaces cannot be made here (\(FaultLink.unavailable ?? "")): run as root with iproute2 and /dev/net/tun"))
struct NetworkFaultTests {
    static let token = "fault-token-0123456789"

    /// `serve` in the link's side A, headless, waiting for `threads` remote threads.
    static func serve(_ link: FaultLink, threads: Int, range: String, lease: String = "1") throws -> BackgroundBinary {
        try BackgroundBinary(["serve", "--listen", "\(link.sideA):7070", "--token", token, "--workers", "0", "--headless",
                              "--await-workers", "\(threads)", "--lease", lease, "--range", range],
                             launcher: link.launcher(side: "a"))
    }

    /// A worker process of `threads` threads in side B.
    static func worker(_ link: FaultLink, serve: BackgroundBinary, threads: Int = 1,
                       environment: [String: String] = [:]) throws -> BackgroundBinary {
        let fingerprint = try #require(serve.fingerprint())
        return try BackgroundBinary(["worker", "--connect", "\(link.sideA):7070", "--fingerprint", fingerprint,
                                     "--token", token, "--threads", "\(threads)", "--retry-for", "120"],
                                    environment: environment, launcher: link.launcher(side: "b"))
    }

    @Test("every job ends exact and verified across latency with jitter, loss, and duplication with reordering",
          arguments: [
            FaultLink.Faults(name: "latency", arguments: ["--delay-ms", "50", "--jitter-ms", "10"]),
            FaultLink.Faults(name: "loss", arguments: ["--loss", "0.1"]),
            FaultLink.Faults(name: "dup-reorder", arguments: ["--duplicate", "0.05", "--reorder", "0.25"]),
          ])
    func faultyLink(faults: FaultLink.Faults) throws {
        let link = try FaultLink(name: "ct\(faults.name.prefix(3))", faults: faults.arguments)
        defer { link.stop() }
        let serve = try Self.serve(link, threads: 2, range: "1...200_000_000")
        let workers = try (0..<2).map { _ in try Self.worker(link, serve: serve) }

        #expect(serve.exitStatus(within: 300) == 0, "\(serve.output)")
        #expect(serve.output.contains("[verified]"), "\(serve.output)")
        for worker in workers {
            #expect(worker.exitStatus(within: 60) == 0, "\(worker.output)")
            #expect(worker.output.contains("released by the coordinator"))
        }
        // The faults really happened.
        let counts = link.stop()
        #expect((counts["forwarded"] ?? 0) > 0, "the traffic went through the faulty link")
        switch faults.name {
        case "loss": #expect((counts["dropped"] ?? 0) > 0)
        case "dup-reorder": #expect((counts["duplicated"] ?? 0) > 0 && (counts["reordered"] ?? 0) > 0)
        default: break
        }
    }

    @Test("a link cut longer than the lease: chunks re-queued, the worker heard from again, its late result discarded and counted")
    func linkCut() throws {
        let link = try FaultLink(name: "ctcut", faults: [])
        defer { link.stop() }
        // The worker holds its first attempt at a gate file until after the cut.
        let gate = RemoteWorkerProcessTests.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let serve = try Self.serve(link, threads: 1, range: "1...200_000_000", lease: "0.5")
        let worker = try Self.worker(link, serve: serve, environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
        #expect(serve.waitFor("job 1 started") != nil, "\(serve.output)")
        #expect(eventually { FileManager.default.fileExists(atPath: gate + ".held") })

        try link.setSideB(up: false)
        #expect(serve.waitFor("lease expired") != nil, "\(serve.output)")
        try link.setSideB(up: true)
        #expect(serve.waitFor("heard from again") != nil, "the worker comes back after the cut: \(serve.output)")

        try FileManager.default.removeItem(atPath: gate)
        #expect(serve.exitStatus(within: 120) == 0, "\(serve.output)")
        let output = serve.output
        #expect(output.contains("[verified]"), "\(output)")
        #expect(output.contains("stale result for chunk"), "the held attempt's late result is discarded: \(output)")
        let stale = output.firstMatch(of: /(\d+) stale results? discarded/).flatMap { Int($0.1) } ?? 0
        #expect(stale >= 1, "and counted")
        #expect(worker.exitStatus(within: 60) == 0, "\(worker.output)")
    }
}

/// A faulty link between two fresh network namespaces, NAME-a and NAME-b, for one test.
final class FaultLink {
    struct Faults: Sendable, CustomTestStringConvertible {
        let name: String
        let arguments: [String]
        var testDescription: String { "\(name): \(arguments.joined(separator: " "))" }
    }

    static let tool = BinaryProcess.repository.appendingPathComponent("Tests/Tools/fault-link.py").path
    static let ip = ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Why namespaces cannot be made here, or nil.
    static let unavailable: String? = {
        guard getuid() == 0 else { return "not root" }
        guard ip != nil else { return "no ip command (iproute2)" }
        guard FileManager.default.fileExists(atPath: "/dev/net/tun") else { return "no /dev/net/tun" }
        return nil
    }()
    /// CI sets this so a machine where namespaces cannot be made fails loudly instead of skipping.
    static var isRequired: Bool { ProcessInfo.processInfo.environment["CLUSTER_TOP_REQUIRE_NAMESPACES"] == "1" }

    let name: String
    let process = Process()
    private let log: URL
    private(set) var sideA = ""
    private(set) var sideB = ""
    private var counts: [String: Int]?

    init(name: String, faults: [String]) throws {
        self.name = name
        log = FileManager.default.temporaryDirectory.appendingPathComponent("fault-link-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.tool, "--name", name] + faults
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
        var text = ""
        guard eventually(within: 30, {
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return text.contains("ready ") || !process.isRunning
        }), let match = text.firstMatch(of: /ready ([0-9.]+) ([0-9.]+)/) else {
            stop()
            throw FaultLinkFailure("fault-link did not start: \(text)")
        }
        (sideA, sideB) = (String(match.1), String(match.2))
    }

    /// What runs a program inside side "a" or "b".
    func launcher(side: String) -> [String] { [Self.ip!, "netns", "exec", "\(name)-\(side)"] }

    /// Cuts side B's end of the link (`ip link set … down`), or mends it.
    func setSideB(up: Bool) throws {
        let command = Process()
        command.executableURL = URL(fileURLWithPath: Self.ip!)
        command.arguments = ["-n", "\(name)-b", "link", "set", "\(name)-b", up ? "up" : "down"]
        try command.run()
        command.waitUntilExit()
        guard command.terminationStatus == 0 else { throw FaultLinkFailure("ip link set \(up ? "up" : "down") failed") }
    }

    /// Stops the forwarder (it removes both namespaces) and returns its counts of packets.
    @discardableResult
    func stop() -> [String: Int] {
        if let counts { return counts }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: log)
        var found: [String: Int] = [:]
        for match in text.matches(of: /(\w+)=(\d+)/) { found[String(match.1)] = Int(match.2) }
        counts = found
        return found
    }
}

struct FaultLinkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
