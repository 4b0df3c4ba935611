#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compute threads yield to everything else on the machine that wants the CPU: the dashboard's
/// UI thread, the coordinator's network threads, a worker process's heartbeats. Otherwise,
/// with hundreds of busy workers, a key press waits seconds for the screen, and a worker at
/// nice 19 misses its heartbeats because its own compute threads crowd them out. Summing still
/// uses every idle cycle, so throughput on an otherwise idle machine is unchanged.
///
/// A local worker's thread comes back up while it waits for work or a resume, where the system
/// lets it (see `CPUTokens.Hold`): a thread woken in the lowest class never preempts the one
/// running on its core (Linux waits for the next tick or a free core), so a worker woken to take
/// a killed worker's chunk would start late. Leaving SCHED_IDLE takes CAP_SYS_NICE or a raised
/// RLIMIT_NICE on Linux; without either the thread stays in the lowest class, and wakes late.
public enum ComputePriority {
    /// The scheduling class a thread had before it was lowered, to go back to.
    public struct Previous: Sendable, Equatable {
        #if os(Linux)
        let policy: Int32
        let priority: Int32
        #endif
    }

    /// Puts the calling thread in the lowest scheduling class: SCHED_IDLE on Linux, the utility
    /// quality of service on Apple platforms. Returns the class it had, or nil if the system
    /// refused or the class cannot be restored on this platform.
    @discardableResult
    public static func lowerCurrentThread() -> Previous? {
        #if os(Linux)
        var policy: Int32 = 0
        var parameters = sched_param()
        guard pthread_getschedparam(pthread_self(), &policy, &parameters) == 0 else { return nil }
        let previous = Previous(policy: policy, priority: parameters.sched_priority)
        var lowest = sched_param()
        lowest.sched_priority = 0
        return pthread_setschedparam(pthread_self(), schedIdle, &lowest) == 0 ? previous : nil
        #elseif canImport(Darwin)
        _ = pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0)
        return nil
        #else
        return nil
        #endif
    }

    /// Puts the calling thread back in the class it had; false if the system refused (no
    /// privilege to leave the lowest class).
    public static func restoreCurrentThread(_ previous: Previous) -> Bool {
        #if os(Linux)
        guard previous.policy != schedIdle else { return true }
        var parameters = sched_param()
        parameters.sched_priority = previous.priority
        return pthread_setschedparam(pthread_self(), previous.policy, &parameters) == 0
        #else
        return false
        #endif
    }

    /// Whether the calling thread is in that class (for tests).
    public static var isLoweredForCurrentThread: Bool {
        #if os(Linux)
        var policy: Int32 = 0
        var parameters = sched_param()
        return pthread_getschedparam(pthread_self(), &policy, &parameters) == 0 && policy == schedIdle
        #else
        return false
        #endif
    }

    #if os(Linux)
    /// SCHED_IDLE is 5 in Linux's ABI (<linux/sched.h>); Glibc's module does not export it.
    private static let schedIdle: Int32 = 5
    #endif
}
