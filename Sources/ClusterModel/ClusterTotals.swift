/// What the cluster has done since it started, over all its jobs: counts that only grow, as
/// `--metrics` exports them (a Prometheus counter must never go down, whichever job runs).
public struct ClusterTotals: Sendable, Equatable, Codable {
    /// Elements whose sum was accepted (a resumed job's journaled elements included).
    public var elementsDone: Int64 = 0
    public var chunksDone: Int64 = 0
    /// Chunks given back to the queue: their worker was killed, removed or lost its lease.
    public var chunksRequeued: Int64 = 0
    public var chunksSplit: Int64 = 0
    public var chunksStolen: Int64 = 0
    public var backupsStarted: Int64 = 0
    public var backupsWon: Int64 = 0
    /// Results refused because their sum was not the closed form of their range.
    public var wrongSums: Int64 = 0
    public var jobsFinished: Int64 = 0
    public var jobsVerified: Int64 = 0

    public init() {}

    public static func + (a: ClusterTotals, b: ClusterTotals) -> ClusterTotals {
        var sum = a
        sum.elementsDone += b.elementsDone
        sum.chunksDone += b.chunksDone
        sum.chunksRequeued += b.chunksRequeued
        sum.chunksSplit += b.chunksSplit
        sum.chunksStolen += b.chunksStolen
        sum.backupsStarted += b.backupsStarted
        sum.backupsWon += b.backupsWon
        sum.wrongSums += b.wrongSums
        sum.jobsFinished += b.jobsFinished
        sum.jobsVerified += b.jobsVerified
        return sum
    }
}
