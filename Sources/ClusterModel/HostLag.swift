/// When a machine counts as lagging, for the engine's log and the dashboard's host rows alike.
public enum HostLag {
    /// A machine lags when most of its judged threads do: a slow laptop, not one slow thread
    /// (one of a laptop's two threads lags whenever the machine runs something else for a moment).
    public static func lags(threads: Int, lagging: Int) -> Bool { threads > 0 && lagging * 2 > threads }
}
