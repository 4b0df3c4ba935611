import Dispatch

/// Monotonic time in nanoseconds; immune to wall-clock changes.
enum MonotonicClock {
    @inline(__always)
    static func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
