import ClusterDashboard
import ClusterEngine
import Dispatch

/// The dashboard's main loop, on the thread that owns the terminal: read keys, turn them into
/// view changes and engine commands, and draw a new frame when something changed.
public final class DashboardLoop {
    /// How the loop ended.
    public enum Exit: Equatable {
        case quit
        case signal(Int32)
    }

    let source: any DashboardSource
    let screen: TerminalScreen
    let frameInterval: Double
    var state: ViewState
    /// What the last frame drew where: a click acts on what the person saw.
    var clicks = ClickMap()
    static let idleFrameInterval = 0.5
    /// Testing aid: trap after this many seconds, to check the terminal is restored on a crash.
    let crashAfter: Double?
    let cores: Int

    public init(source: any DashboardSource, screen: TerminalScreen, frameInterval: Double, state: ViewState,
                cores: Int, crashAfter: Double? = nil) {
        self.source = source
        self.screen = screen
        self.frameInterval = frameInterval
        self.state = state
        self.cores = cores
        self.crashAfter = crashAfter
    }

    public func run() -> Exit {
        var pageSize = 1
        var nextFrame = DispatchTime.now()
        var needsFrame = true
        let started = DispatchTime.now()
        while true {
            if let signal = ProcessSignals.stopSignal { return .signal(signal) }
            if let crashAfter, Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9 > crashAfter {
                fatalError("crash requested with --debug-crash-after")
            }
            let now = DispatchTime.now()
            if needsFrame || now >= nextFrame {
                let busy: Bool
                (pageSize, busy) = drawFrame()
                needsFrame = false
                // Nothing moves while no worker runs: 2 frames a second keep the clock honest
                // and cost next to nothing. Keys still redraw at once.
                nextFrame = DispatchTime.now() + (busy ? frameInterval : max(frameInterval, Self.idleFrameInterval))
            }
            let wait = nextFrame > DispatchTime.now()
                ? Int((nextFrame.uptimeNanoseconds - DispatchTime.now().uptimeNanoseconds) / 1_000_000) : 0
            guard let key = screen.readKey(timeout: max(1, wait)) else { continue }
            if key == .resize {
                needsFrame = true
                continue
            }
            if source.take(key, &state) {
                needsFrame = true
                continue
            }
            let commands: [EngineCommand]
            if case .mouse(let event) = key {
                commands = Reducer.click(&state, event, on: clicks.target(x: event.x, y: event.y),
                                         snapshot: source.currentSnapshot(), pageSize: pageSize)
            } else {
                commands = Reducer.reduce(&state, key: key, snapshot: source.currentSnapshot(), pageSize: pageSize)
            }
            source.carryOut(commands, &state)
            if state.quitRequested { return .quit }
            needsFrame = true
        }
    }

    /// Renders and draws one frame; returns the worker rows visible (for paging) and whether
    /// anything moves.
    private func drawFrame() -> (Int, Bool) {
        let frame = source.nextFrame(&state, timelineShown: state.panel == .timeline)
        let size = screen.size
        let drawn = DashboardView.render(DashboardInput(
            frame: frame, state: state, width: size.width, height: size.height,
            capabilities: screen.capabilities, cores: cores, replay: source.replay))
        clicks = drawn.clicks
        screen.draw(drawn.buffer, full: state.fullRedrawRequested)
        Reducer.receive(&state, .drawn(scrollOffset: drawn.scrollOffset, logScroll: drawn.logScroll,
                                       tableCapacity: drawn.tableCapacity), at: frame.snapshot.time)
        return (drawn.workerRows, source.isBusy(frame))
    }
}
