#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BigInt
import CSumKernels
import Foundation
import Synchronization

/// The work the cluster demonstrates: Σ x² over an integer range, computed by really visiting
/// every element. The closed form lives in `ClosedForm` and is only ever used to check results.
public enum SumOfSquaresKernel {
    /// Σ x² for x in `lo...hi` (0 when `lo > hi`), with `variant` (by default the active one).
    ///
    /// Exact as long as the result fits in `UInt128`, which `JobSpec` guarantees for every range it
    /// accepts. The loop allocates nothing and touches no shared state, so it is safe to call from
    /// any number of threads at once.
    public static func sum(_ lo: Int64, _ hi: Int64, variant: KernelVariant = .active) -> UInt128 {
        guard lo <= hi else { return 0 }
        if lo >= 0 {
            return sumOfSquaredMagnitudes(UInt64(lo), UInt64(hi), variant: variant)
        }
        if hi < 0 {
            // x² = |x|², so a negative range is its mirror image.
            return sumOfSquaredMagnitudes(hi.magnitude, lo.magnitude, variant: variant)
        }
        // Crosses zero: the negative half is 1...|lo|, the rest is 0...hi.
        return sumOfSquaredMagnitudes(1, lo.magnitude, variant: variant)
            &+ sumOfSquaredMagnitudes(0, UInt64(hi), variant: variant)
    }

    /// Elements summed between two flushes of the 64-bit lane sums into the 128-bit total:
    /// each term added is below 2³², so 2³⁰ of them stay below 2⁶² and can never wrap.
    static let flushInterval: UInt64 = 1 << 30

    /// Σ m² for m in `first...last`: the loop in `CSumKernels` (sum_kernels.c says how and why).
    static func sumOfSquaredMagnitudes(_ first: UInt64, _ last: UInt64, variant: KernelVariant,
                                       flushInterval: UInt64 = flushInterval) -> UInt128 {
        guard first <= last else { return 0 }
        var low: UInt64 = 0, high: UInt64 = 0
        ct_sum_squared_magnitudes(variant.cVariant, first, last, flushInterval, &low, &high)
        return UInt128(high) << 64 | UInt128(low)
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
    ///   sub-block creates PATH.held, so the test knows it is there;
    /// - `limit:PATH`: a sub-block waits until the number in the file PATH is at least its last
    ///   element, so a test lets a job advance to a point of its choosing and no further, in
    ///   any process, however fast the machine (a coordinator killed and restarted many times);
    ///   each sub-block summed is then appended to PATH.summed as "pid lo hi", one write per line,
    ///   so the test sees the work every process really did.
    public static let standard: @Sendable (Int64, Int64) -> UInt128 = {
        let setting = getenv("CLUSTER_TOP_TEST_KERNEL").map { String(cString: $0) } ?? ""
        if setting.hasPrefix("limit:") {
            let path = String(setting.dropFirst("limit:".count))
            let known = Atomic<Int64>(Int64.min)
            let summedLog = open(path + ".summed", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            let pid = getpid()
            return { lo, hi in
                while known.load(ordering: .relaxed) < hi {
                    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    let limit = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? Int64.min
                    if limit > known.load(ordering: .relaxed) { known.store(limit, ordering: .relaxed) }
                    if limit < hi { usleep(2000) }
                }
                let total = sum(lo, hi)
                // O_APPEND: lines from every thread and process stay whole.
                var line = "\(pid) \(lo) \(hi)\n"
                line.withUTF8 { _ = write(summedLog, $0.baseAddress, $0.count) }
                return total
            }
        }
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
