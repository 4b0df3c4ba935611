import CNcurses
import CTerminalSupport
import ClusterDashboard
#if canImport(Glibc)
import Glibc
#endif

/// Why the dashboard could not take over the terminal.
public enum TerminalError: Error, CustomStringConvertible {
    case notATerminal
    case unknownTerminal(String)

    public var description: String {
        switch self {
        case .notATerminal: return "standard output is not a terminal"
        case .unknownTerminal(let name):
            return "terminal type '\(name)' is unknown to ncurses (try TERM=xterm-256color)"
        }
    }
}

/// The ncurses screen: the only type that calls ncurses, and only from the thread that made it.
///
/// It draws a `CellBuffer` by sending ncurses just the runs of cells that changed since the
/// last frame, and ncurses in turn sends the terminal only what changed on screen: no clear per
/// frame, so no flicker.
public final class TerminalScreen {
    public let capabilities: Capabilities
    private var screen: OpaquePointer?
    private var previous: CellBuffer?
    private var isActive = false

    /// Takes over the terminal. `forceASCII` and `disableColor` come from the command line.
    public init(forceASCII: Bool, disableColor: Bool, theme: Theme = .dark, mouse: Bool = true) throws {
        guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1 else { throw TerminalError.notATerminal }
        setlocale(LC_ALL, "")
        // Frozen sizes in the environment would stop ncurses from following resizes.
        unsetenv("LINES")
        unsetenv("COLUMNS")
        let term = getenv("TERM").map { String(cString: $0) } ?? ""
        // newterm, unlike initscr, returns NULL on an unknown TERM instead of exiting.
        guard !term.isEmpty, let screen = ct_newterm() else {
            throw TerminalError.unknownTerminal(term.isEmpty ? "(unset)" : term)
        }
        self.screen = screen
        set_term(screen)
        isActive = true
        ct_install_crash_handlers()
        cbreak()
        noecho()
        nonl()
        keypad(ct_stdscr(), true)
        // Home and End as tmux, screen and rxvt send them, whatever TERM says: under tmux with
        // TERM=xterm-256color, End arrives as ESC [ 4 ~, which would otherwise read as four keys
        // (one of them `[`, the event log's "older").
        for (sequence, key) in [("\u{1B}[1~", KEY_HOME), ("\u{1B}[4~", KEY_END), ("\u{1B}[7~", KEY_HOME), ("\u{1B}[8~", KEY_END),
                                ("\u{1B}[H", KEY_HOME), ("\u{1B}[F", KEY_END), ("\u{1B}OH", KEY_HOME), ("\u{1B}OF", KEY_END)] {
            _ = define_key(sequence, key)
        }
        intrflush(ct_stdscr(), false)
        curs_set(0)
        set_escdelay(25)
        // Clicks select and press footer keys, the wheel scrolls (htop's way). Where the mouse
        // is on, the terminal's own selection needs Shift, as in htop.
        if mouse { ct_enable_mouse() }
        let noColorEnvironment = getenv("NO_COLOR").map { String(cString: $0).isEmpty == false } ?? false
        var color = !disableColor && !noColorEnvironment && has_colors()
        if color {
            start_color()
            use_default_colors()
            // One pair per color, on the terminal's own background.
            let colors = Int(ct_colors())
            for textColor in TextColor.allCases where textColor != .default {
                init_pair(Int16(textColor.rawValue), Self.cursesColor(textColor, theme: theme, colors: colors), -1)
            }
            color = colors >= 8
        }
        capabilities = Capabilities(unicode: !forceASCII && ct_locale_is_utf8() != 0, color: color, theme: theme)
    }

    deinit { restore() }

    /// Gives the terminal back: leaves the alternate screen and restores modes. Idempotent.
    public func restore() {
        guard isActive else { return }
        isActive = false
        curs_set(1)
        endwin()
        if let screen { delscreen(screen) }
        screen = nil
    }

    /// Current size. The tty is asked directly each time and ncurses is told of any change, so a
    /// missed SIGWINCH (a blocked mask, a race) cannot leave the layout stale.
    public var size: (width: Int, height: Int) {
        var window = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0, window.ws_row > 0,
           Int32(window.ws_col) != ct_width() || Int32(window.ws_row) != ct_height() {
            resize_term(Int32(window.ws_row), Int32(window.ws_col))
        }
        return (Int(ct_width()), Int(ct_height()))
    }

