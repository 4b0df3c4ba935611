import ClusterEngine
import ClusterProtocol
import GRPCCore

/// Driving each thread: what the engine gives it, pauses and check-ins, and its lease.
extension RemoteSession {
    /// The engine changed something about thread `t`, or may have work for it.
    mutating func service(_ t: Int) {
        guard !threads[t].released, let status = cluster.remoteStatus(threads[t].id) else { return }
        // Queued attempts the engine took back (pause, removal, an idle worker's need) are void.
        let kept = Set(status.queued)
        for queued in threads[t].attempts.dropFirst() where !kept.contains(queued.id) && status.current != queued.id {
            abandon(queued.id, on: t)
            threads[t].attempts.removeAll { $0.id == queued.id }
        }
        while let attempt = threads[t].running {
            if status.current == attempt {
                if threads[t].parked != nil {
                    answerCheckIn(t)
                    return
                }
                if !threads[t].checkSent {
                    threads[t].checkSent = true
                    send(.check(.with { $0.thread = UInt32(t); $0.attempt = attempt.rawValue }))
                }
                // Resumed or sped up: its queue may need topping up.
                if status.state == .running { apply(cluster.step(threads[t].id), to: t) }
                return
            }
            if threads[t].zombie, threads[t].parked == nil { return }
            // Killed, or lost and stopped: the attempt is void, and so is everything queued
            // behind it unless the engine made it current.
            abandon(attempt, on: t)
            threads[t].finishRunning()
        }
        apply(cluster.step(threads[t].id), to: t)
    }

    mutating func abandon(_ attempt: AttemptID, on t: Int) {
        send(.abandon(.with { $0.thread = UInt32(t); $0.attempt = attempt.rawValue }))
    }

    /// Thread `t` is stopped at its parked position: ask the engine what it does now.
    mutating func answerCheckIn(_ t: Int) {
        guard let attempt = threads[t].running, let (position, sum) = threads[t].parked else { return }
        let wasHeld = threads[t].held
        threads[t].held = false
        switch cluster.checkIn(threads[t].id, attempt: attempt, position: position, sum: sum) {
        case let .proceed(last, speed):
            threads[t].parked = nil
            threads[t].attempts[0].elements = threads[t].attempts[0].elements.lowerBound...last
            send(.proceed(.with {
                $0.thread = UInt32(t); $0.attempt = attempt.rawValue; $0.last = last; $0.speed = speed
            }))
            apply(cluster.step(threads[t].id), to: t)  // resumed: top its queue up again
        case .hold:
            if !wasHeld { send(.hold(.with { $0.thread = UInt32(t); $0.attempt = attempt.rawValue })) }
            threads[t].held = true
        case .abandon:
            // A zombie's check-in is late work of an attempt its lost lease fenced off: discarded
            // and counted, as its result would have been, and it stops wasting time on it.
            if threads[t].zombie { cluster.remoteDiscardResult(threads[t].id, attempt: attempt) }
            abandon(attempt, on: t)
            threads[t].finishRunning()
            service(t)
        }
    }

    mutating func apply(_ step: WorkerStep, to t: Int) {
        switch step {
        case .run:
            for task in step.tasks {
                threads[t].attempts.append((task.attempt, task.elements))
                assign(.with {
                    $0.thread = UInt32(t)
                    $0.attempt = task.attempt.rawValue
                    $0.first = task.elements.lowerBound
                    $0.last = task.elements.upperBound
                    $0.speed = task.speed
                    $0.chunk = task.chunk
                })
            }
        case .wait:
            break
        case .exit:
            threads[t].released = true
            send(.release(.with { $0.thread = UInt32(t) }))
        }
    }

    mutating func send(_ kind: CoordinatorMessage.OneOf_Kind) {
        outgoing.append(.with { $0.kind = kind })
    }

    /// Adds to the assignments at the end of what goes out, if that is where they are, so one
    /// message carries every attempt handed out in a row.
    mutating func assign(_ attempt: Clustertop_V1_Assign) {
        if let last = outgoing.indices.last, case .assignments(var batch) = outgoing[last].kind {
            batch.assigns.append(attempt)
            outgoing[last].kind = .assignments(batch)
        } else {
            send(.assignments(.with { $0.assigns = [attempt] }))
        }
    }

    // MARK: Liveness

    mutating func checkLease(now: ContinuousClock.Instant) throws {
        if threads.isEmpty {
            if now - started > timing.helloTimeout {
                throw RPCError(code: .deadlineExceeded, message: "no Hello within \(timing.helloTimeout)")
            }
            return
        }
        // A tick much later than a heartbeat after the last one means this session's own loop was
        // starved (a loaded coordinator): what the worker sent meanwhile may still be unread, so
        // that time is not the worker's silence. Only time spent listening counts.
        let stall = now - lastTick - timing.heartbeat
        lastTick = now
        if stall > timing.heartbeat { lastHeard = min(now, lastHeard + stall) }
        let silence = now - lastHeard
        guard !leaseExpired, silence > timing.lease else { return }
        leaseExpired = true
        for t in threads.indices where !threads[t].released {
            if threads[t].running != nil, threads[t].parked == nil { threads[t].zombie = true }
            threads[t].checkSent = false
            cluster.remoteLost(threads[t].id, .leaseExpired(silence: Double(Self.milliseconds(silence)) / 1000))
        }
    }

    /// The connection is over: whatever the threads held goes back to the queue now.
    func disconnectAll() {
        continuation.finish()
        wakeTarget.close()
        for thread in threads where !thread.released { cluster.remoteLost(thread.id, .disconnected) }
    }
}
