import Testing
@testable import ClusterEngine
@testable import ClusterDashboard

/// Builds snapshots by hand, so view tests control every number they assert on.
enum Fixtures {
    static func worker(_ id: Int, _ state: WorkerState = .running, chunk: Int64? = 7, done: Int64 = 500,
                       speed: Double = 1, leaving: Bool = false, redo: Bool = false, stolen: Bool = false,
                       throughput: Double = 1.5e9, chunksDone: Int = 12, accepted: UInt64 = 1_000) -> WorkerSnapshot {
        WorkerSnapshot(
            id: WorkerID(id), state: state, isLeaving: leaving, speed: speed,
            assignment: chunk.map {
                ChunkAssignment(job: JobID(1), chunk: $0, attempt: AttemptID(UInt64(id) * 100), elements: (1_000 * $0 + 1)...(1_000 * $0 + 1_000),
                                elementsDone: done, origin: redo ? .redo(lostBy: WorkerID(99)) : stolen ? .split(from: WorkerID(99)) : .fresh,
                                wasSplit: false)
            },
            elementsProcessed: accepted, elementsAccepted: accepted, chunksDone: chunksDone, throughput: throughput)
    }

    static func job(status: JobStatus = .running, total: UInt128 = 123_456_789, done: Int64 = 40,
                    schedule: SchedulePolicy = .dynamic, split: Int64 = 0) throws -> JobSnapshot {
        JobSnapshot(
            id: JobID(1), spec: try JobSpec(lo: 1, hi: 100_000, chunkSize: 1_000, schedule: schedule), status: status,
            chunksTotal: 100, chunksDone: done, chunksInFlight: 2, chunksRequeued: 1, chunksRedone: 1,
            chunksSplit: split, chunksStolen: 0,
            elementsCompleted: done * 1_000, elementsInFlight: 0, runningTotal: total, elapsed: 12.5,
            closedForm: status.isFinished ? "333338333350000" : nil)
    }

    static func snapshot(workers: [WorkerSnapshot], job: JobSnapshot?, time: Double = 20) -> ClusterSnapshot {
        ClusterSnapshot(time: time, job: job, queuedJobs: 0, finishedJobs: 0, workers: workers,
                        throughput: workers.reduce(0) { $0 + $1.throughput },
                        throughputHistory: [1e9, 2e9, 3e9, 3e9], staleResults: 2, lastEventSequence: 0)
    }

    static func events(_ kinds: [ClusterEventKind]) -> [ClusterEvent] {
        kinds.enumerated().map { ClusterEvent(sequence: UInt64($0.offset + 1), seconds: Double($0.offset), kind: $0.element) }
    }

    static func render(_ snapshot: ClusterSnapshot, events: [ClusterEvent] = [], state: ViewState = ViewState(),
                       width: Int = 80, height: Int = 24, capabilities: Capabilities = .full,
                       timeline: TimelineSnapshot? = nil, speedup: SpeedupTracker = SpeedupTracker(),
                       cores: Int = 2) -> DashboardFrame {
        DashboardView.render(DashboardInput(snapshot: snapshot, events: events, state: state, width: width,
                                            height: height, capabilities: capabilities, timeline: timeline,
                                            speedup: speedup, cores: cores))
    }

    static func segment(_ worker: Int, chunk: Int64, _ start: Double, _ end: Double?, _ outcome: TimelineSegment.Outcome = .done,
                        origin: AttemptOrigin = .fresh, split: Bool = false, job: Int = 1) -> TimelineSegment {
        TimelineSegment(worker: WorkerID(worker), job: JobID(job), chunk: chunk, attempt: AttemptID(UInt64(chunk) * 10 + UInt64(worker)),
                        elements: (chunk * 1_000 + 1)...(chunk * 1_000 + 1_000), start: start, end: end,
                        outcome: end == nil ? .inFlight : outcome, origin: origin, wasSplit: split)
    }
}

extension Fixtures {
    /// A timeline as the engine would give it for job `job` started at `jobStart` (seconds of the
    /// cluster's clock, which starts at 0): the exact segments, and the whole job painted from them.
    static func timeline(now: Double, segments: [TimelineSegment], jobStart: Double, job: Int = 1,
                         pauses: [(worker: Int, from: Double, to: Double)] = [], segmentsCompleteFrom: Double = 0) -> TimelineSnapshot {
        func nanos(_ seconds: Double) -> UInt64 { UInt64((seconds * 1e9).rounded()) }
        var whole = JobTimeline(job: JobID(job), startNanos: nanos(jobStart))
        for segment in segments where segment.job == JobID(job) {
            let mark = TimelineMark(outcome: segment.outcome, origin: segment.origin, wasSplit: segment.wasSplit, chunk: segment.chunk)
            whole.paint(mark, worker: segment.worker, from: nanos(segment.start), to: nanos(segment.end ?? now))
        }
        for pause in pauses { whole.paint(.paused, worker: WorkerID(pause.worker), from: nanos(pause.from), to: nanos(pause.to)) }
        return TimelineSnapshot(now: now, segments: segments, whole: whole, jobStart: jobStart,
                                segmentsCompleteFrom: segmentsCompleteFrom)
    }
}

/// Failure messages show a buffer as the screen a person would read, not as a dump of cells.
extension CellBuffer: CustomTestStringConvertible {
    public var testDescription: String { "\n" + lines.joined(separator: "\n") }
}
