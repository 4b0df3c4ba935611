import ClusterEngine
import Foundation
import Testing
import ClusterTestSupport
@testable import ClusterReporting

@Suite("Headless reports")
struct HeadlessReportTests {
    /// Runs a job headless and returns everything it printed.
    func run(_ spec: JobSpec, format: HeadlessRunner.OutputFormat, workers: Int = 3) -> (HeadlessRunner.Outcome, [String]) {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        for _ in 0..<workers { cluster.addWorker() }
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        let runner = HeadlessRunner(cluster: cluster, format: format, interval: 0.05, write: { lines.all.append($0) })
        return (runner.run(spec), lines.all)
    }

    @Test("the JSON result object parses and holds every promised field")
    func jsonResult() throws {
        let (outcome, lines) = run(try JobSpec(lo: -1000, hi: 250_000, chunkSize: 10_000), format: .json)
        #expect(outcome == .verified)
        let last = try #require(lines.last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(object["type"] as? String == "result")
        let expected = String((-1000...250_000).reduce(UInt128(0)) { $0 + UInt128($1 * $1) })
        #expect(object["total"] as? String == expected)
        #expect(object["closedForm"] as? String == expected)
        #expect(object["verified"] as? Bool == true)
        #expect((object["elapsedSeconds"] as? Double ?? -1) >= 0)
        #expect((object["throughput"] as? Double ?? -1) > 0)
        let workers = try #require(object["workers"] as? [[String: Any]])
        #expect(workers.count == 3)
        let chunks = workers.compactMap { $0["chunksDone"] as? Int }.reduce(0, +)
        #expect(chunks == 26)
        let shares = workers.compactMap { $0["share"] as? Double }.reduce(0, +)
        #expect(abs(shares - 1) < 1e-9)
        for worker in workers {
            for key in ["id", "state", "chunksDone", "elementsProcessed", "elementsAccepted", "share", "throughput"] {
                #expect(worker[key] != nil, "worker field \(key) missing")
            }
        }
        // Every line is JSON with a type.
        for line in lines {
            let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(parsed?["type"] != nil)
        }
    }

    @Test("JSON progress lines carry the running state")
    func jsonProgress() throws {
        // The first chunk passes; the next waits at the gate: the job holds at 1 of 100 chunks.
        let gate = KernelGate { _, hi in hi <= 1_000_000 }
        let cluster = gate.cluster(workers: 1)
        defer {
            gate.open()
            cluster.shutdown()
        }
        _ = cluster.submit(try JobSpec(lo: 1, hi: 100_000_000, chunkSize: 1_000_000))
        #expect(gate.waitUntilHolding(1))
        let progress = try #require(HeadlessReport.progress(cluster.snapshot()))
        let line = HeadlessReport.jsonLine(progress)
        let decoded = try JSONDecoder().decode(HeadlessReport.Progress.self, from: Data(line.utf8))
        #expect(decoded.type == "progress")
        #expect(decoded.elementsTotal == 100_000_000)
        #expect(decoded.chunksTotal == 100)
        #expect(decoded.workers.count == 1)
        #expect(decoded.workers[0].state == .running)
        #expect(decoded.progress > 0 && decoded.progress < 1)
    }

    @Test("text mode prints the total, the closed form and the verdict")
    func textResult() throws {
        let (outcome, lines) = run(try JobSpec(lo: 1, hi: 100, chunkSize: 10), format: .text, workers: 4)
        #expect(outcome == .verified)
        #expect(lines.contains("sum of squares over 1...100 = 338350"))
        #expect(lines.contains("closed form F(100) - F(0) = 338350  [verified]"))
    }

    @Test("a stop request ends the run as interrupted, not verified")
    func interrupted() throws {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        cluster.addWorker(speed: 0.01)
        var lines: [String] = []
        let runner = HeadlessRunner(cluster: cluster, format: .text, interval: 1, write: { lines.append($0) },
                                    shouldStop: { true })
        #expect(runner.run(try JobSpec(lo: 1, hi: 1 << 40)) == .interrupted)
        #expect(lines.last?.hasPrefix("interrupted at") == true)
    }
}

@Suite("Events as JSON")
struct EventJSONTests {
    func fields(_ kind: ClusterEventKind) throws -> [String: Any] {
        let line = HeadlessReport.jsonLine(EventJSON.object(ClusterEvent(sequence: 7, seconds: 1.5, kind: kind)))
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("each event carries its kind and its fields by name beside the sentence; unknown values are null")
    func kindsAndFields() throws {
        let killed = try fields(.workerKilled(WorkerID(3), chunk: 17))
        #expect(killed["type"] as? String == "event" && killed["version"] as? Int == 1 && killed["sequence"] as? Int == 7)
        #expect(killed["kind"] as? String == "workerKilled" && killed["worker"] as? Int == 3 && killed["chunk"] as? Int == 17)
        #expect(killed["outcome"] as? String == "killed" && (killed["message"] as? String)?.isEmpty == false)
        let idle = try fields(.workerKilled(WorkerID(3), chunk: nil))
        #expect(idle.keys.contains("chunk") && idle["chunk"] is NSNull && idle["outcome"] == nil)
        let stopped = try fields(.journalStopped(reason: "disk full"))
        #expect(stopped["kind"] as? String == "journalStopped" && stopped["reason"] as? String == "disk full")
        let added = try fields(.workerAdded(WorkerID(9)))
        #expect(added["worker"] as? Int == 9)
        let split = try fields(.chunkSplit(chunk: 4, from: WorkerID(2), elements: 501...1_000))
        #expect(split["elements"] as? [Int] == [501, 1_000] && split["from"] as? Int == 2 && split["outcome"] as? String == "split")
        let finished = try fields(.jobFinished(JobID(2), verified: true, total: UInt128(1) << 100, seconds: 3.25))
        #expect(finished["job"] as? Int == 2 && finished["total"] as? String == String(UInt128(1) << 100))
        #expect(finished["seconds"] as? Double == 1.5 && finished["duration"] as? Double == 3.25, "the event's time is not its duration")
        let lagging = try fields(.laggardsChanged(workers: [WorkerID(4)], hosts: ["bob", nil], median: 2e9, running: 6))
        #expect(lagging["workers"] as? [Int] == [4] && (lagging["hosts"] as? [Any])?.count == 2)
    }
}
