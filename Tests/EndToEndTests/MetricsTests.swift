import ClusterTestSupport
import Foundation
import Testing

/// `--metrics` as an operator uses it: a real Prometheus (Debian's `prometheus`, started here on
/// loopback with a configuration of its own) scrapes the dashboard during a job held at a gate,
/// and after the job its HTTP API returns the elements-done counter equal to the job's size;
/// `promtool check metrics` passes on the exposition; hostile clients do not stop it.
@Suite("Metrics scraped by a real Prometheus", .serialized,
       .enabled(if: (TmuxSession.isAvailable && Prometheus.isAvailable) || Prometheus.isRequired,
                "tmux or Debian's prometheus is not installed"))
struct MetricsTests {
    let binary = BinaryProcess.url.path

    @Test("a real Prometheus scrapes --metrics during a job; after it, its API holds the elements done equal to the job's size, and promtool passes the exposition")
    func prometheusScrapes() throws {
        let size: Int64 = 40_000_000
        let gate = RemoteWorkerProcessTests.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let tmux = try TmuxSession(width: 120, height: 40)
        try tmux.type("CLUSTER_TOP_TEST_KERNEL=gate:\(gate) '\(binary)' --range 1...\(size) --chunk-size 1_000_000 --workers 2 --metrics 0")
        // Port 0: the event log says which port it got.
        let screen = try tmux.waitUntil { $0.contains("Prometheus metrics at http://127.0.0.1:") }
        let said = try #require(screen.firstMatch(of: /metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/))
        let port = try #require(Int(said.1))
        let prometheus = try Prometheus(scraping: "127.0.0.1:\(port)")
        defer { prometheus.stop() }

        // Held at the gate, the job runs while Prometheus scrapes it, however fast the kernel.
        #expect(eventually(within: 300) { (try? prometheus.value("cluster_top_workers{state=\"running\"}")) == 2 },
                "Prometheus never saw two running workers:\n\(prometheus.log)")
        #expect(try prometheus.value("cluster_top_job_size_elements") == Double(size))
        #expect(try prometheus.value("cluster_top_jobs_finished_total") == 0)

        // promtool lints the exposition as served, per-worker series and histogram included.
        let exposition = try BinaryProcess.runShell("curl -sf http://127.0.0.1:\(port)/metrics")
        #expect(exposition.status == 0)
        #expect(exposition.stdout.contains("cluster_top_worker_elements_done_total{worker=\"1\",host=\"local\"}"), "\(exposition.stdout)")
        #expect(exposition.stdout.contains("# TYPE cluster_top_round_trip_seconds histogram"))
        let lint = try BinaryProcess.runShell("curl -sf http://127.0.0.1:\(port)/metrics | promtool check metrics 2>&1")
        #expect(lint.status == 0, "promtool: \(lint.stdout)\(lint.stderr)")

