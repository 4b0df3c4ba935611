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

    /// Σ m² for m in `first...last`, on magnitudes so that every square is a single
    /// 64×64→128-bit multiply.
    @inlinable
    static func sumOfSquaredMagnitudes(_ first: UInt64, _ last: UInt64) -> UInt128 {
        guard first <= last else { return 0 }
        var total: UInt128 = 0
        var m = first
        while true {
            let wide = UInt128(m)
            total &+= wide &* wide
            if m == last { break }
            m &+= 1
        }
        return total
    }
}
