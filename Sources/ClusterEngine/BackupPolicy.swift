/// Backup attempts at the tail of a job (MapReduce's backup tasks): once a worker finds nothing
/// left to take, it may run from scratch a copy of another worker's attempt that is far behind;
/// the first of the two to hand in wins. What is here is only the choice, as pure functions.
///
/// An attempt is judged only after `watchNanos` of running, so a short one never gets a copy.
/// One that has made no progress in that time has stalled (a worker that heartbeats but never
/// sums, or is stuck); one that has made some is backed up only if, at the pace it shows, it
/// would still need more than `slowerBy` times what the copy would take from scratch. Under the
/// static schedule, whose point is that nobody takes another's work, only an attempt that has
/// stalled or crawls (`crawlingBy` times slower than the copy: a liar, or a machine that has all
/// but stopped; never a lesson's straggler at 10% or more) is.
struct BackupPolicy {
    /// An attempt that might get a backup.
    struct Candidate: Equatable {
        /// The worker holding it (an index into the engine's workers).
        let index: Int
        let elements: Int64
        /// Elements of it done, as last reported.
        let done: Int64
        /// How long it has been running.
        let elapsedNanos: UInt64
    }

    let watchNanos: UInt64
    /// A copy must be expected to finish this many times sooner than the attempt to be worth it.
    static let slowerBy = 2.0
    /// An attempt whose pace is this many times slower than a copy's crawls: backed up under
    /// every schedule, and its worker benched once the copy wins. A throttle goes down to 10%,
    /// ten times slower; a worker reporting fake progress is millions of times slower.
    static let crawlingBy = BenchReason.crawlingBy

    /// Whether `candidate` has stalled: judged, and nothing of it done.
    func hasStalled(_ candidate: Candidate) -> Bool {
        candidate.elapsedNanos >= watchNanos && candidate.done <= 0
    }

    /// Nanoseconds `candidate` still needs at the pace it has shown; infinite if it has stalled.
    func remainingNanos(_ candidate: Candidate) -> Double {
        guard candidate.done > 0 else { return .infinity }
        let left = max(0, candidate.elements - candidate.done)
        return Double(left) * Double(candidate.elapsedNanos) / Double(candidate.done)
    }

    /// Whether `candidate` goes `crawlingBy` times slower than a worker summing at
    /// `nanosPerElement` (0: unknown, so nobody is judged against it).
    static func isCrawling(done: Int64, elapsedNanos: UInt64, against nanosPerElement: Double) -> Bool {
        guard done > 0, nanosPerElement > 0 else { return false }
        return Double(elapsedNanos) / Double(done) > crawlingBy * nanosPerElement
    }

    /// Whether a copy on a worker summing at `nanosPerElement` (0: unknown) is worth starting.
    /// `onlyStalled`: under the static schedule, only one that has stalled or crawls is.
    func deservesBackup(_ candidate: Candidate, thiefNanosPerElement: Double, onlyStalled: Bool) -> Bool {
        guard candidate.elapsedNanos >= watchNanos else { return false }
        if hasStalled(candidate) { return true }
        if Self.isCrawling(done: candidate.done, elapsedNanos: candidate.elapsedNanos, against: thiefNanosPerElement) {
            return true
        }
        guard !onlyStalled, thiefNanosPerElement > 0 else { return false }
        let copy = Double(candidate.elements) * thiefNanosPerElement
        return remainingNanos(candidate) > Self.slowerBy * copy
    }

    /// Of the attempts that deserve a backup, the one that would finish last.
    func choose(among candidates: [Candidate], thiefNanosPerElement: Double, onlyStalled: Bool) -> Candidate? {
        candidates
            .filter { deservesBackup($0, thiefNanosPerElement: thiefNanosPerElement, onlyStalled: onlyStalled) }
            .max { (remainingNanos($0), $0.elapsedNanos) < (remainingNanos($1), $1.elapsedNanos) }
    }
}
