import ClusterDashboard
import ClusterEngine
import ClusterRecording
import ClusterScript

/// The dashboard on a live cluster: frames from its `ClusterFeed`, commands carried out on it,
/// and a script or the demo played alongside the keys.
public final class LiveSource: DashboardSource {
    let cluster: Cluster
    let feed: ClusterFeed
    let cores: Int
    /// A script or the demo, played alongside the keys.
    var player: ScriptPlayer?
    /// `--record`'s recorder: told each caption; the header shows whether it still writes.
    let recorder: LiveRecorder?

    public init(cluster: Cluster, player: ScriptPlayer? = nil, cores: Int, kernelPeaks: KernelPeaks? = nil,
                recorder: LiveRecorder? = nil) {
        self.cluster = cluster
        feed = ClusterFeed(cluster: cluster, kernelPeaks: kernelPeaks)
        self.player = player
        self.cores = cores
        self.recorder = recorder
    }

    public var replay: ReplayStatus? { nil }

    public func currentSnapshot() -> ClusterSnapshot { cluster.snapshot() }

    public func take(_ key: Key, _ state: inout ViewState) -> Bool { false }

    public func nextFrame(_ state: inout ViewState, timelineShown: Bool) -> ClusterFrame {
        let caption = state.caption
        playScript(&state)
        if state.caption != caption { recorder?.setCaption(state.caption) }
        if let recorder {
            let failure = recorder.writer.failure
            let badge: RecordingBadge = failure == nil ? .on : .stopped
            if state.recording != badge {
                Reducer.receive(&state, .recording(badge, reason: failure), at: cluster.snapshot().time)
            }
        }
        return feed.next(timeline: timelineShown, caption: state.caption)
    }

    public func isBusy(_ frame: ClusterFrame) -> Bool {
        // A script keeps the frames coming even while nothing runs: its clock must advance.
        (player.map { !$0.isFinished } ?? false) || frame.snapshot.workers.contains { $0.state == .running }
    }

    public func carryOut(_ commands: [EngineCommand], _ state: inout ViewState) {
        for command in commands where !command.apply(to: cluster) {
            if command == .addWorker {
                Reducer.receive(&state, .say("worker limit reached (\(cluster.configuration.maxWorkers))", isError: true),
                                at: cluster.snapshot().time)
            }
        }
        if state.speedupMeasureRequested {
            Reducer.receive(&state, .speedupMeasureHandled, at: cluster.snapshot().time)
            startSpeedupMeasurement(&state)
        }
    }

    /// m: measures the speedup curve by playing `measure speedup` as a script, then puts the
    /// number of workers back as it was.
    private func startSpeedupMeasurement(_ state: inout ViewState) {
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

    /// Runs the script steps that are due, and shows the caption and view they ask for.
    private func playScript(_ state: inout ViewState) {
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
            feed.resetSpeedup()
        }
        Reducer.receive(&state, .script(caption: player.caption,
                                        view: player.requestedView.flatMap { DashboardPanel(rawValue: $0.rawValue) },
                                        measuring: player.measuring.map { SpeedupProgress(workers: $0.workers, upTo: $0.upTo) }),
                        at: now)
        player.requestedView = nil
        self.player = player
    }
}
