import ClusterDashboard
import ClusterEngine
import ClusterScript
import Dispatch

/// The dashboard's main loop, on the thread that owns the terminal: read keys, turn them into
/// view changes and engine commands, and draw a new frame when something changed.
public final class DashboardLoop {
    /// How the loop ended.
    public enum Exit: Equatable {
        case quit
        case signal(Int32)
    }

    let cluster: Cluster
    let screen: TerminalScreen
    let frameInterval: Double
    var state: ViewState
    /// Recent events, oldest first, for the log.
    var events: [ClusterEvent] = []
    /// Every finished job's summary, oldest first, for the jobs panel.
    var finishedJobs: [JobSummary] = []
    var lastEventSequence: UInt64 = 0
    /// What the last frame drew where: a click acts on what the person saw.
    var clicks = ClickMap()
    static let keptEvents = 1_000
    static let idleFrameInterval = 0.5
    /// Testing aid: trap after this many seconds, to check the terminal is restored on a crash.
    let crashAfter: Double?
    /// A script or the demo, played alongside the keys.
    var player: ScriptPlayer?
    var speedup = SpeedupTracker()
    /// The kernel the speedup curve was measured with.
    var measuredKernel: KernelVariant?
    let cores: Int
    /// One core's peak per kernel: measured at start, raised whenever a worker here beats it.
    var kernelPeaks: KernelPeaks?

    public init(cluster: Cluster, screen: TerminalScreen, frameInterval: Double, state: ViewState,
                player: ScriptPlayer? = nil, cores: Int, kernelPeaks: KernelPeaks? = nil, crashAfter: Double? = nil) {
        self.cluster = cluster
        self.screen = screen
        self.frameInterval = frameInterval
        self.state = state
        self.player = player
        self.cores = cores
        self.kernelPeaks = kernelPeaks
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
            let commands: [EngineCommand]
            if case .mouse(let event) = key {
                commands = Reducer.click(&state, event, on: clicks.target(x: event.x, y: event.y),
                                         snapshot: cluster.snapshot(), pageSize: pageSize)
            } else {
                commands = Reducer.reduce(&state, key: key, snapshot: cluster.snapshot(), pageSize: pageSize)
            }
            for command in commands where !command.apply(to: cluster) {
                if command == .addWorker {
                    Reducer.receive(&state, .say("worker limit reached (\(cluster.configuration.maxWorkers))", isError: true),
                                    at: cluster.snapshot().time)
                }
            }
            if state.speedupMeasureRequested {
                Reducer.receive(&state, .speedupMeasureHandled, at: cluster.snapshot().time)
                startSpeedupMeasurement()
            }
            if state.quitRequested { return .quit }
            needsFrame = true
        }
    }

    /// m: measures the speedup curve by playing `measure speedup` as a script, then puts the
    /// number of workers back as it was.
    private func startSpeedupMeasurement() {
        let snapshot = cluster.snapshot()
        let refusal: String? = if let player, !player.isFinished {
            "a script is playing: measure once it is over"
        } else if snapshot.job?.status != .running {
            "measuring needs a running job: press n to start one long enough"
        } else { nil }
        if let refusal {
            Reducer.receive(&state, .say(refusal, isError: true), at: snapshot.time)
            return
        }
        let live = snapshot.workers.filter { $0.state != .removed && !$0.isLeaving }.count
        // Built from text the program writes itself: a parse failure would be a bug.
        guard let script = try? Script.parse("measure speedup\nworkers \(max(1, live))", source: "m") else { return }
        player = ScriptPlayer(script: script, cores: cores)
    }

    /// Renders and draws one frame; returns the worker rows visible (for paging) and whether
    /// any worker is running.
    private func drawFrame() -> (Int, Bool) {
        playScript()
        let snapshot = cluster.snapshot()
        // A speedup curve is one kernel's: another kernel starts a new one.
        if snapshot.kernel != measuredKernel {
            measuredKernel = snapshot.kernel
            speedup.reset()
        }
        speedup.record(snapshot)
        kernelPeaks = kernelPeaks?.raised(by: snapshot)
        let fresh = cluster.events(after: lastEventSequence)
        if let last = fresh.last {
            lastEventSequence = last.sequence
            events.append(contentsOf: fresh)
            if events.count > Self.keptEvents { events.removeFirst(events.count - Self.keptEvents) }
        }
        // Jobs finish in order, and their ids count from 1.
        while finishedJobs.count < snapshot.finishedJobs,
              let summary = cluster.summary(of: JobID(finishedJobs.count + 1)) { finishedJobs.append(summary) }
        let size = screen.size
        let frame = DashboardView.render(DashboardInput(
            snapshot: snapshot, events: events, state: state, width: size.width, height: size.height,
            capabilities: screen.capabilities, timeline: state.panel == .timeline ? cluster.timeline() : nil,
            speedup: speedup, cores: cores, finishedJobs: finishedJobs, kernelPeaks: kernelPeaks))
        clicks = frame.clicks
        screen.draw(frame.buffer, full: state.fullRedrawRequested)
        Reducer.receive(&state, .drawn(scrollOffset: frame.scrollOffset, logScroll: frame.logScroll,
                                       tableCapacity: frame.tableCapacity), at: snapshot.time)
        // A script keeps the frames coming even while nothing runs: its clock must advance.
        let scriptPending = player.map { !$0.isFinished } ?? false
        return (frame.workerRows, scriptPending || snapshot.workers.contains { $0.state == .running })
    }

    /// Runs the script steps that are due, and shows the caption and view they ask for.
    private func playScript() {
        guard var player, !player.isFinished else { return }
        let now = cluster.snapshot().time
        for step in player.advance(now: now, cluster: cluster) {
            if step.isError {
                Reducer.receive(&state, .say("script line \(step.line): \(step.text)", isError: true), at: now)
            } else if step.isFinding {
                Reducer.receive(&state, .say(step.text, isError: false), at: now)
            }
        }
        if player.requestedSpeedupReset {
            player.requestedSpeedupReset = false
            speedup.reset()
        }
        Reducer.receive(&state, .script(caption: player.caption,
                                        view: player.requestedView.flatMap { DashboardPanel(rawValue: $0.rawValue) },
                                        measuring: player.measuring.map { SpeedupProgress(workers: $0.workers, upTo: $0.upTo) }),
                        at: now)
        player.requestedView = nil
        self.player = player
    }
}
