import ClusterProtocol

extension WorkerProcess {
    /// Routes one message from the coordinator to the thread it is for.
    func dispatch(_ message: CoordinatorMessage, state: WorkerSessionState) {
        state.heard()
        func thread(_ index: UInt32) -> RemoteThread? {
            guard index < threads.count else {
                say("ignored a message for thread \(index), which does not exist")
                return nil
            }
            return threads[Int(index)]
        }
        switch message.kind {
        case .welcome(let welcome):
            state.welcome(welcome)
            status?.update(.joined)
            for thread in threads { thread.setSubBlock(welcome.subBlock) }
            let ids = welcome.workerIds.map(String.init).joined(separator: ", ")
            say("joined \(options.coordinator) as worker\(welcome.workerIds.count == 1 ? "" : "s") \(ids) "
                + "(heartbeat \(welcome.heartbeatMillis) ms, lease \(welcome.leaseMillis) ms)")
        case .assignments(let batch):
            for assign in batch.assigns {
                guard let target = thread(assign.thread) else { continue }
                target.post(.assign(attempt: assign.attempt, first: assign.first, last: assign.last, speed: assign.speed))
                if let line = state.assigned(assign, verbose: options.verbose) { say(line) }
            }
        case .check(let check):
            thread(check.thread)?.post(.check(attempt: check.attempt))
        case .proceed(let proceed):
            guard let target = thread(proceed.thread) else { return }
            target.post(.proceed(attempt: proceed.attempt, last: proceed.last, speed: proceed.speed))
            if let line = state.proceeded(proceed) { say(line) }
        case .hold(let hold):
            thread(hold.thread)?.post(.hold(attempt: hold.attempt))
            say("\(state.name(hold.thread)) paused (attempt \(hold.attempt) kept)")
            state.held(hold.thread)
        case .abandon(let abandon):
            guard let target = thread(abandon.thread) else { return }
            target.post(.abandon(attempt: abandon.attempt))
            // Queued attempts go back by the dozen on a pause; only the running one is news.
            if options.verbose || target.attempt.load(ordering: .relaxed) == abandon.attempt {
                say("\(state.name(abandon.thread)) abandoned attempt \(abandon.attempt): the coordinator took it back")
            }
        case .ping(let ping):
            // At once: the coordinator sizes the threads' queues by this round trip.
            outbox.send(.with { $0.pong = .with { $0.nonce = ping.nonce } })
        case .release(let release):
            guard thread(release.thread) != nil else { return }
            say("\(state.name(release.thread)) released")
            if state.released(release.thread, of: threads.count) { outbox.finish() }
        case nil:
            say("ignored a message of a kind this worker does not know (is the coordinator newer?)")
        }
    }

    /// A client transport to `endpoint`. An address is dialled as one, not looked up as a name:
}
