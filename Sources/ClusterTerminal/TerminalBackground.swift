import ClusterDashboard
#if canImport(Glibc)
import Glibc
#endif

/// Asks the terminal for its background colour (OSC 11), as Vim and Neovim do, so that a white
/// (projector) background gets the light theme without a flag. The query is followed by a
/// device-attributes request (DA1), which every terminal answers: its answer ends the wait at
/// once on terminals that do not know OSC 11, instead of a timeout.
public enum TerminalBackground {
    /// The theme to draw in: `chosen` (a flag), else what COLORFGBG says, else what the
    /// terminal answers, else dark.
    public static func theme(chosen: Theme? = nil) -> Theme {
        chosen ?? Theme.environmentTheme(getenv("COLORFGBG").map { String(cString: $0) }) ?? query() ?? .dark
    }

    /// The theme the terminal's background calls for, or nil if it did not say within
    /// `timeout` milliseconds (or standard input and output are not both a terminal).
    public static func query(timeout milliseconds: Int = 300) -> Theme? {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { return nil }
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return nil }
        var raw = saved
        // No line buffering and no echo, so the answer is neither held back nor printed.
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        guard tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0 else { return nil }
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        let request = "\u{1B}]11;?\u{1B}\\\u{1B}[c"
        guard request.utf8.withContiguousStorageIfAvailable({ write(STDOUT_FILENO, $0.baseAddress, $0.count) }) == request.utf8.count else {
            return nil
        }
        var reply: [UInt8] = []
        let deadline = MonotonicMilliseconds.now() + milliseconds
        while !answered(reply) {
            let left = deadline - MonotonicMilliseconds.now()
            guard left > 0 else { break }
            var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(left)) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = read(STDIN_FILENO, &buffer, buffer.count)
            guard count > 0 else { break }
            reply += buffer[0..<count]
        }
        return Theme.fromBackgroundReply(String(decoding: reply, as: UTF8.self))
    }

    /// True once the DA1 answer ("ESC [ ? … c") has come: every answer before it is in.
    static func answered(_ reply: [UInt8]) -> Bool {
        guard let start = reply.indices.first(where: { reply[$0] == 0x1B && $0 + 2 < reply.count && reply[$0 + 1] == 0x5B && reply[$0 + 2] == 0x3F })
        else { return false }
        return reply[(start + 3)...].contains(0x63)
    }
}

/// Milliseconds of the monotonic clock.
enum MonotonicMilliseconds {
    static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000 + time.tv_nsec / 1_000_000
    }
}
