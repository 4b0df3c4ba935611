/// One core's rate with every kernel variant this machine supports, measured once before any
/// worker sums: what the demo's jobs are sized by, and the yardstick of the dashboard's
/// share-of-peak column (how close each worker runs to what its core can do).
public struct KernelPeaks: Sendable, Equatable, Codable {
    /// Elements per second on one core, by variant.
    public let rates: [KernelVariant: Double]

    public init(rates: [KernelVariant: Double]) { self.rates = rates }

    public subscript(variant: KernelVariant) -> Double? { rates[variant] }

    /// These peaks, with the running kernel's raised to the rate of this machine's fastest
    /// worker in `snapshot` where that is higher: a core did that much, so a start-up measured
    /// a little low (a few milliseconds, on a machine doing something else) never shows a
    /// worker above 100% of its core.
    public func raised(by snapshot: ClusterSnapshot) -> KernelPeaks {
        var fastest = 0.0
        for w in snapshot.workers where w.remote == nil && w.isSumming { fastest = max(fastest, w.throughput) }
        guard let peak = rates[snapshot.kernel], fastest > peak else { return self }
        var rates = self.rates
        rates[snapshot.kernel] = fastest
        return KernelPeaks(rates: rates)
    }
}
