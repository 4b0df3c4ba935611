import Dispatch

/// Monotonic time in nanoseconds; immune to wall-clock changes.
public enum MonotonicClock {
    @inline(__always)
    public static func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
