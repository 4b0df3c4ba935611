/// A key press, decoded from the terminal.
public enum Key: Hashable, Sendable {
    case character(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, backspace
    case function(Int)
    /// Ctrl plus a letter, lowercased: Ctrl-L is `.control("l")`.
    case control(Character)
    case resize
    /// A press of the mouse's first button, or a turn of its wheel, on a cell.
    case mouse(MouseEvent)
}

/// What the mouse did, and where (0-based cell).
public struct MouseEvent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case press, wheelUp, wheelDown }
    public let kind: Kind
    public let x: Int, y: Int

    public init(_ kind: Kind, x: Int, y: Int) {
        self.kind = kind
        self.x = x
        self.y = y
    }
}

/// Everything a key can ask the dashboard to do.
public enum DashboardAction: Hashable, Sendable {
    case selectPrevious, selectNext, selectPageUp, selectPageDown, selectFirst, selectLast
    case addWorker, removeWorker, togglePause, togglePauseAll, killWorker, restartWorker, restartAllDead
    case expandHost, collapseHost, toggleHost, cycleSort, filter, clearFilter
    case throttleWorker, fullSpeedAll, cycleSchedule, cyclePanel, zoomTimeline, measureSpeedup, cycleKernel, logOlder, logNewer, newJob, help, quit, redraw
}

/// One row of the key table.
public struct KeyBinding: Sendable {
    public let keys: [Key]
    /// How the keys are written in the help overlay: "p Space".
    public let keyLabel: String
    /// Short label for the footer bar, or nil to keep it out of the footer.
    public let footer: String?
    public let description: String
    public let action: DashboardAction
}

