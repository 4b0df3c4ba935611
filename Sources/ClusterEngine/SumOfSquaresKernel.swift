#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BigInt

/// The work the cluster demonstrates: Σ x² over an integer range, computed by really visiting
/// every element. The closed form lives in `ClosedForm` and is only ever used to check results.
public enum SumOfSquaresKernel {
    /// Σ x² for x in `lo...hi` (0 when `lo > hi`).
    ///
    /// Exact as long as the result fits in `UInt128`, which `JobSpec` guarantees for every range it
    /// accepts. The loop allocates nothing and touches no shared state, so it is safe to call from
    /// any number of threads at once.
    @inlinable
    public static func sum(_ lo: Int64, _ hi: Int64) -> UInt128 {
        guard lo <= hi else { return 0 }
        if lo >= 0 {
            return sumOfSquaredMagnitudes(UInt64(lo), UInt64(hi))
        }
        if hi < 0 {
            // x² = |x|², so a negative range is its mirror image.
            return sumOfSquaredMagnitudes(hi.magnitude, lo.magnitude)
        }
        // Crosses zero: the negative half is 1...|lo|, the rest is 0...hi.
        return sumOfSquaredMagnitudes(1, lo.magnitude) &+ sumOfSquaredMagnitudes(0, UInt64(hi))
    }

    /// Elements summed between two flushes of the 64-bit lane sums into the 128-bit total:
    /// each term added is below 2³², so 2³⁰ of them stay below 2⁶² and can never wrap.
    @usableFromInline static let flushInterval: UInt64 = 1 << 30

    /// Σ m² for m in `first...last`.
    ///
    /// Why it is shaped like this: write m = h·2³² + l. Inside one 2³²-aligned window h is
    /// constant, and m² = l² + 2·h·l·2³² + h²·2⁶⁴. The loop visits every element and squares its
    /// low word l; l² is split into 32-bit halves so that plain 64-bit additions never carry.
    /// With no carries to propagate, the compiler vectorizes the loop, which a direct 128-bit
    /// accumulation cannot do. Accepted ranges keep h below 2¹², so every term below fits.
    @inlinable
    static func sumOfSquaredMagnitudes(_ first: UInt64, _ last: UInt64,
                                       flushInterval: UInt64 = flushInterval) -> UInt128 {
        guard first <= last else { return 0 }
        var total: UInt128 = 0
        var m = first
        while true {
            let high = m >> 32
            let windowLast = high == last >> 32 ? last : (high << 32) | 0xffff_ffff
            let blockLast = windowLast - m < flushInterval ? windowLast : m + flushInterval - 1
            let lowFirst = m & 0xffff_ffff, lowLast = blockLast & 0xffff_ffff
            total &+= high == 0 ? squaresOfLowWords(lowFirst, lowLast)
                : windowBlock(high: high, lowFirst: lowFirst, lowLast: lowLast)
            if blockLast == last { return total }
            m = blockLast + 1
        }
    }

    /// Σ l² for l in `first...last`, all below 2³² and at most `flushInterval` of them.
    /// `windowBlock` without its Σl accumulator: below 2³² (h = 0) that extra sum cost about 10%.
    @inlinable
    static func squaresOfLowWords(_ first: UInt64, _ last: UInt64) -> UInt128 {
        var lowHalves: UInt64 = 0, highHalves: UInt64 = 0
        var l = first
        while true {
            let square = l &* l
            lowHalves &+= square & 0xffff_ffff
            highHalves &+= square >> 32
            if l == last { break }
            l &+= 1
        }
        return UInt128(lowHalves) &+ (UInt128(highHalves) << 32)
    }

    /// Σ (h·2³² + l)² for l in `lowFirst...lowLast`, with h > 0 fixed.
    @inlinable
    static func windowBlock(high: UInt64, lowFirst: UInt64, lowLast: UInt64) -> UInt128 {
        var lowHalves: UInt64 = 0, highHalves: UInt64 = 0, lowWords: UInt64 = 0
        var l = lowFirst
        while true {
            let square = l &* l
            lowHalves &+= square & 0xffff_ffff
            highHalves &+= square >> 32
            lowWords &+= l
            if l == lowLast { break }
            l &+= 1
        }
        let h = UInt128(high)
        let count = UInt128(lowLast - lowFirst + 1)
        return UInt128(lowHalves) &+ (UInt128(highHalves) << 32)
            &+ ((h &* UInt128(lowWords)) << 33)  // 2·h·Σl·2³²
            &+ ((count &* h &* h) << 64)  // Σ h²·2⁶⁴
    }
}

extension SumOfSquaresKernel {
    /// The kernel every worker runs unless told otherwise: `sum`.
    ///
    /// Two test-only switches, read once from `CLUSTER_TOP_TEST_KERNEL`; never use them to show
    /// or benchmark anything:
    /// - `closed-form`: each sub-block is summed from the closed form in constant time, so the
    ///   whole test suite can run with work that takes almost no time, proving that no test
    ///   relies on a job lasting long enough;
    /// - `gate:PATH`: every sub-block waits while the file PATH exists, so a test can hold the
    ///   workers of another process (`cluster-top worker`) mid-chunk, then let them go; a held
    ///   sub-block creates PATH.held, so the test knows it is there.
    public static let standard: @Sendable (Int64, Int64) -> UInt128 = {
        let setting = getenv("CLUSTER_TOP_TEST_KERNEL").map { String(cString: $0) } ?? ""
        if setting == "closed-form" {
            return { lo, hi in UInt128(truncatingIfNeeded: ClosedForm.sumOfSquares(lo, hi)) }
        }
        if setting.hasPrefix("gate:") {
            let path = String(setting.dropFirst("gate:".count))
            return { lo, hi in
                if access(path, F_OK) == 0 {
                    let held = open(path + ".held", O_CREAT | O_WRONLY, 0o644)
                    if held >= 0 { close(held) }
                    while access(path, F_OK) == 0 { usleep(1000) }
                }
                return sum(lo, hi)
            }
        }
        return { sum($0, $1) }
    }()
}
