/// Why a worker gets no more work in a job.
public enum BenchReason: Sendable, Equatable, Codable {
    /// How many times slower than its backup a worker must go to be benched for crawling.
    public static let crawlingBy = 100.0
    /// A backup finished `chunk` while it had done nothing of it.
    case stalled(chunk: Int64)
    /// A backup finished `chunk` while it went `crawlingBy` times slower, or more:
    /// a machine that has all but stopped, or one that reports progress it does not make.
    case crawled(chunk: Int64)
    /// It handed in a sum for `chunk` that is not the closed form of the chunk's range.
    case wrongSum(chunk: Int64)
}

extension BenchReason {
    /// What a worker's row says while it sits the job out.
    public var rowText: String {
        switch self {
        case .stalled(let chunk): return "benched: did nothing of #\(chunk)"
        case .crawled(let chunk): return "benched: crawled through #\(chunk)"
        case .wrongSum(let chunk): return "benched: wrong sum for #\(chunk)"
        }
    }
}
