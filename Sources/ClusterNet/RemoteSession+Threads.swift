import ClusterEngine
import ClusterProtocol
import GRPCCore

/// Driving each thread: what the engine gives it, pauses and check-ins, and its lease.
extension RemoteSession {
    /// The engine's answer to the question asked last.
    mutating func receive(_ answer: EngineAnswer) throws {
        switch answer {
        case .joined(let result): try joined(result)
        case .status(let t, let status): if threads.indices.contains(t) { service(t, status: status) }
        case .stepped(let t, let step): if threads.indices.contains(t) { apply(step, to: t) }
        case .checkedIn(let t, let answer): if threads.indices.contains(t) { answered(answer, checkInOf: t) }
        }
    }

    /// The engine changed something about thread `t`, or may have work for it: ask what its
    /// row holds now.
    mutating func service(_ t: Int) {
        guard !threads[t].isReleased else { return }
        ask(.status(thread: t, handles[t]))
    }

    /// What thread `t`'s row holds (`status`), against what was sent to it.
    mutating func service(_ t: Int, status: RemoteWorkerStatus?) {
        guard !threads[t].isReleased, let status else { return }
        // Queued attempts the engine took back (pause, removal, an idle worker's need) are void.
        let kept = Set(status.queued)
        var attempts = threads[t].attempts
        for queued in attempts.dropFirst() where !kept.contains(queued.id) && status.current != queued.id {
            abandon(queued.id, on: t)
            attempts.removeAll { $0.id == queued.id }
        }
        threads[t].setAttempts(attempts)
        while let attempt = threads[t].running {
            if status.current == attempt {
                switch threads[t] {
                case .parked:
                    answerCheckIn(t)
                    return
                case .running(let attempts, checking: false), .lapsed(let attempts):
                    // (A lapsed thread whose attempt the engine holds again is running it.)
                    threads[t] = .running(attempts, checking: true)
                    send(.check(.with { $0.thread = UInt32(t); $0.attempt = attempt.rawValue }))
                case .running, .idle, .released:
                    break
                }
                // Resumed or sped up: its queue may need topping up.
                if status.state == .running { ask(.step(thread: t, handles[t], finished: [], processed: nil)) }
                return
            }
            if case .lapsed = threads[t] { return }
            // Killed, or lost and stopped: the attempt is void, and so is everything queued
            // behind it unless the engine made it current.
            abandon(attempt, on: t)
            threads[t].finishRunning()
        }
        ask(.step(thread: t, handles[t], finished: [], processed: nil))
    }

    mutating func abandon(_ attempt: AttemptID, on t: Int) {
        send(.abandon(.with { $0.thread = UInt32(t); $0.attempt = attempt.rawValue }))
    }

    /// Thread `t` is stopped at its parked position: ask the engine what it does now.
    mutating func answerCheckIn(_ t: Int) {
        guard case .parked(let attempts, let position, let sum, _, _) = threads[t], let attempt = attempts.first else { return }
        ask(.checkIn(thread: t, handles[t], attempt: attempt.id, position: position, sum: sum))
    }

    /// The engine's answer to thread `t`'s check-in.
    mutating func answered(_ answer: CheckInAnswer, checkInOf t: Int) {
        guard case .parked(var attempts, let position, let sum, let held, let lapsed) = threads[t],
              let attempt = attempts.first?.id else { return }
        switch answer {
        case let .proceed(last, speed):
            attempts[0].elements = attempts[0].elements.lowerBound...last
            threads[t] = .running(attempts, checking: false)
            send(.proceed(.with {
                $0.thread = UInt32(t); $0.attempt = attempt.rawValue; $0.last = last; $0.speed = speed
            }))
            ask(.step(thread: t, handles[t], finished: [], processed: nil))  // resumed: top its queue up again
        case .hold:
            if !held { send(.hold(.with { $0.thread = UInt32(t); $0.attempt = attempt.rawValue })) }
            threads[t] = .parked(attempts, position: position, sum: sum, held: true, lapsed: lapsed)
        case .abandon:
            // A lapsed thread's check-in is late work of an attempt its lost lease fenced off:
            // discarded and counted, as its result would have been, and it stops wasting time.
            if lapsed { tell(.discard(handles[t], attempt: attempt)) }
            abandon(attempt, on: t)
            threads[t].finishRunning()
            service(t)
        }
    }

    /// What the engine gave thread `t`: attempts to queue, nothing yet, or its release.
    mutating func apply(_ step: WorkerStep, to t: Int) {
        switch step {
        case .run:
            var attempts = threads[t].attempts
            var assigns: [Clustertop_V1_Assign] = []
            for task in step.tasks {
                attempts.append(SentAttempt(id: task.attempt, elements: task.elements))
                assigns.append(.with {
                    $0.thread = UInt32(t)
                    $0.attempt = task.attempt.rawValue
                    $0.first = task.elements.lowerBound
                    $0.last = task.elements.upperBound
                    $0.speed = task.speed
                    $0.chunk = task.chunk
                })
            }
            threads[t].setAttempts(attempts)
            send(.assignments(.with { $0.assigns = assigns }))
        case .wait:
            break
        case .exit:
            threads[t] = .released
            send(.release(.with { $0.thread = UInt32(t) }))
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
        for t in threads.indices where !threads[t].isReleased {
            // Running (a Check on its way or not), it is left to finish; parked, it stays parked.
            if case .running(let attempts, _) = threads[t] { threads[t] = .lapsed(attempts) }
            tell(.lost(handles[t], .leaseExpired(silence: Double(Self.milliseconds(silence)) / 1000)))
        }
    }
}
