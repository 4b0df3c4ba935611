/// How finished jobs compare: the jobs panel and the end of a script say the same.
public enum JobComparison {
    /// Accepted work a crash of the coordinator lost, as a share of the job: "0", "48%".
    public static func lostText(_ summary: JobSummary) -> String {
        guard summary.coordinatorCrashes > 0 else { return "-" }
        let share = Double(summary.elementsLostToCrashes) / Double(max(1, summary.spec.elementCount))
        return summary.elementsLostToCrashes == 0 ? "0" : Format.fixed(100 * share, decimals: share < 0.1 ? 1 : 0) + "%"
    }

    /// How many times longer `summary` took than the fastest of `summaries` over the same range
    /// (1 for the fastest); nil when that time is 0.
    public static func timeAgainstBest(_ summary: JobSummary, among summaries: [JobSummary]) -> Double? {
        let best = summaries.filter { $0.spec.lo == summary.spec.lo && $0.spec.hi == summary.spec.hi }
            .map(\.elapsed).min() ?? summary.elapsed
        return best > 0 ? summary.elapsed / best : nil
    }
}