/// The single key table: dispatch, the footer bar and the help overlay all read it.
/// Conventions follow htop where it has one (F1 help, F9 kill, F10 quit, arrows select).
public enum KeyMap {
    public static let bindings: [KeyBinding] = [
        KeyBinding(keys: [.character("?"), .character("h"), .function(1)], keyLabel: "? h F1", footer: "Help",
                   description: "Show or hide this help", action: .help),
        KeyBinding(keys: [.up], keyLabel: "Up Down", footer: nil,
                   description: "Select a worker or host (PgUp PgDn: a page; Home End: ends)", action: .selectPrevious),
        KeyBinding(keys: [.down], keyLabel: "", footer: nil, description: "", action: .selectNext),
        KeyBinding(keys: [.pageUp], keyLabel: "", footer: nil, description: "", action: .selectPageUp),
        KeyBinding(keys: [.pageDown], keyLabel: "", footer: nil, description: "", action: .selectPageDown),
        KeyBinding(keys: [.home], keyLabel: "", footer: nil, description: "", action: .selectFirst),
        KeyBinding(keys: [.end], keyLabel: "", footer: nil, description: "", action: .selectLast),
        KeyBinding(keys: [.right], keyLabel: "Right Left", footer: nil,
                   description: "Unfold / fold a host; p k d r t on its row act on all threads", action: .expandHost),
        KeyBinding(keys: [.left], keyLabel: "", footer: nil, description: "", action: .collapseHost),
        KeyBinding(keys: [.enter], keyLabel: "", footer: nil, description: "", action: .toggleHost),
        KeyBinding(keys: [.character("a"), .character("+")], keyLabel: "a +", footer: "Add",
                   description: "Add a worker", action: .addWorker),
        KeyBinding(keys: [.character("d"), .character("-")], keyLabel: "d -", footer: "Remove",
                   description: "Remove the selected worker (it finishes its chunk first)", action: .removeWorker),
        KeyBinding(keys: [.character("p"), .character(" ")], keyLabel: "p Space", footer: "Pause",
                   description: "Pause / resume the selected worker or host (chunks are kept)", action: .togglePause),
        KeyBinding(keys: [.character("P")], keyLabel: "P", footer: "All",
                   description: "Resume all paused workers; none paused: pause all", action: .togglePauseAll),
        KeyBinding(keys: [.character("k"), .function(9)], keyLabel: "k F9", footer: "Kill",
                   description: "Kill the selected worker: its chunk is redone by another", action: .killWorker),
        KeyBinding(keys: [.character("r")], keyLabel: "r R", footer: "Restart",
                   description: "Restart the selected dead worker (R: every dead one)", action: .restartWorker),
        KeyBinding(keys: [.character("R")], keyLabel: "", footer: nil, description: "", action: .restartAllDead),
        KeyBinding(keys: [.character("t")], keyLabel: "t T", footer: "Throttle",
                   description: "Throttle: 100% → 50% → 25% → 10% → 2% → 100% (T: all to 100%)", action: .throttleWorker),
        KeyBinding(keys: [.character("T")], keyLabel: "", footer: nil, description: "", action: .fullSpeedAll),
        KeyBinding(keys: [.character("K")], keyLabel: "K", footer: nil,
                   description: "Kernel here, live: scalar → sse2 → avx2 → avx512 → ifma",
                   action: .cycleKernel),
        KeyBinding(keys: [.character("s")], keyLabel: "s", footer: nil,
                   description: "Schedule of the next new job: dynamic / static / stealing", action: .cycleSchedule),
        // Tab arrives as Ctrl-I.
        KeyBinding(keys: [.character("v"), .control("i")], keyLabel: "v Tab", footer: "View",
                   description: "View: workers / grid / timeline / speedup / jobs", action: .cyclePanel),
        KeyBinding(keys: [.character("z")], keyLabel: "z", footer: nil,
                   description: "Timeline: the whole job / its last 10 seconds, exactly", action: .zoomTimeline),
        KeyBinding(keys: [.character("[")], keyLabel: "[ ]", footer: nil,
                   description: "Scroll the event log back / forward", action: .logOlder),
        KeyBinding(keys: [.character("]")], keyLabel: "", footer: nil, description: "", action: .logNewer),
        KeyBinding(keys: [.character("m")], keyLabel: "m", footer: nil,
                   description: "Measure the speedup curve, from 1 worker up to 2 per core",
                   action: .measureSpeedup),
        KeyBinding(keys: [.character("n")], keyLabel: "n", footer: "New job",
                   description: "New job: type LO...HI, Enter starts it, Esc cancels", action: .newJob),
        KeyBinding(keys: [.character("o"), .function(6)], keyLabel: "o F6", footer: "Sort",
                   description: "Sort by id / host / rate / state / chunks done",
                   action: .cycleSort),
        KeyBinding(keys: [.character("/"), .function(4)], keyLabel: "/ F4 Esc", footer: "Filter",
                   description: "Show hosts or states that match (\"bob\", \"paused\"); Esc clears",
                   action: .filter),
        KeyBinding(keys: [.escape], keyLabel: "", footer: nil, description: "", action: .clearFilter),
        KeyBinding(keys: [.control("l")], keyLabel: "Ctrl-L", footer: nil,
                   description: "Redraw the screen", action: .redraw),
        KeyBinding(keys: [.character("q"), .function(10)], keyLabel: "q F10", footer: "Quit",
                   description: "Quit (asks first if other machines are joined)", action: .quit),
    ]

    private static let table: [Key: DashboardAction] = {
        var table: [Key: DashboardAction] = [:]
        for binding in bindings {
            for key in binding.keys where table[key] == nil { table[key] = binding.action }
        }
        return table
    }()

    public static func action(for key: Key) -> DashboardAction? { table[key] }

    /// The help overlay's rows: bindings that describe themselves.
    public static var helpRows: [(keys: String, description: String)] {
        bindings.filter { !$0.description.isEmpty }.map { ($0.keyLabel, $0.description) }
    }

    /// The footer's entries: (first key's label, short label, what a click on it does).
    public static var footerEntries: [(key: String, label: String, action: DashboardAction)] {
        bindings.compactMap { binding in
            binding.footer.map { (String(binding.keyLabel.split(separator: " ").first ?? ""), $0, binding.action) }
        }
    }
}
