import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way tests wait: for a fact, never for a duration.
///
/// Polls `condition` until it holds (true) or `seconds` pass (false). The deadline is there only
/// for a hang: a passing test never comes near it, on a fast machine or a slow one. Polls every
/// millisecond at first, then less often, so a long wait costs the machine nothing.
///
/// Disfavoured, so that `await eventually { … }` in an async test takes the overload below, which
/// suspends, even though its condition is not async: this one sleeps on its thread, and two
/// async tests sleeping here held both threads of Swift concurrency's pool on a 2-core machine,
/// leaving the clients and servers of every other test without one for up to a minute.
@_disfavoredOverload
public func eventually(within seconds: Double = 60, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = DispatchTime.now() + seconds
    var pause: UInt32 = 1000
    while DispatchTime.now() < deadline {
        if try condition() { return true }
        usleep(pause)
        pause = min(pause * 2, 20_000)
    }
    return try condition()
}

/// `eventually` for async tests: waits by suspending, so it never holds a thread of Swift
/// concurrency's pool that in-process workers may need.
public func eventually(within seconds: Double = 60, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    var pause = Duration.milliseconds(1)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: pause)
        pause = min(pause * 2, .milliseconds(20))
    }
    return try await condition()
}
