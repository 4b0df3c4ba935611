/// What one frame of the dashboard shows of the cluster, whatever the view: the snapshot, the
/// recent events, the finished jobs, the timeline, the speedup curve and the kernels' peaks. A
/// live cluster makes them (`ClusterFeed`), and so does a recording played back: the dashboard
/// draws both the same way.
public struct ClusterFrame: Sendable, Equatable {
    public var snapshot: ClusterSnapshot
    /// Recent events, oldest first: at most `keptEvents`.
    public var events: [ClusterEvent]
    /// Every finished job's summary, oldest first.
    public var finishedJobs: [JobSummary]
    /// The timeline: the shown job's lanes and the recent attempts.
    public var timeline: TimelineSnapshot?
    public var speedup: SpeedupTracker
    /// One core's peak per kernel, raised whenever a worker beats it.
    public var kernelPeaks: KernelPeaks?
    /// A script's caption on screen, if any.
    public var caption: String?

    public static let keptEvents = 1_000

    public init(snapshot: ClusterSnapshot, events: [ClusterEvent] = [], finishedJobs: [JobSummary] = [],
                timeline: TimelineSnapshot? = nil, speedup: SpeedupTracker = SpeedupTracker(),
                kernelPeaks: KernelPeaks? = nil, caption: String? = nil) {
        self.snapshot = snapshot
        self.events = events
        self.finishedJobs = finishedJobs
        self.timeline = timeline
        self.speedup = speedup
        self.kernelPeaks = kernelPeaks
        self.caption = caption
    }

    /// Adds events that came after the last one kept, dropping the oldest past `keptEvents`.
    public mutating func append(events fresh: [ClusterEvent]) {
        events.append(contentsOf: fresh)
        if events.count > Self.keptEvents { events.removeFirst(events.count - Self.keptEvents) }
    }
}
