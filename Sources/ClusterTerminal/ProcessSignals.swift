#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Turns every signal whose default action ends the process quietly (SIGINT, SIGTERM, SIGHUP,
/// SIGPIPE, SIGUSR1, SIGALRM, ...) into a flag that the main loop polls, so shutdown (and restoring
/// the terminal) happens on the main thread, never inside a signal handler. Signals that dump core
/// (SIGQUIT and the crash signals) restore the terminal in the C crash handler instead.
public enum ProcessSignals {
    /// The signal that asked us to stop, or 0.
    private static let received = Atomic<Int32>(0)

    /// Installs the handlers. Call once, early, from the main thread.
    public static func installStopHandlers() {
        _ = received.load(ordering: .relaxed)  // initialize the global before any handler can run
        // A launcher may hand us a blocked signal mask (threads of test runners do): a blocked
        // SIGTERM would make us unstoppable and a blocked SIGWINCH blind to resizes. Unblock
        // everything we or ncurses rely on, and the crash signals.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in stopSignals + [SIGWINCH, SIGTSTP, SIGCONT, SIGQUIT, SIGSYS, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP] {
            sigaddset(&unblock, signal)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for signal in stopSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                ProcessSignals.received.store(number, ordering: .relaxed)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // no SA_RESTART: let a blocking read return so the loop notices
            sigaction(signal, &action, nil)
        }
    }

    /// Signals whose default action ends the process without a core dump.
    static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM,
                                       SIGPROF, SIGXCPU, SIGXFSZ, SIGIO, SIGPWR, SIGSTKFLT]

    /// The signal number received, if any.
    public static var stopSignal: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// Exit status for a stop by signal, the shell convention 128 + n.
    public static func exitStatus(for signal: Int32) -> Int32 { 128 + signal }
}