    /// Draws `buffer`. `full` repaints every cell (after Ctrl-L or a resize).
    public func draw(_ buffer: CellBuffer, full: Bool = false) {
        var full = full
        if previous?.width != buffer.width || previous?.height != buffer.height { full = true }
        if full {
            clearok(ct_stdscr(), true)
            previous = nil
        }
        var run: [wchar_t] = []
        run.reserveCapacity(buffer.width + 1)
        for y in 0..<buffer.height {
            var x = 0
            while x < buffer.width {
                if let previous, previous[x, y] == buffer[x, y] {
                    x += 1
                    continue
                }
                // Collect a run of changed cells that share a style.
                let style = buffer[x, y].style
                let start = x
                run.removeAll(keepingCapacity: true)
                while x < buffer.width, buffer[x, y].style == style,
                      previous.map({ $0[x, y] != buffer[x, y] }) ?? true {
                    for scalar in buffer[x, y].character.unicodeScalars.prefix(1) { run.append(wchar_t(scalar.value)) }
                    x += 1
                }
                // ncurses would scroll the screen if the bottom-right cell were written with
                // addwstr's cursor advance; insert it instead.
                let count = run.count
                run.append(0)
                let (attributes, pair) = attributes(for: style)
                if y == buffer.height - 1, x == buffer.width {
                    _ = ct_draw_run(Int32(y), Int32(start), run, Int32(count - 1), attributes, pair)
                    if let last = run.dropLast().last {
                        var cell = cchar_t()
                        var text: [wchar_t] = [last, 0]
                        setcchar(&cell, &text, attributes, pair, nil)
                        mvins_wch(Int32(y), Int32(x - 1), &cell)
                    }
                } else {
                    _ = ct_draw_run(Int32(y), Int32(start), run, Int32(count), attributes, pair)
                }
            }
        }
        previous = buffer
        refresh()
    }

    /// Waits up to `milliseconds` for a key; nil if none came (or a signal interrupted the wait).
    public func readKey(timeout milliseconds: Int) -> Key? {
        timeout(Int32(max(0, milliseconds)))
        var value: wint_t = 0
        let result = ct_read_key(&value)
        if result == ct_key_code_yes(), Int32(value) == KEY_MOUSE { return Self.mouseEvent() }
        if result == ct_key_code_yes() { return Self.functionKey(Int32(value)) }
        guard result == OK else { return nil }
        return Self.characterKey(UInt32(value))
    }

    private func attributes(for style: CellStyle) -> (attr_t, Int16) {
        var attributes = ct_attr_normal()
        if style.bold { attributes |= ct_attr_bold() }
        if style.reverse { attributes |= ct_attr_reverse() }
        if style.underline { attributes |= ct_attr_underline() }
        let pair = capabilities.color ? Int16(style.color.rawValue) : 0
        return (attributes, pair)
    }

    /// The terminal colour for `color`: the basic eight, or on a light background with 256
    /// colours, shades dark enough to read on white (xterm's 256-colour cube).
    static func cursesColor(_ color: TextColor, theme: Theme = .dark, colors: Int = 8) -> Int16 {
        if theme == .light, colors >= 256 {
            switch color {
            case .default: return -1
            case .red: return 160
            case .green: return 28
            case .yellow: return 130
            case .blue: return 25
            case .magenta: return 127
            case .cyan: return 30
            case .white: return 244
            }
        }
        switch color {
        case .default: return -1
        case .red: return Int16(COLOR_RED)
        case .green: return Int16(COLOR_GREEN)
        case .yellow: return Int16(COLOR_YELLOW)
        case .blue: return Int16(COLOR_BLUE)
        case .magenta: return Int16(COLOR_MAGENTA)
        case .cyan: return Int16(COLOR_CYAN)
        case .white: return Int16(COLOR_WHITE)
        }
    }

    static func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_RESIZE: return .resize
        default:
            for n in 1...12 where code == ct_key_f(Int32(n)) { return .function(n) }
            return nil
        }
    }

    static func mouseEvent() -> Key? {
        var x: Int32 = 0, y: Int32 = 0
        switch ct_read_mouse(&x, &y) {
        case 1: return .mouse(MouseEvent(.press, x: Int(x), y: Int(y)))
        case 4: return .mouse(MouseEvent(.wheelUp, x: Int(x), y: Int(y)))
        case 5: return .mouse(MouseEvent(.wheelDown, x: Int(x), y: Int(y)))
        default: return nil
        }
    }

    static func characterKey(_ value: UInt32) -> Key? {
        switch value {
        case 27: return .escape
        case 10, 13: return .enter
        case 8, 127: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(value + 96)!))
        default: return Unicode.Scalar(value).map { .character(Character($0)) }
        }
    }
}
