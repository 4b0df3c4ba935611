import ClusterModel

/// What changes the view state besides keys and clicks. The loop turns what happens around it
/// (a command the engine refused, a script's step, a frame drawn) into one of these, and only
/// the reducer applies it: a recording of messages replays the same screens.
public enum ViewMessage: Equatable, Sendable {
    /// A line for the status line: a refusal, a script's error or finding.
    case say(String, isError: Bool)
    /// A script or the demo shows this caption and this view (nil: as they are), and how far
    /// its speedup measurement has come (nil: none under way).
    case script(caption: String?, view: DashboardPanel?, measuring: SpeedupProgress?)
    /// The speedup measurement asked for with m was started, or refused with a `say`.
    case speedupMeasureHandled
    /// A frame was drawn: the scroll positions it kept the selection in view with, and the
    /// rows the table had room for (hosts start unfolded while their threads fit).
    case drawn(scrollOffset: Int, logScroll: Int, tableCapacity: Int)
    /// `--record` started, or stopped with this reason (said on the status line too).
    case recording(RecordingBadge, reason: String? = nil)
}

extension Reducer {
    /// Applies `message`, which happened at `time` (snapshot seconds: status lines fade by it).
    public static func receive(_ state: inout ViewState, _ message: ViewMessage, at time: Double) {
        switch message {
        case .say(let text, let isError):
            state.status = StatusMessage(text: text, isError: isError, since: time)
        case .script(let caption, let view, let measuring):
            if let caption { state.caption = caption }
            if let view { state.panel = view }
            state.speedupMeasuring = measuring
        case .speedupMeasureHandled:
            state.speedupMeasureRequested = false
        case .drawn(let scrollOffset, let logScroll, let tableCapacity):
            state.scrollOffset = scrollOffset
            state.logScroll = logScroll
            state.tableCapacity = tableCapacity
            state.fullRedrawRequested = false
        case .recording(let badge, let reason):
            state.recording = badge
            if badge == .stopped {
                state.status = StatusMessage(text: "the recording stopped: \(reason ?? "it could not be written"); it replays up to here",
                                             isError: true, since: time)
            }
        }
    }
}