        try FileManager.default.removeItem(atPath: gate)
        try tmux.waitFor("VERIFIED", timeout: 300)
        // After the job: the counter Prometheus stored is the job's size, exactly.
        #expect(eventually(within: 300) { (try? prometheus.value("cluster_top_elements_done_total")) == Double(size) },
                "elements done in Prometheus: \(String(describing: try? prometheus.value("cluster_top_elements_done_total")))")
        #expect(try prometheus.value("cluster_top_jobs_verified_total") == 1)
        #expect(try prometheus.value("sum(cluster_top_worker_elements_done_total)") == Double(size))
        try tmux.press("q")
        #expect(try tmux.expectTerminalRestored() == 0)
    }

    @Test("serve: while 100 connections are held open, after garbage, an oversized header and a POST flood, the next scrape is answered; a worker process that joins shows as a session with its round trips")
    func hostileClients() throws {
        let run = try BackgroundBinary(["serve", "--headless", "--listen", "127.0.0.1:0", "--token", "metrics-hostile-test",
                                        "--workers", "0", "--metrics", "0", "--range", "1...1_000_000_000"])
        defer { run.signal(SIGKILL) }
        let said = try #require(run.waitFor("/metrics", timeout: 120), "\(run.output)")
        let match = try #require(said.firstMatch(of: /http:\/\/127\.0\.0\.1:(\d+)\/metrics/))
        let port = try #require(Int(match.1))
        // Connections that say nothing, far past the limit of open ones.
        var held: [Int32] = []
        for _ in 0..<100 { if let socket = SilentConnectionTests.loopbackConnection(port: port) { held.append(socket) } }
        // Garbage, a header far past any limit, then a flood of POSTs with bodies.
        let oversized = "GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: 1 << 20) + "\r\n\r\n"
        let flood = String(repeating: "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n" + String(repeating: "b", count: 65536), count: 50)
        for attack in ["NOT HTTP AT ALL\r\n\r\n", oversized, flood] {
            guard let socket = SilentConnectionTests.loopbackConnection(port: port) else { continue }
            attack.utf8CString.withUnsafeBufferPointer { bytes in
                var sent = 0
                while sent < bytes.count - 1 {
                    let n = send(socket, bytes.baseAddress! + sent, bytes.count - 1 - sent, Int32(MSG_NOSIGNAL))
                    if n <= 0 { break }
                    sent += n
                }
            }
            close(socket)
        }
        // While the 100 are still held: past the limit the oldest go, so the next scrape gets in.
        defer { for socket in held { close(socket) } }
        let scrape = try BinaryProcess.runShell("curl -sf -m 30 http://127.0.0.1:\(port)/metrics")
        #expect(scrape.status == 0 && scrape.stdout.contains("cluster_top_elements_done_total"), "\(scrape.stdout)\(scrape.stderr)\n\(run.output)")
        #expect(run.process.isRunning, "\(run.output)")

        // A worker process joins (held at a gate, so it stays mid-chunk): one session, its two
        // threads labelled by its host, and its round trips in the histogram.
        let joined = try #require(run.output.firstMatch(of: /--join (127\.0\.0\.1:\d+\/[0-9a-z-]+)/))
        let gate = RemoteWorkerProcessTests.gateFile()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let worker = try BackgroundBinary(["worker", "--join", String(joined.1), "--threads", "2", "--name", "lab-7"],
                                          environment: ["CLUSTER_TOP_TEST_KERNEL": "gate:\(gate)"])
        defer { worker.signal(SIGKILL) }
        var metrics = ""
        let seen = eventually(within: 300) {
            metrics = (try? BinaryProcess.runShell("curl -sf -m 30 http://127.0.0.1:\(port)/metrics").stdout) ?? ""
            let trips = metrics.firstMatch(of: /\ncluster_top_round_trip_seconds_count (\d+)/).flatMap { Int($0.1) } ?? 0
            return metrics.contains("\ncluster_top_sessions 1.0") && trips >= 1
        }
        #expect(seen, "\(metrics)\n\(worker.output)")
        #expect(metrics.matches(of: /cluster_top_worker_chunks_done_total\{worker="\d+",host="lab-7"\}/).count == 2, "\(metrics)")
    }
}

/// A real Prometheus server on loopback, with its own configuration and storage, scraping one
/// target every second; queried through its HTTP API.
final class Prometheus {
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") }
    static var isRequired: Bool { ProcessInfo.processInfo.environment["CLUSTER_TOP_REQUIRE_PROMETHEUS"] == "1" }

    let process = Process()
    let port: Int
    private let directory: String
    private let logURL: URL

    init(scraping target: String) throws {
        directory = JournalCrashTests.temporary("prometheus")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: cluster-top
                static_configs:
                  - targets: ['\(target)']
            """
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        // A loopback port nothing listens on now: bound by the kernel's choice, then let go.
        let (socket, free) = try RemoteWorkerProcessTests.loopbackSocket(listening: false)
        close(socket)
        port = free
        logURL = URL(fileURLWithPath: directory + "/prometheus.log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        process.arguments = ["--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                             "--web.listen-address=127.0.0.1:\(port)"]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try log.close()
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// The value of `query` now (its first series), or nil if it has none yet.
    func value(_ query: String) throws -> Double? {
        let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
        let answer = try BinaryProcess.runShell("curl -sf -m 10 'http://127.0.0.1:\(port)/api/v1/query?query=\(encoded)'")
        guard answer.status == 0,
              let json = try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any],
              let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
              let first = result.first, let pair = first["value"] as? [Any], let text = pair.last as? String else { return nil }
        return Double(text)
    }
}
