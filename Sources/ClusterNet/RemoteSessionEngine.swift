import ClusterEngine
import ClusterProtocol

/// What the session asks of the engine and waits for: its driver asks at once and feeds the
/// answer back (`RemoteSession.Input.answer`) before anything else happens.
enum EngineQuestion {
    /// A Hello offers these threads: rows for them, or why not.
    case join([RemoteWorkerInfo])
    /// What thread `thread`'s row holds now.
    case status(thread: Int, RemoteWorkerHandle)
    /// Hand in what thread `thread` finished (if anything) and say what it does next.
    case step(thread: Int, RemoteWorkerHandle, finished: [(attempt: AttemptID, sum: UInt128)], processed: UInt64?)
    /// Thread `thread` stopped at `position` in `attempt`: go on, hold, or abandon?
    case checkIn(thread: Int, RemoteWorkerHandle, attempt: AttemptID, position: Int64, sum: UInt128)
}

/// The engine's answer to an `EngineQuestion`.
enum EngineAnswer {
    case joined(Result<[RemoteWorkerHandle], RemoteJoinRefusal>)
    case status(thread: Int, RemoteWorkerStatus?)
    case stepped(thread: Int, WorkerStep)
    case checkedIn(thread: Int, CheckInAnswer)
}

/// What the session tells the engine, expecting no answer.
enum EngineNotice {
    /// Progress in `attempt` (nil: not the one the engine gave it), and the process's count.
    case progress(RemoteWorkerHandle, attempt: AttemptID?, done: Int64, processed: UInt64?)
    /// A result for an attempt no longer the thread's: fenced off and counted.
    case discard(RemoteWorkerHandle, attempt: AttemptID)
    case roundTrip([RemoteWorkerHandle], seconds: Double, sample: Double)
    /// The thread's lease lapsed, or its connection ended: what it held goes back to the queue.
    case lost(RemoteWorkerHandle, RemoteLoss)
    /// A message came after the lease had lapsed: the thread is alive again.
    case heardFrom(RemoteWorkerHandle)
}

/// What one input makes the session do, in order.
enum SessionAction {
    case send(CoordinatorMessage)
    case tell(EngineNotice)
    case ask(EngineQuestion)
}
