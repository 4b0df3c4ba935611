import Synchronization

/// How fast a kernel sums on one core of this machine, measured in a few milliseconds, so that
/// work sized in seconds (the demo's lessons) lasts as long on a laptop, a server, a debug build
/// or a faster kernel.
public enum KernelCalibration {
    /// Elements per second of `kernel` on this thread: whole sub-blocks of `subBlock` elements,
    /// summed near the top of the range jobs use, for about `budget` seconds (at least one
    /// sub-block).
    public static func elementsPerSecond(of kernel: ChunkRunner.Kernel, subBlock: Int64 = 1 << 16,
                                         budget: Double = 0.02) -> Double {
        // Above 2³², where every sub-block takes the kernel's general path.
        var lo: Int64 = 1 << 36
        var checksum: UInt128 = kernel(lo, lo + subBlock - 1)  // warm-up
        // The real clock, always: this measures the machine.
        let start = EngineClock.live.now()
        let deadline = start + UInt64(budget * 1e9)
        var elements: Int64 = 0
        var now = start
        repeat {
            lo += subBlock
            checksum &+= kernel(lo, lo + subBlock - 1)
            elements += subBlock
            now = EngineClock.live.now()
        } while now < deadline
        sink.store(UInt64(truncatingIfNeeded: checksum), ordering: .relaxed)  // the sums are used
        return Double(elements) / (Double(max(1, now - start)) / 1e9)
    }

    private static let sink = Atomic<UInt64>(0)
}

extension KernelPeaks {
    /// Measures every supported variant for `budgetPerVariant` seconds: 32 ms in all on an
    /// x86-64 machine with AVX-512, inside the 50 ms a start-up may spend on it with room for
    /// the rest of the start (40 ms of budget measured 47 ms of start-up). The variants
    /// take turns in `rounds` short runs and each keeps its best: a peak, and one that a cold
    /// start (the clock ramping up, the first page faults) or a moment of another process's work
    /// cannot drag down for the variant that happens to run first.
    public static func measure(budgetPerVariant: Double = 0.008, rounds: Int = 4) -> KernelPeaks {
        var best: [KernelVariant: Double] = [:]
        for _ in 0..<max(1, rounds) {
            for variant in KernelVariant.supported {
                let rate = KernelCalibration.elementsPerSecond(of: { SumOfSquaresKernel.sum($0, $1, variant: variant) },
                                                               budget: budgetPerVariant / Double(max(1, rounds)))
                best[variant] = max(best[variant] ?? 0, rate)
            }
        }
        return KernelPeaks(rates: best)
    }
}
