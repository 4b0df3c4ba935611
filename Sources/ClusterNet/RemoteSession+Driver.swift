import ClusterProtocol
import GRPCCore

/// The driver: feeds the session from the network, the real clock and the engine's wake-ups.
extension RemoteSession {
    /// Runs the session until every thread is released or the connection ends. Throws why it
    /// ended badly, if it did; the server turns that into the RPC's status. Either way, what
    /// the threads held goes back to the queue.
    /// `budget`: the coordinator's, for messages read but not yet handled by any session; this
    /// session also holds at most `messagesInFlight` of them. A reader over either waits, and
    /// TCP's flow control holds its peer back.
    mutating func run(messages: RPCAsyncSequence<WorkerMessage, any Error>,
                      writer: RPCWriter<CoordinatorMessage>, budget: MessageBudget) async throws {
        let continuation = self.continuation
        let heartbeat = timing.heartbeat
        let intake = SessionIntake(shared: budget, own: MessageBudget(limit: Self.messagesInFlight))
        defer {
            disconnectAll()
            intake.giveAllBack()
        }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                do {
                    for try await message in messages {
                        guard await intake.admit(message) else { return }  // cancelled: the session is over
                        continuation.yield(.message(message))
                    }
                    continuation.yield(.ended(nil))
                } catch {
                    continuation.yield(.ended(error))
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: heartbeat)
                    continuation.yield(.tick)
                }
            }
            defer { group.cancelAll() }
            var releasedAt: ContinuousClock.Instant?
            for await input in inputs {
                if let releasedAt {
                    // Released: the worker ends its side once it has read the releases. Until
                    // then they may still be on the way (a lossy link retransmits them), and a
                    // coordinator that exits now would reset the connection and lose them.
                    if case .ended = input { return }
                    if ContinuousClock.now - releasedAt > Self.releaseGrace { return }
                    continue
                }
                if case .message(let message) = input { intake.handled(message) }
                let (messages, done) = try receive(input, now: .now)
                if !messages.isEmpty { try await writer.write(contentsOf: messages) }
                if done {
                    if case .ended = input { return }
                    releasedAt = .now
                }
            }
        }
    }

    /// How long a released session waits for the worker to end its side.
    static let releaseGrace = Duration.seconds(2)
}
