import ClusterProtocol
import Foundation
import Synchronization

/// What one connection has learned, shared by its response handler and its heartbeat task.
final class WorkerSessionState: Sendable {
    private struct Values {
        var workerIDs: [UInt32] = []
        var heartbeat: Duration = .milliseconds(100)
        var joined = false
        var released: Set<UInt32> = []
        var held: Set<UInt32> = []
        var speeds: [UInt32: Double] = [:]
        var lease: Duration = .seconds(1)
        var lastHeard = ContinuousClock.now
    }
    private let values = Mutex(Values())

    var joined: Bool { values.withLock { $0.joined } }
    /// Set when no welcome came in time: the session was cancelled for that, not by the user.
    let timedOut = Atomic<Bool>(false)
    /// Set when the coordinator fell silent after the welcome: the session was ended for that.
    let silent = Atomic<Bool>(false)

    /// A message came from the coordinator.
    func heard() { values.withLock { $0.lastHeard = .now } }

    /// How long the coordinator may say nothing before the connection is given up: it pings
    /// every half second, so five leases, and never under 3 s, is silence, not a busy moment.
    var silenceLimit: Duration { values.withLock { max(.seconds(3), $0.lease * 5) } }

    /// How long the coordinator has said nothing.
    var silence: Duration { values.withLock { ContinuousClock.now - $0.lastHeard } }
    var heartbeat: Duration { values.withLock { $0.heartbeat } }
    var allReleased: Bool { values.withLock { $0.joined && $0.released.count == $0.workerIDs.count } }

    func welcome(_ welcome: Clustertop_V1_Welcome) {
        values.withLock {
            $0.workerIDs = welcome.workerIds
            $0.heartbeat = .milliseconds(max(10, Int(welcome.heartbeatMillis)))
            $0.lease = .milliseconds(max(100, Int(welcome.leaseMillis)))
            $0.joined = true
        }
    }

    /// "worker 7" for thread 2, once the coordinator has numbered the threads.
    func name(_ thread: UInt32) -> String {
        values.withLock { v in
            Int(thread) < v.workerIDs.count ? "worker \(v.workerIDs[Int(thread)])" : "thread \(thread)"
        }
    }

    func held(_ thread: UInt32) { values.withLock { _ = $0.held.insert(thread) } }

    /// A line for a new chunk when verbose, or when its speed differs from the last one.
    func assigned(_ assign: Clustertop_V1_Assign, verbose: Bool) -> String? {
        let speedChanged = values.withLock { $0.speeds.updateValue(assign.speed, forKey: assign.thread) != assign.speed }
        let who = name(assign.thread)
        if verbose {
            return "\(who) chunk \(assign.chunk): \(assign.first)...\(assign.last) (attempt \(assign.attempt))"
        }
        return speedChanged && assign.speed < 1 ? "\(who) runs at \(Int((assign.speed * 100).rounded()))%" : nil
    }

    /// A line when a thread resumes after a hold, or its speed changed.
    func proceeded(_ proceed: Clustertop_V1_Proceed) -> String? {
        let (wasHeld, oldSpeed) = values.withLock { v in
            (v.held.remove(proceed.thread) != nil, v.speeds.updateValue(proceed.speed, forKey: proceed.thread))
        }
        let who = name(proceed.thread)
        if wasHeld { return "\(who) resumed" }
        if let oldSpeed, oldSpeed != proceed.speed { return "\(who) runs at \(Int((proceed.speed * 100).rounded()))%" }
        return nil
    }

    /// Records a release; true when it was the last thread.
    func released(_ thread: UInt32, of count: Int) -> Bool {
        values.withLock { v in
            v.released.insert(thread)
            return v.released.count == count
        }
    }
}
