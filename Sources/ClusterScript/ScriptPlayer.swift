import ClusterEngine

/// Plays a script against a cluster, a little at a time: the dashboard and headless mode call
/// `advance(now:)` several times a second and show what it did.
public struct ScriptPlayer {
    /// One step that ran, as a line for the event log or headless output.
    public struct Played: Sendable, Equatable {
        public let line: Int
        public let text: String
        /// The step could not do what it says (it named a worker that does not exist).
        public var isError = false
        /// A finding worth a status line on the dashboard (what a speedup measurement measured).
        public var isFinding = false
    }

    public let script: Script
    public let cores: Int
    private var index = 0
    private var startTime: Double?
    private var previousTime = 0.0
    private var schedule = SchedulePolicy.dynamic
    private var chunkSize = JobSpec.defaultChunkSize

    /// The caption to show, if the script set one.
    public private(set) var caption: String?
    /// The panel the script asked for, if any; the dashboard consumes it.
    public var requestedView: ScriptView?
    /// Jobs the script submitted, in order.
    public private(set) var jobs: [JobID] = []
    /// Steps that could not do what they say; a script with any ends with a non-zero status.
    public private(set) var errors = 0
    /// The speedup measurement under way (or the last one), and what it measured.
    private var measurement: SpeedupMeasurement?
    public private(set) var speedup = SpeedupTracker()
    /// The measurement under way: the worker count now, and the last one.
    public var measuring: (workers: Int, upTo: Int)? {
        guard let measurement, let wanted = measurement.wanted else { return nil }
        return (wanted, measurement.counts.last ?? wanted)
    }
    /// Set when a measurement starts, for the dashboard to forget the points it had; consumed there.
    public var requestedSpeedupReset = false
    /// What `journal on` keeps the jobs in, and `crash coordinator` rebuilds from; without one,
    /// `journal on` is an error and a crash loses everything.
    public var journal: LessonJournal?

    public init(script: Script, cores: Int) {
        self.script = script
        self.cores = max(1, cores)
    }

    /// True once every step has run.
    public var isFinished: Bool { index == script.steps.count }

    /// When the next step is due (the cluster's clock, in seconds); nil when none is, or when the
    /// next one is a wait, which ends when the jobs have finished, not at a time.
    public var nextDue: Double? {
        guard index < script.steps.count, let startTime else { return nil }
        switch script.steps[index].timing {
        case _ where script.steps[index].action.isWait: return nil
        case .at(let t): return startTime + t
        case .after(let d): return previousTime + d
        }
    }

    /// Runs every step due at `now` (the cluster's clock, in seconds) and returns what ran.
    public mutating func advance(now: Double, cluster: Cluster) -> [Played] {
        if startTime == nil {
            startTime = now
            previousTime = now
        }
        var played: [Played] = []
        while index < script.steps.count {
            let step = script.steps[index]
            let due = switch step.timing {
            case .at(let t): startTime! + t
            case .after(let d): previousTime + d
            }
            guard now >= due else { break }
            if case .wait(let condition) = step.action, !Self.holds(condition, cluster.snapshot()) { break }
            if case .measureSpeedup(let upTo) = step.action, !measuring(upTo: upTo, on: cluster) { break }
            // A step runs at its due time, so delays after it do not drift with the polling rate;
            // a wait ends when it is noticed.
            previousTime = step.action.isWait ? now : due
            let result = perform(step.action, on: cluster)
            if result.isError { errors += 1 }
            played.append(Played(line: step.line, text: result.text, isError: result.isError, isFinding: result.isFinding))
            index += 1
        }
        return played
    }

    static func holds(_ condition: ScriptWait, _ snapshot: ClusterSnapshot) -> Bool {
        let allFinished = snapshot.queuedJobs == 0 && (snapshot.job.map { $0.status.isFinished } ?? true)
        switch condition {
        case .jobsFinished: return allFinished
        case .progress(let fraction): return allFinished || (snapshot.job.map { $0.progress >= fraction } ?? false)
        }
    }

