import ClusterTestSupport
import Foundation
import ProcessSupport
import Testing

/// A real terminal for end-to-end tests: a tmux session on a private server, running an
/// interactive bash in which the test types commands the way a person would.
final class TmuxSession {
    static let socket = "cluster-top-tests-\(getpid())"
    static var isAvailable: Bool { (try? TmuxSession.tmux(["-V"])) != nil }
    /// CI sets this so a missing tmux fails loudly instead of skipping.
    static var isRequired: Bool { ProcessInfo.processInfo.environment["CLUSTER_TOP_REQUIRE_TMUX"] == "1" }

    let name: String

    /// Starts bash in a detached `width`×`height` window with a recognizable prompt.
    init(width: Int = 100, height: Int = 30, term: String = "xterm-256color", lang: String = "C.UTF-8") throws {
        name = "t\(UInt32.random(in: 0...UInt32.max))"
        let environment = "env -i PATH=/usr/bin:/bin HOME=/tmp TERM=\(term) LANG=\(lang) LC_ALL=\(lang) PS1='PROMPT$ '"
        // This may start the tmux server, which must not inherit a pipe we read to the end. It can
        // fail while the server is exiting after the previous test's last session: then again.
        let started = eventually {
            (try? Self.tmux(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)",
                             "\(environment) bash --norc --noprofile"], captureOutput: false)) != nil
        }
        guard started else { throw TmuxError(arguments: ["new-session", "-s", name], status: 1) }
        _ = try waitFor("PROMPT$")
    }

    deinit { _ = try? Self.tmux(["kill-session", "-t", name], captureOutput: false) }

    /// Types `text` and presses Enter.
    func type(_ text: String) throws {
        try Self.tmux(["send-keys", "-t", name, "-l", text])
        try Self.tmux(["send-keys", "-t", name, "Enter"])
    }

    /// Presses keys by tmux name ("Down", "C-c", "F9", "a").
    func press(_ keys: String...) throws {
        for key in keys {
            try Self.tmux(["send-keys", "-t", name, key])
            usleep(60_000)
        }
    }

    /// Presses the mouse's first button on cell (x, y), 0-based, and lets it go, as xterm reports
    /// it in SGR mode (TERM=xterm-256color's kmous). Without `release`, only the press: a
    /// terminal reports no release once the program it quit stopped asking for the mouse.
    func click(x: Int, y: Int, release: Bool = true) throws {
        try Self.tmux(["send-keys", "-t", name, "-l", "\u{1B}[<0;\(x + 1);\(y + 1)M"])
        if release { try Self.tmux(["send-keys", "-t", name, "-l", "\u{1B}[<0;\(x + 1);\(y + 1)m"]) }
    }

    /// Turns the mouse wheel one notch down (or up) over cell (x, y).
    func wheel(down: Bool, x: Int, y: Int) throws {
        try Self.tmux(["send-keys", "-t", name, "-l", "\u{1B}[<\(down ? 65 : 64);\(x + 1);\(y + 1)M"])
    }

    /// The visible screen with its colours, as escape sequences.
    func screenWithColours() throws -> String { try Self.tmux(["capture-pane", "-e", "-p", "-t", name]) }

    /// Sets the pane's background colour (tmux then answers the OSC 11 query with it).
    func setBackground(_ colour: String) throws {
        try Self.tmux(["set-option", "-t", name, "window-style", "bg=\(colour)"])
    }

    /// Whether the program in the pane asked the terminal for mouse reports.
    func mouseReportingOn() throws -> Bool {
        try Self.tmux(["display-message", "-p", "-t", name, "#{mouse_any_flag}"]).trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    func resize(width: Int, height: Int) throws {
        try Self.tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// The visible screen as text.
    func screen() throws -> String { try Self.tmux(["capture-pane", "-p", "-t", name]) }

    /// Whether the program has the alternate screen (ncurses) active.
    func alternateScreenOn() throws -> Bool {
        try Self.tmux(["display-message", "-p", "-t", name, "#{alternate_on}"]).trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    /// The pid of the program running under the shell, if any. Read from /proc directly:
    /// pgrep (procps) is not on every fresh machine.
    func childPID() throws -> Int32? {
        let shell = try Self.tmux(["display-message", "-p", "-t", name, "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc")
        for entry in entries {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (comm)": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, String(fields[1]) == shell { return pid }
        }
        return nil
    }

    /// Polls the screen until `predicate` holds and returns that screen; throws, with the last
    /// screen, when `timeout` passes first (a deadline only a hang reaches): what the test waits
    /// for never came, and every step after it would be meaningless.
    @discardableResult
    func waitUntil(timeout: Double = 60, _ predicate: (String) -> Bool) throws -> String {
        var last = ""
        let met = try eventually(within: timeout) {
            last = try screen()
            return predicate(last)
        }
        guard met else { throw ScreenTimeout(seconds: timeout, screen: last) }
        return last
    }

    @discardableResult
    func waitFor(_ text: String, timeout: Double = 60) throws -> String {
        do {
            return try waitUntil(timeout: timeout) { $0.contains(text) }
        } catch let timeout as ScreenTimeout {
            throw ScreenTimeout(seconds: timeout.seconds, screen: timeout.screen, awaited: text)
        }
    }

    struct ScreenTimeout: Error, CustomStringConvertible {
        let seconds: Double
        let screen: String
        var awaited: String?

        var description: String {
            "the screen did not show \(awaited.map { "\"\($0)\"" } ?? "what was awaited") within \(Int(seconds)) s; it showed:\n\(screen)"
        }
    }

    /// After the program ends: the shell prompt is back, the alternate screen is off, and the
    /// tty is back in canonical mode with echo. Returns the exit status the shell saw.
    func expectTerminalRestored(sourceLocation: SourceLocation = #_sourceLocation) throws -> Int? {
        // Let the program finish first: keys typed into a live dashboard would be commands, and
        // keys typed while it restores the tty can arrive raw (no echo, CR for Enter).
        _ = try eventually { try !alternateScreenOn() && childPID() == nil }
        try type("echo \"exit=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(echo|icanon)' | tr '\\n' ' '; echo")
        // Wait for the command's output (not its echo) and the next prompt.
        let screen = try waitUntil { screen in
            let lines = screen.split(separator: "\n")
            return lines.contains { $0.hasPrefix("exit=") } && lines.last?.hasPrefix("PROMPT$") == true
                && lines.contains { $0.contains("icanon") && !$0.contains("grep") }
        }
        #expect(try !alternateScreenOn(), "alternate screen still on", sourceLocation: sourceLocation)
        let lines = screen.split(separator: "\n").map(String.init)
        let modes = lines.last { $0.contains("icanon") && !$0.contains("grep") } ?? ""
        #expect(modes.contains("icanon") && !modes.contains("-icanon"), "tty not canonical: \(modes)", sourceLocation: sourceLocation)
        #expect(modes.contains("echo") && !modes.contains("-echo"), "tty echo off: \(modes)", sourceLocation: sourceLocation)
        #expect(lines.last { !$0.isEmpty }?.hasPrefix("PROMPT$") == true, "no prompt: \(screen)", sourceLocation: sourceLocation)
        let status = lines.last { $0.hasPrefix("exit=") }.flatMap { Int($0.dropFirst(5)) }
        // The caller checks the status; the screen says why when it is not the expected one.
        if status != 0 { print("terminal after exit (status \(status.map(String.init) ?? "unknown")):\n\(screen)") }
        return status
    }

    /// Runs tmux through ChildProcess (posix_spawn and wait4): Foundation's Process never sees
    /// tmux exit once the daemonized server holds the descriptor it watches.
    @discardableResult
    static func tmux(_ arguments: [String], captureOutput: Bool = true) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C.UTF-8"  // capture-pane must keep the block glyphs
        environment.removeValue(forKey: "TMUX")
        let result = try ChildProcess.run(["tmux", "-L", socket, "-f", "/dev/null"] + arguments,
                                          environment: environment, captureOutput: captureOutput)
        guard result.exitStatus == 0 else { throw TmuxError(arguments: arguments, status: result.exitStatus) }
        return result.output
    }

    struct TmuxError: Error { let arguments: [String]; let status: Int32 }
}
