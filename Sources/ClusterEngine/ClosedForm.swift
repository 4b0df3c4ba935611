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
