#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// What each signal means to cluster-top, and what it does about it. A signal that asks the
/// program to stop (SIGINT, SIGTERM, SIGHUP, ...) becomes a flag that the main loop polls, so
/// shutdown (and restoring the terminal) happens on the main thread, never inside a signal
/// handler. A signal that only reports what a call already returns as an error (SIGPIPE: EPIPE,
/// SIGXFSZ: EFBIG) is ignored, and the call's error is handled where it happens: a peer that
/// resets its connection is a closed connection, never a reason for a server to stop. Signals
/// that dump core (SIGQUIT and the crash signals) restore the terminal in the C crash handler.
public enum ProcessSignals {
    /// The signal that asked us to stop, or 0.
    private static let received = Atomic<Int32>(0)

    /// Installs the handlers. Call once, first thing in `main`, from the main thread: before any
    /// socket exists, so no write to a reset connection can ever stop the process.
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
        for signal in ignoredSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = SIG_IGN
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
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

    /// Signals that ask the program to stop: a person (SIGINT, SIGTERM), a closed terminal or
    /// session (SIGHUP), a supervisor or a power supply (SIGPWR), a CPU limit reached (SIGXCPU;
    /// the hard limit would kill), and the ones cluster-top gives no other meaning, whose default
    /// ends the program (SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGSTKFLT). Each is a clean stop:
    /// exit 128+N, the terminal restored, remote workers released.
    static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGPWR, SIGXCPU, SIGUSR1, SIGUSR2,
                                       SIGALRM, SIGVTALRM, SIGSTKFLT]

    /// Signals that would end the program by default but say nothing about whether it should
    /// stop: SIGPIPE (a write to a reset socket or a closed pipe; the write returns EPIPE),
    /// SIGXFSZ (a file grew past its limit; the write returns EFBIG), SIGPROF (a profiler's
    /// timer) and SIGIO (asynchronous I/O, which cluster-top never asks for).
    static let ignoredSignals: [Int32] = [SIGPIPE, SIGXFSZ, SIGPROF, SIGIO]

    /// The signal number received, if any.
    public static var stopSignal: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// Standard output's reader went away (a closed pipe: `cluster-top --json | head -1`): the
    /// program stops as the default SIGPIPE would have stopped it, but through the usual path,
    /// so the terminal is restored and remote workers are released. A stop asked for earlier
    /// keeps its own signal.
    public static func readerWentAway() {
        _ = received.compareExchange(expected: 0, desired: SIGPIPE, ordering: .relaxed)
    }

    /// Exit status for a stop by signal, the shell convention 128 + n.
    public static func exitStatus(for signal: Int32) -> Int32 { 128 + signal }
}

/// Writes to the standard streams with write(2), whole lines at a time. Foundation's
/// `FileHandle.write` traps on an error, and with SIGPIPE ignored, a closed pipe is an error.
public enum StandardStreams {
    /// Writes `text` to standard output. If its reader went away, the program stops as for
    /// SIGPIPE (`ProcessSignals.readerWentAway`); later writes are dropped.
    public static func output(_ text: String) {
        if !writeAll(text, to: STDOUT_FILENO) { ProcessSignals.readerWentAway() }
    }

    /// Writes `text` to standard error. Nothing is done about a failure: there is nowhere left
    /// to report it.
    public static func error(_ text: String) {
        _ = writeAll(text, to: STDERR_FILENO)
    }

    /// False if the descriptor cannot be written any more (EPIPE, EBADF, EIO, ...).
    private static func writeAll(_ text: String, to descriptor: Int32) -> Bool {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}
