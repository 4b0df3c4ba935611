import ClusterDashboard
import ClusterEngine
import ClusterRecording
import Dispatch

/// The dashboard on a recording: frames rebuilt from the file at the position its clock reaches.
/// Space pauses, `<` and `>` halve and double the speed (0.25× to 16×), `[` and `]` jump to the
/// previous or next event worth seeing (a kill, a job's end), Home and End to either end. Keys
/// that would change the cluster say "replay: read only".
public final class ReplaySource: DashboardSource {
    let recording: Recording
    private(set) var position: Double = 0
    private(set) var speed: Double = 1
    private(set) var isPaused = false
    /// When the position was last moved by the clock.
    private var lastTick = DispatchTime.now()
    private var frame: ClusterFrame
    public static let speeds: ClosedRange<Double> = 0.25...16

    public init(recording: Recording, startPaused: Bool = false, speed: Double = 1) {
        self.recording = recording
        frame = recording.frame(at: 0)
        isPaused = startPaused
        self.speed = min(max(speed, Self.speeds.lowerBound), Self.speeds.upperBound)
    }

    var start: Double { recording.times.first ?? 0 }

    /// The frame at the position (a nanosecond's grace: a jump lands exactly on its frame).
    var index: Int { recording.index(at: start + position + 1e-9) }

    public var replay: ReplayStatus? {
        ReplayStatus(position: position, duration: recording.duration, speed: speed, isPaused: isPaused,
                     marks: recording.markedFrames.map { recording.times[$0] - start })
    }

    public func currentSnapshot() -> ClusterSnapshot { frame.snapshot }

    public func isBusy(_ frame: ClusterFrame) -> Bool { !isPaused && position < recording.duration }

    public func nextFrame(_ state: inout ViewState, timelineShown: Bool) -> ClusterFrame {
        tick()
        frame = recording.frame(at: index)
        if frame.caption != state.caption {
            Reducer.receive(&state, .script(caption: frame.caption, view: nil, measuring: nil), at: frame.snapshot.time)
        }
        return frame
    }

    /// Moves the position on by the time since the last tick, at the speed; stops at the end.
    private func tick() {
        let now = DispatchTime.now()
        defer { lastTick = now }
        guard !isPaused else { return }
        position = min(recording.duration, position + Double(now.uptimeNanoseconds - lastTick.uptimeNanoseconds) / 1e9 * speed)
        if position >= recording.duration { isPaused = true }
    }

    public func take(_ key: Key, _ state: inout ViewState) -> Bool {
        // The help and the quit question close on any key, as live.
        guard !state.showHelp, state.confirmingQuit == nil, state.prompt == nil else { return false }
        tick()
        let index = self.index
        switch key {
        case .character(" "):
            if isPaused && position >= recording.duration { position = 0 }
            isPaused.toggle()
        case .character("<"): speed = max(Self.speeds.lowerBound, speed / 2)
        case .character(">"): speed = min(Self.speeds.upperBound, speed * 2)
        case .character("["):
            // The event before the one shown (a second's grace: pressed twice, it goes further back).
            let shown = recording.markedFrames.last { $0 <= index && recording.times[$0] - start >= position - 1 }
            if let previous = recording.markedFrames.last(where: { $0 < (shown ?? index + 1) && $0 <= index }) ?? shown {
                seek(to: previous)
            }
        case .character("]"):
            if let next = recording.markedFrames.first(where: { $0 > index }) { seek(to: next) }
        case .home: position = 0
        case .end:
            position = recording.duration
            isPaused = true
        default:
            return false
        }
        return true
    }

    /// Shows frame `index` and pauses there: a jump is to look at something.
    private func seek(to index: Int) {
        position = recording.times[index] - start
        isPaused = true
    }

    public func carryOut(_ commands: [EngineCommand], _ state: inout ViewState) {
        if state.speedupMeasureRequested {
            Reducer.receive(&state, .speedupMeasureHandled, at: frame.snapshot.time)
        } else if commands.isEmpty {
            return
        }
        Reducer.receive(&state, .say("replay: read only (Space plays or pauses, < > change the speed, [ ] jump between events)",
                                     isError: true), at: frame.snapshot.time)
    }
}
