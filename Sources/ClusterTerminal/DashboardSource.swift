import ClusterDashboard
import ClusterEngine

/// Where the dashboard's frames come from and where what its keys ask goes: a live cluster
/// (`LiveSource`) or a recording played back (`ReplaySource`). The loop draws either the same way.
public protocol DashboardSource: AnyObject {
    /// The frame to draw now; it may tell the view state something first (a script's caption).
    func nextFrame(_ state: inout ViewState, timelineShown: Bool) -> ClusterFrame
    /// The snapshot keys act on.
    func currentSnapshot() -> ClusterSnapshot
    /// A key this source takes before the dashboard's own (a replay's transport); true if taken.
    func take(_ key: Key, _ state: inout ViewState) -> Bool
    /// Carries out what a key asked of the cluster, and what the view state asks of it (m).
    func carryOut(_ commands: [EngineCommand], _ state: inout ViewState)
    /// Whether frames must keep coming at the full rate: something moves.
    func isBusy(_ frame: ClusterFrame) -> Bool
    /// Where a replay stands; nil when live.
    var replay: ReplayStatus? { get }
}
