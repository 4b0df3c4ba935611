/// Work stealing's two decisions once no queued chunk is left for an idle worker, as pure
/// functions of what the engine knows: whose chunk to split, and where.
enum SplitPolicy {
    /// A worker holding an attempt of the running job.
    struct Candidate: Equatable {
        let index: Int
        /// Elements of its attempt not summed yet.
        let left: Int64
        let speed: Double
        /// Paused or pausing: it will never finish on its own.
        let isStopping: Bool
    }

    /// The candidate whose chunk has the most time left at its speed, a stopped one first, among
    /// those with at least `smallestSplit` elements and `worthSplitting` element-times left.
    static func victim(among candidates: [Candidate], smallestSplit: Int64, worthSplitting: Double) -> Int? {
        var best: (index: Int, score: Double)?
        for candidate in candidates where candidate.left >= smallestSplit {
            let score = candidate.isStopping ? 1e30 + Double(candidate.left) : Double(candidate.left) / candidate.speed
            guard score >= worthSplitting else { continue }
            if best.map({ score > $0.score }) ?? true { best = (candidate.index, score) }
        }
        return best?.index
    }

    /// How many of the `left` elements the victim keeps: a share in proportion to the two
    /// speeds, so that both finish together, or none when it has stopped.
    static func kept(of left: Int64, victimSpeed: Double, thiefSpeed: Double, victimStopping: Bool) -> Int64 {
        let speed = victimStopping ? 0 : victimSpeed
        return Int64(Double(left) * speed / (speed + thiefSpeed))
    }
}
