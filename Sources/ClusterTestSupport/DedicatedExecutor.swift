import Dispatch

/// A queue of its own for a test's network clients (a worker process run in the test, a peer
/// written by hand). Tests that block wait on threads of Swift concurrency's pool, two on a
/// 2-core machine: a client that needs one of them could wait there for a minute. Run a client
/// with `run`; its child tasks run here too.
public final class DedicatedExecutor: TaskExecutor {
    private let queue: DispatchQueue

    public init(_ label: String = "cluster-top.test-client") {
        queue = DispatchQueue(label: label)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs `body` here, with every child task it makes, and returns what it returns.
    public func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        await Task(executorPreference: self) { await body() }.value
    }

    /// `run` as an unstructured task, for a client that runs beside the test.
    public func start<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> Task<T, Never> {
        Task(executorPreference: self) { await body() }
    }
}
