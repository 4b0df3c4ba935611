extension WorkerProcess {
    /// Every heartbeat: the threads' progress to the coordinator, the status file, and, every ten
    /// seconds, a summary line; ends the session when the coordinator has fallen silent.
    func sendHeartbeats(_ state: WorkerSessionState) async throws {
        var lastSummary = ContinuousClock.now
        var resultsAtSummary = outbox.results.load(ordering: .relaxed)
        var processedAtSummary = threads.reduce(UInt64(0)) { $0 + $1.processed.load(ordering: .relaxed) }
        while true {
            try await Task.sleep(for: state.heartbeat)
            guard state.joined else {
                status?.update(.connecting)
                continue
            }
            status?.update(.joined)
            // A stopped or hung coordinator (or a link cut for good) says nothing: give the
            // connection up and try again, within --retry-for, rather than wait for ever.
            if state.silence > state.silenceLimit {
                state.silent.store(true, ordering: .relaxed)
                throw CancellationError()
            }
            outbox.send(.with { $0.heartbeat = .with { $0.threads = threads.map(\.progress) } })
            // A summary every ten seconds instead of a line per chunk.
            let elapsed = ContinuousClock.now - lastSummary
            if !options.verbose, elapsed >= .seconds(10) {
                let results = outbox.results.load(ordering: .relaxed)
                let processed = threads.reduce(UInt64(0)) { $0 + $1.processed.load(ordering: .relaxed) }
                if results > resultsAtSummary {
                    let seconds = elapsed.inSeconds
                    let rate = Double(processed - processedAtSummary) / seconds
                    say("\(results - resultsAtSummary) chunks in the last \(Int(seconds.rounded())) s, "
                        + "\(Self.rate(rate)) elements/s (\(results) in all)")
                }
                lastSummary = .now
                resultsAtSummary = results
                processedAtSummary = processed
            }
        }
    }
}
