import ClusterModel

/// What a frame read from a file must hold before the dashboard draws it: a recording may be
/// damaged or forged, and the dashboard assumes what a live engine guarantees (finite rates,
/// counts within their totals, rows in id order). The first thing that does not hold, or nil.
enum FrameCheck {
    /// No run lasts longer, nor goes faster: a time or a rate past these is forged, and would
    /// overflow where the dashboard counts it in Ints.
    static let longestSeconds = 1e9, fastestRate = 1e18

    static func problem(in frame: ClusterFrame) -> String? {
        let s = frame.snapshot
        // A count of seconds or a rate: finite, not negative, and within what a run can reach.
        func finite(_ value: Double, atLeast low: Double = 0) -> Bool { value.isFinite && value >= low && value <= fastestRate }
        func time(_ value: Double) -> Bool { value.isFinite && value >= 0 && value <= longestSeconds }
        // Its element count fits an Int64 (the dashboard counts `hi - lo + 1`).
        func countable(_ range: ClosedRange<Int64>) -> Bool {
            let (span, overflow) = range.upperBound.subtractingReportingOverflow(range.lowerBound)
            return !overflow && span < Int64.max
        }
        // A run's chunks are whole and at least one element each; their last index fits.
        func chunks(_ first: Int64, _ count: Int64, of range: ClosedRange<Int64>) -> Bool {
            first >= 0 && count >= 1 && count <= range.upperBound &- range.lowerBound &+ 1 && first <= Int64.max - count
        }
        guard time(s.time), finite(s.throughput), s.throughputHistory.allSatisfy({ finite($0) }),
              s.queuedJobs >= 0, s.finishedJobs >= 0, s.staleResults >= 0 else { return "the cluster's figures" }
        var previous: WorkerID?
        for w in s.workers {
            guard previous.map({ $0 < w.id }) ?? true, w.id.rawValue > 0 else { return "the workers' order" }
            previous = w.id
            guard finite(w.throughput), w.speed.isFinite, w.speed > 0, w.speed <= 1, w.chunksDone >= 0 else { return "\(w.id)'s figures" }
            if let a = w.assignment {
                guard countable(a.elements), a.elementsDone >= 0, a.elementsDone <= a.elementCount,
                      chunks(a.chunk, a.chunkCount, of: a.elements) else { return "\(w.id)'s chunk" }
            }
        }
        if let job = s.job {
            guard time(job.elapsed), job.chunksTotal == job.spec.chunkCount,
                  (0...job.chunksTotal).contains(job.chunksDone), (0...job.chunksTotal).contains(job.chunksInFlight),
                  job.chunksDone + job.chunksInFlight <= job.chunksTotal,
                  (0...job.elementsTotal).contains(job.elementsCompleted), (0...job.elementsTotal).contains(job.elementsInFlight),
                  [job.chunksRequeued, job.chunksRedone, job.chunksSplit, job.chunksStolen, job.wrongSums].allSatisfy({ $0 >= 0 })
            else { return "the job's figures" }
        }
        guard frame.events.allSatisfy({ time($0.seconds) }) else { return "an event's time" }
        guard frame.finishedJobs.allSatisfy({ time($0.elapsed) && $0.chunksRequeued >= 0 && $0.chunksSplit >= 0 }) else {
            return "a finished job's figures"
        }
        if let timeline = frame.timeline {
            guard time(timeline.now), time(timeline.segmentsCompleteFrom), timeline.jobStart.map(time) ?? true,
                  timeline.segments.allSatisfy({ time($0.start) && ($0.end.map(time) ?? true) && countable($0.elements) })
            else { return "the timeline's times" }
            guard timeline.segments.allSatisfy({ chunks($0.chunk, $0.chunkCount, of: $0.elements) }) else { return "the timeline's chunks" }
        }
        guard frame.speedup.sortedPoints.allSatisfy({ $0.workers > 0 && finite($0.throughput) && time($0.firstSample) && time($0.lastSample) })
        else { return "the speedup curve" }
        if let peaks = frame.kernelPeaks, !peaks.rates.values.allSatisfy({ finite($0) }) { return "the kernels' peaks" }
        return nil
    }
}
