import ClusterModel

/// What a click on a cell of the screen reaches.
public enum ClickTarget: Equatable, Sendable {
    case worker(WorkerID)
    /// A host's row in the table; `first` is its first thread, for the views that select workers.
    case host(HostKey, first: WorkerID)
    /// A key of the footer bar.
    case action(DashboardAction)
    /// The event log: the wheel scrolls it.
    case eventLog
}

/// The clickable regions of one frame, recorded as it is drawn, so a click means exactly what
/// was on screen where it landed.
public struct ClickMap: Equatable, Sendable {
    struct Region: Equatable, Sendable {
        let y: Int
        let x: Range<Int>
        let target: ClickTarget
    }

    var regions: [Region] = []

    public init() {}

    /// What is at (x, y): the region drawn last wins, as on screen.
    public func target(x: Int, y: Int) -> ClickTarget? {
        regions.last { $0.y == y && $0.x.contains(x) }?.target
    }
}

/// Collects a frame's regions while the panels draw: they share one render context.
final class ClickRecorder {
    var map = ClickMap()

    func add(_ target: ClickTarget, y: Int, x: Range<Int>) {
        map.regions.append(ClickMap.Region(y: y, x: x, target: target))
    }
}
