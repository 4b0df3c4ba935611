/// Makes the dashboard's frames from a live cluster: each `next` takes a snapshot, gathers the
/// events and finished jobs since the last one, feeds the speedup curve and the kernels' peaks,
/// and copies the timeline when asked. The dashboard draws what it returns; `--record` keeps it.
public final class ClusterFeed {
    public let cluster: Cluster
    private var events: [ClusterEvent] = []
    private var finishedJobs: [JobSummary] = []
    private var lastEventSequence: UInt64 = 0
    private var speedup = SpeedupTracker()
    /// The kernel the speedup curve was measured with: another kernel starts a new curve.
    private var measuredKernel: KernelVariant?
    private var kernelPeaks: KernelPeaks?

    public init(cluster: Cluster, kernelPeaks: KernelPeaks? = nil) {
        self.cluster = cluster
        self.kernelPeaks = kernelPeaks
    }

    /// Forgets the speedup curve: a new measurement starts.
    public func resetSpeedup() { speedup.reset() }

    /// The cluster now. `timeline`: copy the timeline too (it holds up to
    /// `timelineCapacity` attempts: ask only when it is shown or kept).
    public func next(timeline: Bool, caption: String? = nil) -> ClusterFrame {
        let snapshot = cluster.snapshot()
        if snapshot.kernel != measuredKernel {
            measuredKernel = snapshot.kernel
            speedup.reset()
        }
        speedup.record(snapshot)
        kernelPeaks = kernelPeaks?.raised(by: snapshot)
        let fresh = cluster.events(after: lastEventSequence)
        var frame = ClusterFrame(snapshot: snapshot, events: events, finishedJobs: finishedJobs,
                                 timeline: timeline ? cluster.timeline() : nil, speedup: speedup,
                                 kernelPeaks: kernelPeaks, caption: caption)
        if let last = fresh.last {
            lastEventSequence = last.sequence
            frame.append(events: fresh)
            events = frame.events
        }
        // Jobs finish in order, and their ids count from 1.
        while finishedJobs.count < snapshot.finishedJobs,
              let summary = cluster.summary(of: JobID(finishedJobs.count + 1)) { finishedJobs.append(summary) }
        frame.finishedJobs = finishedJobs
        return frame
    }
}