    /// Runs the speedup measurement one poll further; true once it is over (done, or stopped
    /// because no job runs), and `perform` then says how it went.
    private mutating func measuring(upTo: WorkerCount, on cluster: Cluster) -> Bool {
        let snapshot = cluster.snapshot()
        guard snapshot.job?.status == .running else { return true }
        if measurement == nil {
            measurement = SpeedupMeasurement(upTo: upTo.resolved(cores: cores))
            speedup.reset()
            requestedSpeedupReset = true
            // Throttled or paused workers would spoil every sample.
            for worker in snapshot.workers where worker.state != .removed {
                if worker.speed < 1 { cluster.setSpeed(worker.id, to: 1) }
                if worker.state == .paused || worker.state == .pausing { cluster.resume(worker.id) }
            }
        }
        speedup.record(snapshot)
        measurement!.advance(speedup)
        guard let wanted = measurement!.wanted else { return true }
        cluster.setLiveWorkers(wanted)
        return false
    }

    /// How the measurement went, as a step's result.
    private mutating func measured() -> StepResult {
        defer { measurement = nil }
        let points = speedup.sortedPoints
        let rates = points.map { point in
            let base = speedup.baseThroughput.map { " (\(NumberText.fixed(point.throughput / $0, decimals: 2))x)" } ?? ""
            return "\(point.workers): \(NumberText.fixed(point.throughput / 1e9, decimals: 2))G/s\(base)"
        }.joined(separator: ", ")
        guard let measurement, measurement.wanted == nil else {
            let why = measurement?.wanted.map { "the job ended at \($0) worker\($0 == 1 ? "" : "s")" } ?? "no job was running"
            return StepResult(text: "measure speedup: \(why); submit a job long enough to measure"
                              + (rates.isEmpty ? "" : " (measured \(rates))"), isError: true)
        }
        return StepResult(text: "speedup measured: " + rates, isFinding: true)
    }

    /// "live workers: 1, 2, 3", at most eight named.
    static func liveList(_ ids: [WorkerID]) -> String {
        guard !ids.isEmpty else { return "no worker is live" }
        let named = ids.prefix(8).map { String($0.rawValue) }.joined(separator: ", ")
        return "live workers: " + named + (ids.count > 8 ? " and \(ids.count - 8) more" : "")
    }

    /// What a step did, as text, and whether it failed.
    private struct StepResult {
        var text: String
        var isError = false
        var isFinding = false
    }

    private mutating func perform(_ action: ScriptAction, on cluster: Cluster) -> StepResult {
        let snapshot = cluster.snapshot()
        let live = snapshot.workers.filter { $0.state != .removed && !$0.isLeaving }
        func apply(_ verb: String, _ target: WorkerTarget, _ body: (WorkerID) -> Bool) -> StepResult {
            switch target {
            case .all:
                let done = live.map(\.id).filter(body)
                return StepResult(text: done.isEmpty && !live.isEmpty ? "\(verb) all workers: nothing to do" : "\(verb) all workers")
            case .worker(let n):
                let worker = WorkerID(n)
                guard live.contains(where: { $0.id == worker }) else {
                    return StepResult(text: "\(verb) \(worker): there is no \(worker); \(Self.liveList(live.map(\.id)))",
                                      isError: true)
                }
                return StepResult(text: body(worker) ? "\(verb) \(worker)" : "\(verb) \(worker): nothing to do")
            }
        }
        switch action {
        case .caption(let text):
            caption = text
            return StepResult(text: "caption: \(text)")
        case .workers(let count):
            let wanted = count.resolved(cores: cores)
            cluster.setLiveWorkers(wanted)
            return StepResult(text: "workers: \(wanted)")
        case .add(let count):
            let added = (0..<count.resolved(cores: cores)).compactMap { _ in cluster.addWorker() }
            return StepResult(text: "added " + (added.isEmpty ? "no worker (limit reached)"
                                                : added.map(\.description).joined(separator: ", ")))
        case .remove(let target): return apply("remove", target, cluster.remove)
        case .pause(let target): return apply("pause", target, cluster.pause)
        case .resume(let target): return apply("resume", target, cluster.resume)
        case .kill(let target): return apply("kill", target, cluster.kill)
        case .restart(let target): return apply("restart", target, cluster.restart)
        case .forge(let target): return apply("forged sums from", target, cluster.forgeResults)
        case let .throttle(target, speed):
            return apply("speed \(Int((speed * 100).rounded()))% for", target) { cluster.setSpeed($0, to: speed) }
        case .schedule(let policy):
            schedule = policy
            return StepResult(text: "schedule: \(policy.label)")
        case .chunkSize(let size):
            chunkSize = size
            return StepResult(text: "chunk size: \(size)")
        case let .submit(lo, hi):
            // Validated when the script was parsed, with the same chunk size and schedule.
            guard let spec = try? JobSpec(lo: lo, hi: hi, chunkSize: chunkSize, schedule: schedule) else {
                return StepResult(text: "submit \(lo)...\(hi): refused")
            }
            let job = cluster.submit(spec)
            jobs.append(job)
            return StepResult(text: "submitted \(job): \(lo)...\(hi), \(schedule.label), chunk \(chunkSize)")
        case .wait(.jobsFinished):
            return StepResult(text: "every job has finished")
        case .wait(.progress(let fraction)):
            return StepResult(text: "the job is \(Int((fraction * 100).rounded()))% done")
        case .view(let view):
            requestedView = view
            return StepResult(text: "view: \(view.rawValue)")
        case .measureSpeedup:
            return measured()
        case .kernel(let variant):
            KernelVariant.active = variant
            return StepResult(text: "kernel: \(variant)")
        case .journal(let on):
            guard let journal else { return StepResult(text: "journal: this run has no journal to keep", isError: true) }
            guard on else {
                journal.stop(cluster)
                return StepResult(text: "journal off")
            }
            do {
                try journal.start(keeping: cluster)
            } catch {
                return StepResult(text: "journal on: \(error)", isError: true)
            }
            return StepResult(text: "journal on: every accepted chunk is kept")
        case .crashCoordinator:
            let lost: Int64?
            do {
                lost = try journal.flatMap { $0.isOn ? $0 : nil }.map { try $0.crash(cluster) }
                    ?? cluster.crashCoordinator { spec, id in JournaledJob(id: id, spec: spec) }
            } catch {
                return StepResult(text: "crash coordinator: the journal could not be opened again: \(error)", isError: true)
            }
            guard let lost else {
                return StepResult(text: "crash coordinator: nothing to crash (no job runs, or remote workers have joined)", isError: true)
            }
            return StepResult(text: "the coordinator crashed: \(NumberText.grouped(lost)) accepted elements lost")
        }
    }
}

