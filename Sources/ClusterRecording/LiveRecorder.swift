import ClusterEngine
import Dispatch
import Synchronization

/// `--record FILE`: ten times a second, the cluster's frame (with its timeline, so every view
/// replays) is appended to the recording, on a queue of its own, whatever shows the run (the
/// dashboard, headless, `serve`). `finish()` records the last frame and closes the file.
public final class LiveRecorder: @unchecked Sendable {
    public let writer: RecordingWriter
    /// Touched on `queue` only.
    private let feed: ClusterFeed
    private let queue = DispatchQueue(label: "cluster-top.recorder")
    private let timer: any DispatchSourceTimer
    private let caption = Mutex<String?>(nil)
    public static let interval = 0.1

    public init(cluster: Cluster, writer: RecordingWriter, kernelPeaks: KernelPeaks? = nil) {
        self.writer = writer
        feed = ClusterFeed(cluster: cluster, kernelPeaks: kernelPeaks)
        timer = DispatchSource.makeTimerSource(queue: queue)
    }

    public func start() {
        let every = DispatchTimeInterval.milliseconds(Int(Self.interval * 1000))
        timer.schedule(deadline: .now(), repeating: every, leeway: .milliseconds(10))
        timer.setEventHandler { [self] in recordFrame() }
        timer.resume()
    }

    /// The caption the dashboard shows now, kept with the next frames.
    public func setCaption(_ text: String?) { caption.withLock { $0 = text } }

    private func recordFrame() {
        writer.append(feed.next(timeline: true, caption: caption.withLock { $0 }))
    }

    /// Records the frame of the end and closes the file.
    public func finish() {
        timer.cancel()
        queue.sync {
            recordFrame()
            writer.close()
        }
    }
}
