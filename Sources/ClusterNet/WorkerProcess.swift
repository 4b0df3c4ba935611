import ClusterEngine
import ClusterProtocol
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// The worker process: joins a coordinator, runs its threads' attempts, reconnects with backoff
/// when the coordinator is not reachable (yet, or any more), and says what happens, one line per
/// event.
public final class WorkerProcess: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The coordinator released every thread: the job is over or the coordinator stopped.
        case released
        /// The coordinator turned this worker away; the message says why.
        case refused(String)
        /// It could not be reached for `retryFor` seconds (`seconds`, as measured).
        case unreachable(String, seconds: Double)
    }

    let options: WorkerOptions
    let say: @Sendable (String) -> Void
    let outbox = Outbox()
    let threads: [RemoteThread]
    let status: WorkerStatusFile?
    /// Sent in every Hello: the coordinator gives a process that reconnects its rows back.
    let instance = UInt64.random(in: 1...UInt64.max)

    /// This process's nice value (what `nice -n` set), sent in Hello for a longer lease. Read
    /// from the main thread: on Linux nice is per thread, and Dispatch moves its own threads'
    /// by their quality of service.
    static var niceValue: Int32 {
        errno = 0  // -1 is a valid answer: only errno tells a failure
        #if os(Linux)
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(getpid()))
        #else
        let value = getpriority(PRIO_PROCESS, 0)
        #endif
        return errno == 0 ? value : 0
    }

    public init(options: WorkerOptions, say: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.say = say
        let outbox = self.outbox
        let threads = (0..<options.threads).map { RemoteThread(index: $0, outbox: outbox, kernel: options.kernel, tokens: options.cpuTokens) }
        self.threads = threads
        status = options.statusFile.map { WorkerStatusFile(path: $0, coordinator: options.coordinator.description) }
        outbox.reportProgress { threads.map(\.progress) }
    }

    /// Runs until released, refused or out of retries; cancel the task to leave at once (the
    /// coordinator then re-queues whatever the threads held).
    public func run() async -> Outcome {
        for thread in threads { thread.start() }
        defer {
            for thread in threads { thread.post(.quit) }
            status?.remove()
        }
        var delay = 0.1
        // Since when the coordinator has been out of reach: from the first attempt, or from the
        // loss of a session that had joined. `retryFor` counts from there, and no attempt or
        // wait may run past it, however the transport fails (a listener that never answers
        // holds an attempt until its handshake times out).
        var failingSince = ContinuousClock.now
        say("connecting to \(options.coordinator) with \(threads.count) thread\(threads.count == 1 ? "" : "s"), "
            + "\(KernelVariant.active) kernel")
        while !Task.isCancelled {
            status?.update(.connecting)
            let deadline = failingSince + .seconds(options.retryFor)
            // At least a second for one attempt, so --retry-for 0 still tries once.
            let attemptTime = min(options.handshakeTimeout, max(.seconds(1), deadline - .now))
            let session = await connect(handshakeTimeout: attemptTime)
            for thread in threads { thread.post(.reset) }
            switch session {
            case .released:
                return .released
            case .refused(let reason):
                return .refused(reason)
            case .cancelled:
                return .released
            case .failed(var reason, let joined):
                // A plain-text hello to a TLS listener is closed before HTTP/2 starts. Retrying
                // cannot help, so when the listener proves to speak TLS the worker stops at once.
                if options.check == .insecure, reason.contains("connection preface") {
                    if await Self.speaksTLS(options.coordinator) {
                        return .refused("it serves TLS and this worker spoke plain text (--insecure): "
                            + "leave out --insecure and join with the --join code it shows (or its --fingerprint)")
                    }
                    reason += " Is the coordinator serving TLS? Unless it was started with --insecure, join with the --join code it shows (or its --fingerprint)"
                }
                if joined {
                    failingSince = .now
                    delay = 0.1
                    say("lost the connection to \(options.coordinator) (\(reason)); reconnecting")
                }
                let left = failingSince + .seconds(options.retryFor) - .now
                if left <= .zero {
                    return .unreachable(reason, seconds: (ContinuousClock.now - failingSince).inSeconds)
                }
                let wait = min(.seconds(delay), left)
                if !joined {
                    say("cannot reach \(options.coordinator) (\(reason)); retrying in \(Self.seconds(wait))")
                }
                status?.update(.connecting)
                try? await Task.sleep(for: wait)
                delay = min(delay * 2, 5)
            }
        }
        return .released
    }

    /// The blocking probe runs off Swift concurrency's threads, which must never wait on a socket.
    private static func speaksTLS(_ endpoint: Endpoint) async -> Bool {
        await withCheckedContinuation { done in
            DispatchQueue.global().async { done.resume(returning: TLSListenerProbe.speaksTLS(endpoint)) }
        }
    }
}
