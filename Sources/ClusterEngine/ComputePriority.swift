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
public enum ComputePriority {
    /// Puts the calling thread in the lowest scheduling class: SCHED_IDLE on Linux, the utility
    /// quality of service on Apple platforms. True if the system took it.
    @discardableResult
    public static func lowerCurrentThread() -> Bool {
        #if os(Linux)
        // SCHED_IDLE is 5 in Linux's ABI (<linux/sched.h>); Glibc's module does not export it.
        let schedIdle: Int32 = 5
        var parameters = sched_param()
        parameters.sched_priority = 0
        return pthread_setschedparam(pthread_self(), schedIdle, &parameters) == 0
        #elseif canImport(Darwin)
        return pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0) == 0
        #else
        return false
        #endif
    }

    /// Whether the calling thread is in that class (for tests).
    public static var isLoweredForCurrentThread: Bool {
        #if os(Linux)
        var policy: Int32 = 0
        var parameters = sched_param()
        return pthread_getschedparam(pthread_self(), &policy, &parameters) == 0 && policy == 5
        #else
        return false
        #endif
    }
}
