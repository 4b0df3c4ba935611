import ClusterEngine
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A kernel that holds calls while its gate is closed, so a test can act on a worker that is
/// certainly mid-chunk however fast or loaded the machine is (a throttle or a big range is a race).
///
/// `passes` lets some sub-blocks through even while closed (say, those of the first chunk), so a
/// test can also hold a job at a known point: one chunk done, the others held.
public final class KernelGate: Sendable {
    private let isOpen = Atomic<Bool>(false)
    /// Entered once at creation and left by `open()`: every held thread blocks on it and all go
    /// at once. Blocked, not polling: dozens of held threads must not take CPU from the rest.
    private let opened = DispatchGroup()
    private let entered = Atomic<Int>(0)
    private let waiting = Atomic<Int>(0)
    private let passes: @Sendable (Int64, Int64) -> Bool

    public init(passing passes: @escaping @Sendable (Int64, Int64) -> Bool = { _, _ in false }) {
        self.passes = passes
        opened.enter()
    }

    public var kernel: ChunkRunner.Kernel {
        { [self] lo, hi in
            entered.add(1, ordering: .relaxed)
            if !passes(lo, hi), !isOpen.load(ordering: .acquiring) {
                waiting.add(1, ordering: .relaxed)
                opened.wait()
                waiting.subtract(1, ordering: .relaxed)
            }
            return SumOfSquaresKernel.standard(lo, hi)
        }
    }

    /// How many sub-blocks are held at the gate now.
    public var held: Int { waiting.load(ordering: .relaxed) }

    /// True once `count` workers are held at the gate.
    public func waitUntilHolding(_ count: Int = 1) -> Bool { eventually { held >= count } }

    /// True once some worker is inside the kernel.
    public func waitForEntry() -> Bool { eventually { entered.load(ordering: .relaxed) > 0 } }

    /// Lets every held call go, and every later one through. Once is enough; more do nothing.
    public func open() {
        if !isOpen.exchange(true, ordering: .acquiringAndReleasing) { opened.leave() }
    }

    /// A cluster whose workers run this gate's kernel. Open the gate before shutting it down.
    public func cluster(workers: Int = 0) -> Cluster {
        var configuration = ClusterConfiguration()
        configuration.kernel = kernel
        configuration.cpuTokens = .unbounded()  // a worker held here must not keep others from summing
        // Held at the gate, a worker that had claimed ahead would also hold back the results of
        // chunks it finished before: what the engine shows would depend on the machine's speed.
        configuration.localClaimAheadSeconds = 0
        let cluster = Cluster(configuration: configuration)
        for _ in 0..<workers { cluster.addWorker() }
        return cluster
    }
}
