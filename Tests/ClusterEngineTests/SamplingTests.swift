import ClusterTestSupport
import Synchronization
import Testing
@testable import ClusterEngine

/// Rates, the throughput history and the stragglers come from the engine's sampler; a snapshot
/// only reads them, so a recording or a second viewer could take snapshots without changing
/// what the cluster says.
@Suite("The sampler, and snapshots that change nothing")
struct SamplingTests {
    @Test("a hundred snapshots log nothing and record no history; one sample says the workers outnumber the cores")
    func snapshotsChangeNothing() throws {
        let gate = KernelGate()
        var configuration = ClusterConfiguration()
        configuration.kernel = gate.kernel
        configuration.cpuTokens = .unbounded()
        configuration.localClaimAheadSeconds = 0
        configuration.samplingInterval = .infinity  // only the samples this test takes
        configuration.cores = 1
        configuration.historyInterval = 0
        let cluster = Cluster(configuration: configuration)
        defer {
            gate.open()
            cluster.shutdown()
        }
        for _ in 0..<3 { cluster.addWorker() }
        _ = cluster.submit(try JobSpec(lo: 1, hi: 1 << 30, chunkSize: 1 << 20))
        #expect(gate.waitUntilHolding(3))
        let events = cluster.events(after: 0).count
        let first = cluster.snapshot()
        for _ in 0..<100 { _ = cluster.snapshot() }
        let last = cluster.snapshot()
        #expect(cluster.events(after: 0).count == events, "a snapshot logged")
        #expect(first.throughputHistory.isEmpty && last.throughputHistory.isEmpty, "a snapshot recorded history")
        #expect(first.workers.map(\.throughput) == last.workers.map(\.throughput))
        cluster.sample()
        let said = cluster.events(after: 0).filter { if case .workersOutnumberCores(3, 1) = $0.kind { true } else { false } }
        #expect(said.count == 1)
        #expect(cluster.snapshot().throughputHistory.count == 1)
    }
}
