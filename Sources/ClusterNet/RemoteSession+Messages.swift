import ClusterEngine
import ClusterProtocol
import GRPCCore

/// What the worker sends: Hello, results, check-ins, heartbeats, and the answers to Pings.
extension RemoteSession {
    mutating func receive(_ message: WorkerMessage, now: ContinuousClock.Instant) throws {
        if let excess = MessageLimits.excess(of: message, threads: threads.count) {
            throw ProtocolViolation(description: excess)
        }
        switch message.kind {
        case .hello(let hello):
            try join(hello)
        case .results(let batch):
            try receive(batch.results)
            try receive(batch.threads)
        case .checkIn(let checkIn):
            let t = try threadIndex(checkIn.thread)
            // A check-in for an attempt we already took back crossed our Abandon: ignore it.
            guard threads[t].running == AttemptID(checkIn.attempt) else { return }
            let attempts = threads[t].attempts
            let elements = attempts[0].elements
            guard elements.lowerBound...(elements.upperBound + 1) ~= checkIn.position else {
                throw ProtocolViolation(description: "check-in at \(checkIn.position), outside its attempt \(elements)")
            }
            let (held, lapsed): (Bool, Bool) = switch threads[t] {
            case .parked(_, _, _, let held, let lapsed): (held, lapsed)
            case .lapsed: (false, true)
            default: (false, false)
            }
            threads[t] = .parked(attempts, position: checkIn.position, sum: checkIn.sum.value, held: held, lapsed: lapsed)
            // Exact progress where it stopped, so a paused row shows where it holds.
            tell(.progress(handles[t], attempt: attempts[0].id, done: checkIn.position - elements.lowerBound, processed: nil))
            answerCheckIn(t)
        case .heartbeat(let heartbeat):
            try receive(heartbeat.threads)
        case .pong(let pong):
            if let smoothed = roundTrip.pong(pong.nonce, at: now), let sample = roundTrip.lastSample {
                tell(.roundTrip(handles, seconds: smoothed.inSeconds, sample: sample.inSeconds))
            }
        case nil:
            throw ProtocolViolation(description: "a message of a kind this coordinator does not know")
        }
    }

    /// A Ping with the Welcome, then every `pingInterval` (`RoundTripEstimator`).
    mutating func sendPing(now: ContinuousClock.Instant) {
        guard !threads.isEmpty, let nonce = roundTrip.pingDue(at: now) else { return }
        send(.ping(.with { $0.nonce = nonce }))
    }

    /// Each thread's progress in the attempt it is on, if that is the one we think it runs.
    mutating func receive(_ progress: [Clustertop_V1_ThreadProgress]) throws {
        for progress in progress {
            let t = try threadIndex(progress.thread)
            let attempt = progress.attempt == 0 ? nil : AttemptID(progress.attempt)
            tell(.progress(handles[t], attempt: attempt == threads[t].running ? attempt : nil,
                           done: progress.done, processed: progress.processed))
        }
    }

    /// Results, in the order each thread finished them: those for the attempt a thread runs
    /// are handed in together, one engine step per thread, which also tops its queue up.
    mutating func receive(_ results: [Clustertop_V1_Result]) throws {
        var finished: [[(attempt: AttemptID, sum: UInt128)]] = Array(repeating: [], count: threads.count)
        var processed: [UInt64?] = Array(repeating: nil, count: threads.count)
        for result in results {
            let t = try threadIndex(result.thread)
            processed[t] = result.processed
            let attempt = AttemptID(result.attempt)
            guard threads[t].running == attempt else {
                // Sent before our Abandon reached it: fenced off and counted by the engine.
                tell(.discard(handles[t], attempt: attempt))
                continue
            }
            threads[t].finishRunning()
            finished[t].append((attempt, result.sum.value))
        }
        for t in threads.indices {
            if !finished[t].isEmpty {
                ask(.step(thread: t, handles[t], finished: finished[t], processed: processed[t]))
            } else if let count = processed[t] {
                tell(.progress(handles[t], attempt: nil, done: 0, processed: count))
            }
        }
    }

    mutating func join(_ hello: Clustertop_V1_Hello) throws {
        guard threads.isEmpty, !joining else { throw ProtocolViolation(description: "a second Hello") }
        guard hello.protocolVersion == WireProtocol.version else {
            throw RPCError(code: .failedPrecondition, message:
                "protocol version \(hello.protocolVersion) is not supported; this coordinator speaks version \(WireProtocol.version): use the same cluster-top release on both sides")
        }
        guard 1...WireProtocol.threadLimit ~= hello.threads else {
            throw RPCError(code: .invalidArgument, message: "a worker may offer 1 to \(WireProtocol.threadLimit) threads (got \(hello.threads))")
        }
        timing.lease = timing.lease(forNice: hello.nice)
        roundTrip.giveUpAfter = timing.lease
        let host = WireProtocol.printableHostName(hello.host, fallback: peer)
        self.host = host
        // Only a name this program knows is shown: the field is the client's word.
        let kernel = KernelVariant(rawValue: hello.kernel)?.rawValue ?? ""
        let infos = (0..<Int(hello.threads)).map {
            RemoteWorkerInfo(host: host, pid: hello.pid, thread: $0, kernel: kernel, instance: hello.instance,
                             address: address, unencrypted: !encrypted)
        }
        joining = true
        ask(.join(infos))
    }

    /// The engine's answer to a Hello: the threads' rows and the Welcome, or a refusal.
    mutating func joined(_ result: Result<[RemoteWorkerHandle], RemoteJoinRefusal>) throws {
        joining = false
        switch result {
        case .success(let joined):
            handles = joined
            threads = Array(repeating: .idle, count: joined.count)
        case .failure(.hostLimit(let address, let live, let limit)):
            throw JoinRefused(reason: "host limit of \(limit) threads", error: RPCError(code: .resourceExhausted, message:
                "\(address) already has \(live) worker threads here, and one host may have \(limit) at once "
                + "(serve --threads-per-host): offer fewer threads, or join from another machine"))
        case .failure(.full), .failure(.shuttingDown):
            throw JoinRefused(reason: "full", error: RPCError(code: .resourceExhausted, message:
                "the coordinator takes no more workers (it is full or shutting down)"))
        }
        send(.welcome(.with {
            $0.protocolVersion = WireProtocol.version
            $0.workerIds = handles.map { UInt32($0.id.rawValue) }
            $0.heartbeatMillis = UInt32(Self.milliseconds(timing.heartbeat))
            $0.leaseMillis = UInt32(Self.milliseconds(timing.lease))
            $0.subBlock = subBlock
        }))
        for t in threads.indices { service(t) }
        // The first Ping goes out with the Welcome: the sooner the round trip is known, the
        // sooner the queues cover it.
        sendPing(now: now)
    }

    func threadIndex(_ thread: UInt32) throws -> Int {
        guard !threads.isEmpty else { throw ProtocolViolation(description: "work messages before Hello") }
        guard thread < threads.count else {
            throw ProtocolViolation(description: "thread \(thread) does not exist (the worker offered \(threads.count))")
        }
        return Int(thread)
    }
}
