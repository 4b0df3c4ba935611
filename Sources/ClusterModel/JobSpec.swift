import BigInt

/// How chunks are handed to workers.
public enum SchedulePolicy: String, Sendable, CaseIterable, Codable {
    /// The seed's design: at job start each worker gets one fixed, contiguous slice of the chunks.
    /// Work left behind by a killed or removed worker goes to a shared pool that any worker
    /// drains once its own slice is done.
    case `static`
    /// One shared queue of chunks; whichever worker is idle takes the next one.
    case dynamic
    /// Work stealing: each worker starts with its own slice, as in `static`. A worker whose slice
    /// is done steals the back half of the largest slice left; once no slice has chunks, it splits
    /// the chunk of a busy, slow or paused worker and takes the unprocessed part (all of it from a
    /// paused worker, a share in proportion to speed from a running one).
    case stealing

    /// The short name shown in the header and accepted by `--schedule` and scripts.
    public var label: String { rawValue }
}

/// A validated description of one job: Σ x² over `lo...hi`, split into chunks.
public struct JobSpec: Sendable, Equatable {
    public let lo: Int64
    public let hi: Int64
    public let chunkSize: Int64
    public let schedule: SchedulePolicy
    /// Number of chunks; the last one may be short. Stored: the hot path asks for it per chunk.
    public let chunkCount: Int64

    /// Elements per chunk when the user does not choose: 4 Mi keeps the per-chunk overhead
    /// negligible and still gives each worker many chunks on the default job.
    public static let defaultChunkSize: Int64 = 4 << 20

    /// The largest magnitude any accepted range can reach: 1...n has a total that fits in
    /// 128 bits exactly up to this n.
    public static let largestAcceptedMagnitude: Int64 = {
        var low: Int64 = 1, high: Int64 = 1 << 44
        while low < high {
            let mid = low + (high - low + 1) / 2
            if ClosedForm.sumOfSquares(1, mid) <= maxTotal { low = mid } else { high = mid - 1 }
        }
        return low
    }()

    static let maxTotal = BigInt(UInt128.max)

    public init(lo: Int64, hi: Int64, chunkSize: Int64 = JobSpec.defaultChunkSize,
                schedule: SchedulePolicy = .dynamic) throws(JobSpecError) {
        guard lo <= hi else { throw .emptyRange(lo: lo, hi: hi) }
        guard chunkSize > 0 else { throw .chunkSizeNotPositive(chunkSize) }
        // The total must fit the 128-bit accumulators; decide that before any work starts.
        guard ClosedForm.sumOfSquares(lo, hi) <= JobSpec.maxTotal else {
            throw .totalTooLarge(lo: lo, hi: hi, largestMagnitude: JobSpec.largestAcceptedMagnitude)
        }
        self.lo = lo
        self.hi = hi
        self.chunkSize = chunkSize
        self.schedule = schedule
        chunkCount = (hi - lo) / chunkSize + 1
    }

    /// Number of elements in the range (fits: accepted ranges stay far inside Int64).
    public var elementCount: Int64 { hi - lo + 1 }

    /// The element range of chunk `index`.
    public func elements(ofChunk index: Int64) -> ClosedRange<Int64> {
        let first = lo + index * chunkSize
        let last = index == chunkCount - 1 ? hi : first + chunkSize - 1
        return first...last
    }

    /// The exact expected total, from the closed form.
    public var closedFormTotal: BigInt { ClosedForm.sumOfSquares(lo, hi) }
}

/// Why a job description was refused. Each message says what is wrong and what to do.
public enum JobSpecError: Error, Equatable, CustomStringConvertible {
    case emptyRange(lo: Int64, hi: Int64)
    case chunkSizeNotPositive(Int64)
    case totalTooLarge(lo: Int64, hi: Int64, largestMagnitude: Int64)

    public var description: String {
        switch self {
        case let .emptyRange(lo, hi):
            return "the range \(lo)...\(hi) is empty: LO must not exceed HI (for example 1...100)"
        case let .chunkSizeNotPositive(size):
            return "chunk size must be at least 1 (got \(size))"
        case let .totalTooLarge(lo, hi, largest):
            return "the sum of squares over \(lo)...\(hi) does not fit in 128 bits; keep the range "
                + "within -\(largest)...\(largest) (smaller if it crosses zero)"
        }
    }
}

// Decoded through the validating initializer: a recording cannot make a job the engine could not.
extension JobSpec: Codable {
    private enum CodingKeys: String, CodingKey { case lo, hi, chunkSize, schedule }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(lo: try c.decode(Int64.self, forKey: .lo), hi: try c.decode(Int64.self, forKey: .hi),
                          chunkSize: try c.decode(Int64.self, forKey: .chunkSize),
                          schedule: try c.decode(SchedulePolicy.self, forKey: .schedule))
        } catch let error as JobSpecError {
            throw DecodingError.dataCorruptedError(forKey: .lo, in: c, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lo, forKey: .lo)
        try c.encode(hi, forKey: .hi)
        try c.encode(chunkSize, forKey: .chunkSize)
        try c.encode(schedule, forKey: .schedule)
    }
}
