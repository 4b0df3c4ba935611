import ClusterTestSupport
import Testing
@testable import ClusterEngine
@testable import ClusterModel

/// Stragglers: who lags behind the running workers' median, with a gap so no one flaps.
@Suite("Straggler watch")
struct StragglerWatchTests {
    func workers(_ rates: [Double], judged: Set<Int> = []) -> [(id: WorkerID, judged: Bool, rate: Double)] {
        rates.enumerated().map { (WorkerID($0.offset + 1), judged.isEmpty || judged.contains($0.offset + 1), $0.element) }
    }

    @Test("under half the median starts to lag, once; back above 70% of it stops")
    func hysteresis() {
        var watch = StragglerWatch()
        var (started, median) = watch.update(workers([2e9, 2e9, 0.9e9]))
        #expect(started == [WorkerID(3)] && median == 2e9)
        // Still slow: lagging, not started again.
        (started, _) = watch.update(workers([2e9, 2e9, 1.2e9]))
        #expect(started.isEmpty && watch.lagging == [WorkerID(3)])
        // Between 50% and 70%: still lagging (no flapping at the line).
        (started, _) = watch.update(workers([2e9, 2e9, 1.3e9]))
        #expect(watch.lagging == [WorkerID(3)])
        // Above 70%: caught up.
        (started, _) = watch.update(workers([2e9, 2e9, 1.5e9]))
        #expect(watch.lagging.isEmpty && started.isEmpty)
    }

