import Dispatch
import Synchronization

/// The part of a worker that its thread and the controllers share without the engine lock.
///
/// The worker reads `controlEpoch` once per sub-block (one relaxed load) and takes the lock only
/// when it changed. Progress is published with one store per sub-block, never per element.
final class WorkerCell: Sendable {
    let id: WorkerID
    /// Bumped under the engine lock whenever a controller changes this worker.
    let controlEpoch = Atomic<UInt64>(0)
    /// Elements done in the current attempt.
    let attemptProgress = Atomic<Int64>(0)
    /// Elements ever summed by this worker (only its own thread writes it).
    let processed = Atomic<UInt64>(0)
    /// Parks the thread while it is idle, paused, dead or throttled.
    let wakeup = DispatchSemaphore(value: 0)
    /// A remote worker has no thread to park: its session is told instead. It must not block or
    /// call into the cluster, since it runs with the engine lock held.
    let onWake: (@Sendable () -> Void)?

    init(id: WorkerID, onWake: (@Sendable () -> Void)? = nil) {
        self.id = id
        self.onWake = onWake
    }

    /// Tells the worker to look at its control state now. Call with the engine lock held.
    func poke() {
        controlEpoch.wrappingAdd(1, ordering: .releasing)
        wake()
    }

    /// Ends a wait: the worker looks for work or at its control state.
    func wake() {
        if let onWake { onWake() } else { wakeup.signal() }
    }
}
