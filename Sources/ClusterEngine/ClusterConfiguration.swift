import Foundation
/// Tuning knobs of a `Cluster`. The defaults suit the dashboard; tests shrink them.
public struct ClusterConfiguration: Sendable {
    /// Elements a worker sums between two looks at its control state. Bounds pause and kill
    /// latency (64 Ki elements take well under a millisecond at full speed).
    public var subBlockSize: Int64 = 1 << 16
    /// The clock the engine, its worker threads and their tokens read (tests give a manual one).
    public var clock: EngineClock = .live
    /// The same for a remote worker's threads, told at its welcome. Larger: a remote thread
    /// also looks for results to send between sub-blocks, which at the IFMA kernel's speed (a
    /// sub-block of 64 Ki in 2 µs) was 4% of its time; it answers a pause or a kill after a
    /// network round trip anyway, to which 256 Ki (8 µs, or 110 µs at the scalar kernel's
    /// speed) adds little.
    public var remoteSubBlockSize: Int64 = 1 << 18
    /// The function that sums one sub-block. Tests substitute it to inject faults or to hold a
    /// worker at a precise point; everything else uses the real kernel.
    public var kernel: @Sendable (Int64, Int64) -> UInt128 = SumOfSquaresKernel.standard
    /// Workers sum only while holding one of these (see `CPUTokens`): the process's, one per
    /// core. A test whose kernel blocks on purpose gives its workers tokens that never run out.
    public var cpuTokens: CPUTokens = .shared
    /// Record every accepted chunk index in the job summary (costs memory per chunk; for tests).
    public var auditsAcceptedChunks = false
    /// How many recent events the log keeps.
    public var eventCapacity = 4096
    /// How many finished chunk attempts the task timeline keeps.
    public var timelineCapacity = 4096
    /// Throughput history resolution and length, for sparklines.
    public var historyInterval: Double = 0.5
    public var historyLength = 240
    /// Throughput is averaged over about this many seconds.
    public var rateWindow: Double = 1.0
    /// Seconds between the sampler's readings of the workers' counters (`Cluster.sample()`):
    /// nil for 20 per rate window; infinity for none but the ones a test asks for.
    public var samplingInterval: Double?
    /// This machine's cores: while more of its workers run than this, they take turns and none
    /// is judged a straggler (see `StragglerWatch`).
    public var cores = ProcessInfo.processInfo.activeProcessorCount
    /// Work, in time at its measured pace, a remote worker keeps queued behind its current
    /// attempt (at least one attempt, at most 1,024): enough that its process may hold results
    /// back a few milliseconds to send several in one message, and a round trip never leaves a
    /// thread without work, whether its chunks are tiny or large. 0 sizes queues by
    /// `remoteQueueElements` always.
    public var remoteQueueSeconds: Double = 0.025
    /// Elements' worth of attempts a remote worker keeps queued until its pace is known (at
    /// least one attempt, at most 1,024).
    public var remoteQueueElements: Int64 = 48_000_000
    /// How much work, in time at its own measured rate, a local thread claims beyond its current
    /// attempt (at most 256 attempts). With chunks shorter than this it visits the engine, and
    /// takes its lock, once per batch instead of once per chunk, handing in the batch's results
    /// together; chunks longer than this are claimed one at a time, as are a worker's first.
    /// 0 claims one at a time always.
    public var localClaimAheadSeconds: Double = 100e-6
    /// With chunks much shorter than this, a local thread's attempt covers a run of whole
    /// consecutive chunks lasting about this long at its measured pace, so that the engine's
    /// work per attempt is done once per run (`EngineState.runLength`). Not under work
    /// stealing, and only while claiming ahead (`localClaimAheadSeconds` > 0). 0: one chunk
    /// per attempt always.
    public var localRunSeconds: Double = 50e-6
    /// Upper bound on workers alive at once (removed ones do not count), so a runaway key or
    /// script cannot exhaust threads, while machines may come and go for as long as they like.
    public var maxWorkers = 1024
    /// Rows in the engine's table at most, live and removed: a removed worker keeps its row (for
    /// the dashboard and the jobs' shares) until a new worker needs the place; then the row
    /// removed longest ago is freed, and the newcomer takes it under a new id. Ids grow for as
    /// long as workers come and go; the table, and the memory it takes, does not.
    public var maxWorkerRecords = 2_048
    /// Live remote worker threads one host (one network address) may hold at once: a token
    /// holder on one machine cannot take every place (`maxWorkers`) from everyone else.
    public var maxRemoteWorkersPerHost = 256
    /// Once a worker finds nothing left to take, an attempt that has run this long and made no
    /// progress, or (except under the static schedule) that is far behind, gets a backup attempt
    /// on it (see `BackupPolicy`). Infinity: never.
    public var backupWatchSeconds: Double = 1
    /// How often the engine looks for attempts that deserve a backup while workers are idle.
    public var backupCheckInterval: Double = 0.25

    public init() {}
}