extension Script {
    /// The same lessons, `factor` times faster: delays and job sizes (ranges and chunk sizes)
    /// divided by `factor`, so the proportions that make each lesson hold.
    public func paced(_ factor: Double) -> Script {
        guard factor != 1, factor > 0 else { return self }
        return Script(steps: resized(by: 1 / factor).steps.map { step in
            let timing: StepTiming = switch step.timing {
            case .at(let t): .at(t / factor)
            case .after(let d): .after(d / factor)
            }
            return ScriptStep(line: step.line, timing: timing, action: step.action)
        })
    }

    /// The same steps with job sizes (ranges and chunk sizes) multiplied by `factor`: a script
    /// written for one kernel speed, sized for another. Ranges stay within what a job accepts.
    public func resized(by factor: Double) -> Script {
        guard factor != 1, factor > 0 else { return self }
        return resized { _ in factor }
    }

    /// Job sizes (ranges and chunk sizes) times `factor` of the kernel variant that runs them:
    /// the one a `kernel` step chose before them, else the active one. A range submitted more
    /// than once stays one job, sized for the slowest kernel that runs it, so that a lesson
    /// comparing kernels compares the same work.
    public func resized(byKernel factor: (KernelVariant) -> Double) -> Script {
        var kernel = KernelVariant.active
        var kernels: [KernelVariant] = []  // the kernel at each step
        var jobFactor: [ClosedRange<Int64>: Double] = [:]
        for step in steps {
            if case .kernel(let variant) = step.action { kernel = variant }
            kernels.append(kernel)
            if case let .submit(lo, hi) = step.action { jobFactor[lo...hi] = min(jobFactor[lo...hi] ?? .infinity, factor(kernel)) }
        }
        return Script(steps: zip(steps, kernels).map { step, kernel in
            var factor = factor(kernel)
            if case let .submit(lo, hi) = step.action { factor = jobFactor[lo...hi] ?? factor }
            func scale(_ count: Int64) -> Int64 {
                guard factor > 0 else { return count }
                let scaled = (Double(count) * factor).rounded()
                return scaled >= Double(JobSpec.largestAcceptedMagnitude) ? JobSpec.largestAcceptedMagnitude : max(1, Int64(scaled))
            }
            let action: ScriptAction = switch step.action {
            case let .submit(lo, hi): .submit(lo: lo, hi: min(lo + scale(hi - lo + 1) - 1, JobSpec.largestAcceptedMagnitude))
            case .chunkSize(let size): .chunkSize(scale(size))
            default: step.action
            }
            return ScriptStep(line: step.line, timing: step.timing, action: action)
        })
    }
}
