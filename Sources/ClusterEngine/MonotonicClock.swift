import Dispatch

/// Monotonic time in nanoseconds; immune to wall-clock changes.
public enum MonotonicClock {
    @inline(__always)
    public static func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// The clock the engine reads, as a value it is given (`ClusterConfiguration.clock`): the real
/// one, or a test's, which moves only when the test moves it. Nothing in the engine reads the
/// time any other way.
public struct EngineClock: Sendable {
    public let now: @Sendable () -> UInt64

    public init(_ now: @escaping @Sendable () -> UInt64) { self.now = now }

    /// The monotonic clock of this machine.
    public static let live = EngineClock { MonotonicClock.nanoseconds() }
}
