/// A worker's identity, stable for the life of the cluster (removed workers keep theirs).
public struct WorkerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public static func < (a: WorkerID, b: WorkerID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "worker \(rawValue)" }
}

/// A job's identity, in submission order starting at 1.
public struct JobID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public static func < (a: JobID, b: JobID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "job \(rawValue)" }
}

/// One try at computing one chunk. Only the current attempt of a chunk that is not yet done may
/// contribute to the total; every other result is stale. Ids are unique across the cluster's life.
public struct AttemptID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: AttemptID, b: AttemptID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "attempt \(rawValue)" }
}

// Ids are plain numbers in a recording.
extension WorkerID: Codable {
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(Int.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension JobID: Codable {
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(Int.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension AttemptID: Codable {
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(UInt64.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