    @Test("a machine lags when most of its threads do, named once when it starts; one machine alone never lags")
    func hosts() {
        var watch = StragglerWatch()
        // This machine's two threads, laptop-1's two, and laptop-2's two of which one is slow.
        let hosts: [String?] = [nil, nil, "laptop-1", "laptop-1", "laptop-2", "laptop-2"]
        func placed(_ judged: Set<Int> = []) -> [(id: WorkerID, host: String?, judged: Bool)] {
            hosts.enumerated().map { (WorkerID($0.offset + 1), $0.element, judged.isEmpty || judged.contains($0.offset + 1)) }
        }
        _ = watch.update(workers([2e9, 2e9, 0.5e9, 0.6e9, 2e9, 0.4e9]))
        var started = watch.updateHosts(placed())
        // laptop-2 has one slow thread of two: not most of them.
        #expect(started.map(\.host) == ["laptop-1"])
        #expect(started.first?.lagging == 2 && started.first?.threads == 2)
        // Still lagging: not named again.
        _ = watch.update(workers([2e9, 2e9, 0.5e9, 0.6e9, 2e9, 0.4e9]))
        #expect(watch.updateHosts(placed()).isEmpty && watch.laggingHosts == ["laptop-1"])
        // laptop-1's threads caught up: it no longer lags.
        _ = watch.update(workers([2e9, 2e9, 2e9, 2e9, 2e9, 0.4e9]))
        started = watch.updateHosts(placed())
        #expect(started.isEmpty && watch.laggingHosts.isEmpty)
        // Only laptop-1's threads judged: one machine, no one to lag behind.
        _ = watch.update(workers([2e9, 2e9, 0.5e9, 0.6e9, 2e9, 2e9]))
        #expect(watch.updateHosts(placed([3, 4])).isEmpty && watch.laggingHosts.isEmpty)
        #expect(!StragglerWatch.hostLags(threads: 4, lagging: 2) && StragglerWatch.hostLags(threads: 4, lagging: 3)
                && StragglerWatch.hostLags(threads: 1, lagging: 1))
    }

    @Test("only workers with a whole rate window count, and it takes two to have a median")
    func whoIsJudged() {
        var watch = StragglerWatch()
        // Worker 3 has just started: its low rate says nothing yet, and it is not in the median.
        var (started, median) = watch.update(workers([2e9, 1.8e9, 0.1e9], judged: [1, 2]))
        #expect(started.isEmpty && median == 1.9e9)
        (started, _) = watch.update(workers([0.1e9], judged: [1]))
        #expect(started.isEmpty && watch.lagging.isEmpty)
    }

    /// Whether `events` hold a line that names `worker` among those lagging now.
    static func namesLagging(_ worker: WorkerID, in events: [ClusterEvent]) -> Bool {
        events.contains { if case .laggardsChanged(let workers, _, _, _) = $0.kind { workers.contains(worker) } else { false } }
    }

    @Test("a worker throttled to 5% among full-speed ones is named in the log as lagging, and marked in the snapshot")
    func stragglerNamed() throws {
        var configuration = ClusterConfiguration()
        configuration.cores = 3  // as many as workers: none takes turns for a core, as far as the watch knows
        let cluster = Cluster(configuration: configuration)
        defer { cluster.shutdown() }
        for _ in 0..<3 { cluster.addWorker() }
        #expect(cluster.setSpeed(WorkerID(3), to: 0.05))
        // A job no test outlives, so all three are running at every look.
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000_000_000, chunkSize: 1 << 20))
        let named = eventually(within: 60) {
            cluster.snapshot().workers.first { $0.id == WorkerID(3) }?.isLagging == true
                && Self.namesLagging(WorkerID(3), in: cluster.events(after: 0))
        }
        #expect(named, "\(cluster.events(after: 0).map(\.kind))")
    }

    @Test("who lags is said only when it changes, at most once per 5 s: 300 workers whose rates flap around the line for 20 s of snapshots make at most 5 lines, each naming a new set")
    func flappingIsNotAFlood() {
        var watch = StragglerWatch()
        var generator = SplitMix64(state: 25)
        var lines: [(workers: [WorkerID], hosts: [String?])] = []
        // A snapshot every 50 ms of a made-up clock; each worker's rate anywhere in 0.2...1.8 G/s.
        for step in 0..<400 {
            let rates = (0..<300).map { _ in 0.2e9 + 1.6e9 * Double(generator.next() % 1_000) / 1_000 }
            _ = watch.update(workers(rates))
            _ = watch.updateHosts([])
            if let line = watch.report(now: UInt64(step) * 50_000_000, hostOf: [:]) { lines.append(line) }
        }
        #expect(!lines.isEmpty && lines.count <= 5, "\(lines.count) lines")
        for (a, b) in zip(lines, lines.dropFirst()) { #expect(a.workers != b.workers) }
        // The last line said is what lags: once the rates settle, one line says none does.
        for step in 400..<600 {
            _ = watch.update(workers(Array(repeating: 1e9, count: 300)))
            if let line = watch.report(now: UInt64(step) * 50_000_000, hostOf: [:]) { lines.append(line) }
        }
        #expect(lines.last.map { $0.workers.isEmpty && $0.hosts.isEmpty } == true)
        let message = ClusterEvent(sequence: 1, seconds: 0, kind: .laggardsChanged(workers: [], hosts: [], median: 1e9, running: 300)).message
        #expect(message == "no worker lags any more")
    }

    @Test("a lagging machine is named as a machine, its threads not again one by one; rates never read 0M/s")
    func lines() {
        var watch = StragglerWatch()
        let hosts: [String?] = [nil, nil, "leslie", "leslie", "bob", "bob"]
        _ = watch.update(workers([2e9, 2e9, 0.5e9, 0.6e9, 2e9, 0.4e9]))
        _ = watch.updateHosts(hosts.enumerated().map { (WorkerID($0.offset + 1), $0.element, true) })
        let hostOf = Dictionary(uniqueKeysWithValues: hosts.enumerated().map { (WorkerID($0.offset + 1), $0.element) })
        let line = watch.report(now: 0, hostOf: hostOf)
        #expect(line?.hosts == ["leslie"] && line?.workers == [WorkerID(6)])
        let event = ClusterEvent(sequence: 1, seconds: 0, kind: .laggardsChanged(workers: [WorkerID(6)], hosts: ["leslie"], median: 2e9, running: 6))
        #expect(event.message == "lagging now: host leslie and worker 6, under half the median 2.00G/s of 6 running workers")
        let many = ClusterEvent(sequence: 1, seconds: 0, kind: .laggardsChanged(workers: (1...40).map { WorkerID($0) }, hosts: [],
                                                                                median: 4.2e5, running: 1_000))
        #expect(many.message == "lagging now: workers 1, 2, 3 and 37 more, under half the median 420k/s of 1000 running workers")
        #expect(ClusterEvent.rate(0) == "0/s" && ClusterEvent.rate(3.4e6) == "3.4M/s" && ClusterEvent.rate(1.46e8) == "146M/s")
    }

    @Test("while this machine's workers outnumber its cores none of them is called a straggler, and the log says why once")
    func outnumbered() throws {
        var configuration = ClusterConfiguration()
        configuration.cores = 1
        configuration.rateWindow = 0.1
        let cluster = Cluster(configuration: configuration)
        defer { cluster.shutdown() }
        for _ in 0..<3 { cluster.addWorker() }
        #expect(cluster.setSpeed(WorkerID(3), to: 0.05))
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000_000_000, chunkSize: 1 << 20))
        func saidOutnumbered(_ events: [ClusterEvent]) -> [ClusterEvent] {
            events.filter { if case .workersOutnumberCores(_, 1) = $0.kind { true } else { false } }
        }
        // Until worker 3 has summed for several windows at its 5%, under half the others' rate,
        // and the sampler has said why nobody is judged.
        #expect(eventually(within: 60) {
            let workers = cluster.snapshot().workers
            return workers.allSatisfy { $0.state == .running && $0.elementsProcessed > 0 }
                && workers[2].throughput > 0 && workers[2].throughput * 4 < min(workers[0].throughput, workers[1].throughput)
                && !saidOutnumbered(cluster.events(after: 0)).isEmpty
        })
        // Twenty more judgements, beside the sampler's own.
        for _ in 0..<20 { cluster.sample() }
        let events = cluster.events(after: 0)
        #expect(!Self.namesLagging(WorkerID(3), in: events) && !cluster.snapshot().workers[2].isLagging)
        #expect(saidOutnumbered(events).count == 1, "\(events.map(\.kind))")
    }

    @Test("a worker just resumed is not called a straggler on a rate window that holds its pause")
    func resumedIsNotLagging() throws {
        var configuration = ClusterConfiguration()
        configuration.rateWindow = 0.1
        let cluster = Cluster(configuration: configuration)
        defer { cluster.shutdown() }
        for _ in 0..<2 { cluster.addWorker() }
        // A job no test outlives, so both are running at every look but while paused.
        _ = cluster.submit(try JobSpec(lo: 1, hi: 10_000_000_000_000, chunkSize: 1 << 20))
        #expect(eventually { cluster.snapshot().workers.allSatisfy { $0.elementsProcessed > 0 } })
        // Paused mid-chunk, so that it runs again the moment it is resumed (a pause that lands
        // between two chunks leaves it idle after the resume: try again).
        #expect(eventually {
            guard cluster.pause(WorkerID(2)), eventually({ cluster.snapshot().workers[1].state == .paused }) else { return false }
            if cluster.snapshot().workers[1].assignment != nil { return true }
            cluster.resume(WorkerID(2))
            return false
        })
        // Its whole rate window is the pause now.
        #expect(eventually { cluster.snapshot().workers[1].throughput == 0 })
        let before = cluster.snapshot().lastEventSequence
        #expect(cluster.resume(WorkerID(2)))
        let resumed = cluster.snapshot().workers[1]
        #expect(resumed.state == .running)
        #expect(!resumed.isLagging, "judged on a window that was all pause")
        #expect(!Self.namesLagging(WorkerID(2), in: cluster.events(after: before)))
    }
}
