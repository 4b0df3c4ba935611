import BigInt

/// The closed form F(hi) − F(lo − 1), with F(n) = n(n+1)(2n+1)/6, in arbitrary precision.
///
/// It is computed independently of the kernel and used only to validate a range before a job
/// starts and to verify the finished total. It never produces the total.
public enum ClosedForm {
    /// F(n) = Σ_{x=1}^{n} x² extended to all integers as a polynomial (so F(0) = F(−1) = 0).
    static func prefixSum(_ n: BigInt) -> BigInt {
        n * (n + 1) * (2 * n + 1) / 6
    }

    /// Σ x² for x in `lo...hi`, exactly.
    public static func sumOfSquares(_ lo: Int64, _ hi: Int64) -> BigInt {
        guard lo <= hi else { return 0 }
        return prefixSum(BigInt(hi)) - prefixSum(BigInt(lo) - 1)
    }
}

extension ClosedForm {
    /// Σ x² for x in `lo...hi`, exactly, in 128 bits and a few multiplications: the check of each
    /// result as it arrives. Any range inside an accepted job fits, since its whole total does
    /// (`JobSpec.largestAcceptedMagnitude`).
    public static func sumOfSquares128(_ lo: Int64, _ hi: Int64) -> UInt128 {
        guard lo <= hi else { return 0 }
        if lo > 0 { return prefixSum128(UInt64(hi)) - prefixSum128(UInt64(lo - 1)) }
        if hi < 0 { return prefixSum128(lo.magnitude) - prefixSum128(hi.magnitude - 1) }
        return prefixSum128(lo.magnitude) + prefixSum128(UInt64(hi))
    }

    /// F(n) = n(n+1)(2n+1)/6 for 0 ≤ n ≤ `JobSpec.largestAcceptedMagnitude`, dividing before it
    /// multiplies so no product overflows: one of n, n+1 is even, and one of the three factors
    /// is a multiple of 3.
    static func prefixSum128(_ n: UInt64) -> UInt128 {
        var (a, b, c) = (n, n + 1, 2 * n + 1)
        if a % 2 == 0 { a /= 2 } else { b /= 2 }
        if a % 3 == 0 { a /= 3 } else if b % 3 == 0 { b /= 3 } else { c /= 3 }
        return UInt128(a) * UInt128(b) * UInt128(c)
    }
}
