import ArgumentParser
import ClusterDashboard
import ClusterEngine
import ClusterJournal
import ClusterNet
import ClusterReporting
import ClusterScript
import ClusterTerminal
import Foundation

/// The options of a cluster run, shared by the dashboard (`cluster-top`) and the coordinator
/// (`cluster-top serve`), and the run itself.
struct RunOptions: ParsableArguments {
    static var cores: Int { ClusterTop.cores }

    /// The job with no --range: about a minute of work for this machine's cores, with the kernel
    /// as it runs here (one core's `rate`), rounded to two significant digits.
    static func defaultRange(rate: Double) -> (lo: Int64, hi: Int64) {
        (1, twoSignificantDigits(min(Double(JobSpec.largestAcceptedMagnitude), max(1e6, rate * Double(cores) * 60))))
    }

    /// The default job's chunks: about half a second of one core's work (120 a core over its
    /// minute), never below the usual default. At the IFMA kernel's 33 G/s a chunk of 4 Mi
    /// lasted 127 µs: every bar on the screen was a blur, and a kill lost nothing one could see.
    static func defaultChunkSize(forDefaultRange range: (lo: Int64, hi: Int64)) -> Int64 {
        let elements = Double(range.hi - range.lo + 1)
        return max(JobSpec.defaultChunkSize, twoSignificantDigits(elements / Double(cores * 120)))
    }

    private static func twoSignificantDigits(_ value: Double) -> Int64 {
        let scale = pow(10, (log10(max(1, value)) - 1).rounded(.down))
        return Int64((value / scale).rounded() * scale)
    }

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "The integers to sum the squares of, as LO...HI (negative numbers and _ separators allowed).",
        valueName: "LO...HI"))
    var range: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "Worker threads to start with, 1...1024 (0...1024 for serve). (default: the number of cores, \(ClusterTop.cores) here; none with --demo or --script, which add their own)",
        valueName: "N"))
    var workers: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "Elements per chunk. (default: \(NumberText.grouped(JobSpec.defaultChunkSize)); for the job with no --range, about half a second of one core's work, so that each bar is seen filling)",
        valueName: "N"))
    var chunkSize: String?

    @Option(name: .long, help: ArgumentHelp(
        "How chunks reach workers: dynamic (one shared queue), static (one fixed slice per worker, as in the seed) or stealing (own slices; idle workers steal and split others' work).",
        valueName: "dynamic|static|stealing"))
    var schedule: SchedulePolicy = .dynamic

    @Option(name: .long, help: ArgumentHelp(
        "Slow workers down: FACTOR for all of them or WORKER:FACTOR for one, FACTOR in (0, 1] or a percentage. Repeatable. (default: full speed)",
        valueName: "SPEC"))
    var throttle: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Seconds between dashboard frames or headless progress lines, 0.01...60. (default: 0.1 in the dashboard, 1 headless)",
        valueName: "SECONDS"))
    var refresh: Double?

    @Flag(name: .long, help: "Play the built-in demo: six lessons on parallelism and failure, with captions (about two minutes).")
    var demo = false

    @Option(name: .long, help: ArgumentHelp(
        "Play a script of timed actions (format in docs/lessons.md). Headless, it prints each job's figures at the end.",
        valueName: "FILE"))
    var script: String?

    @Option(name: .long, help: ArgumentHelp(
        "Play --demo or --script FACTOR times faster, with jobs FACTOR times smaller, 0.01...1000.",
        valueName: "FACTOR"))
    var pace: Double = 1

    @Option(name: .long, help: ArgumentHelp(
        "The kernel's instruction set: auto (the fastest this CPU runs) or one of \(KernelVariant.allCases.map(\.rawValue).joined(separator: ", ")).",
        valueName: "VARIANT"))
    var kernel = "auto"

    @Flag(name: .long, help: "Print progress lines and the result instead of opening the dashboard.")
    var headless = false

    @Flag(name: .long, help: "Headless, as JSON lines: progress objects and a final result object.")
    var json = false

    @Flag(name: .long, help: "Draw the dashboard with ASCII characters only. (default: automatic from the locale)")
    var ascii = false

    @Flag(name: .long, help: "Draw the dashboard without colors (NO_COLOR in the environment does the same).")
    var noColor = false

    @Flag(name: .long, help: "Leave the mouse to the terminal: no click to select, no wheel to scroll.")
    var noMouse = false

    @Option(name: .long, help: ArgumentHelp(
        "Colors for a dark or a light (white, projector) background: dark or light. (default: from COLORFGBG, else the background colour the terminal reports, else dark)",
        valueName: "THEME"))
    var theme: String?

    @Option(name: .long, help: ArgumentHelp(
        "Keep the jobs and every accepted chunk in FILE (an SQLite database), so that a restart with the same FILE resumes the job where it was.",
        valueName: "FILE"))
    var journal: String?

    @Option(name: .long, help: ArgumentHelp(
        "Write the run as a Chrome Trace Event file that Perfetto (ui.perfetto.dev) and chrome://tracing open: a track per worker, a slice per chunk attempt, kills and splits as marks, an arrow from each lost attempt to its redo. Exit status 73 if FILE cannot be written, 74 if a write failed during the run (a full disk).",
        valueName: "FILE"))
    var trace: String?

    @Option(name: .long, help: ArgumentHelp(
        "Record what the dashboard shows into FILE as it goes (frames ten times a second, events, attempts), to play back with `cluster-top replay FILE`. Exit status 73 if FILE cannot be written, 74 if a write failed during the run (a full disk; it replays up to there).",
        valueName: "FILE"))
    var record: String?

    @Option(name: .long, help: ArgumentHelp(
        "Serve Prometheus metrics at http://HOST:PORT/metrics while it runs. A bare PORT listens on 127.0.0.1 only; port 0 picks a free one (the event log says which). Exit status 69 if it cannot listen.",
        valueName: "HOST:PORT"))
    var metrics: String?

    @Flag(name: .long, help: .hidden)
    var debugWrongKernel = false

    @Option(name: .long, help: .hidden)
    var debugCrashAfter: Double?

    /// The validated job and cluster settings. Built once, in run(): a ValidationError thrown
    /// there reaches main(), which prints it as one line with exit status 64.
    struct Plan {
        /// The job to start with; nil when a script submits the jobs.
        let spec: JobSpec?
        let script: Script?
        /// Chunk size for jobs started later, from the prompt or a script's default.
        let chunkSize: Int64
        let workers: Int
        let speeds: [Int: Double]
        let defaultSpeed: Double
        let kernel: KernelVariant
        /// One core's calibrated rates, when something needed them.
        let kernelPeaks: KernelPeaks?
    }

    /// `allowsNoWorkers`: a coordinator may start with no local threads and wait for remote ones.
    func makePlan(allowsNoWorkers: Bool = false) throws -> Plan {
        // A --metrics that cannot be an address is refused before anything starts.
        _ = try metricsEndpoint()
        do {
            try checkOutputFilesDiffer()
            // Chosen first: the default job and the demo are sized by the kernel's speed.
            let variant = try KernelVariant.parse(kernel)
            KernelVariant.active = variant
            // Measured before any worker sums, and only when something needs it: the default
            // job's and the demo's sizes, the dashboard's share of peak.
            let peaks = range == nil || demo || !(headless || json) ? KernelPeaks.measure() : nil
            let activeRate = peaks?[variant]
            let script = try loadScript(kernelPeaks: peaks)
            let bounds: (lo: Int64, hi: Int64) = try range.map(InputParsing.range)
                ?? (script == nil ? Self.defaultRange(rate: activeRate ?? DemoScript.writtenForRate) : (1, 1))
            let chunk = try chunkSize.map { try InputParsing.integer($0, what: "chunk size") }
                ?? (range == nil && script == nil ? Self.defaultChunkSize(forDefaultRange: bounds) : JobSpec.defaultChunkSize)
            // A script starts from an empty cluster unless told otherwise: it adds its own workers,
            // so the worker numbers it names are the ones it created.
            let count = workers ?? (script == nil ? Self.cores : 0)
            let fewest = script == nil && !allowsNoWorkers ? 1 : 0
            guard fewest...1024 ~= count else {
                throw InputError("--workers must be between \(fewest) and 1024 (got \(count))")
            }
            var speeds: [Int: Double] = [:]
            var defaultSpeed = 1.0
            for spec in throttle {
                let (worker, speed) = try InputParsing.throttle(spec)
                if let worker {
                    guard worker <= count else {
                        throw InputError("throttle '\(spec)' names worker \(worker), but only \(count) start")
                    }
                    speeds[worker] = speed
                } else {
                    defaultSpeed = speed
                }
            }
            if let refresh, !(0.01...60).contains(refresh) {
                throw InputError("--refresh must be between 0.01 and 60 seconds (got \(refresh))")
            }
            if let theme, Theme(rawValue: theme) == nil {
                throw InputError("--theme must be dark or light (got '\(theme)')")
            }
            if script != nil, range != nil {
                throw InputError("--range cannot be combined with --demo or --script: the script submits its own jobs")
            }
            do {
                let spec = try JobSpec(lo: bounds.lo, hi: bounds.hi, chunkSize: chunk, schedule: schedule)
                return Plan(spec: script == nil ? spec : nil, script: script, chunkSize: chunk, workers: count,
                            speeds: speeds, defaultSpeed: defaultSpeed, kernel: variant, kernelPeaks: peaks)
            } catch {
                throw InputError(error.description)
            }
        } catch let error as InputError {
            throw ValidationError(error.description)
        }
    }

    /// The fastest pace at which the demo's lessons keep their meaning: each of lesson 1's
    /// steps lasts 6 s, and the speedup panel needs 1.5 s at each worker count.
    static let meaningfulPace = 3.0

    /// Said in one line when `--pace` plays the demo faster than its lessons can show.
    var paceWarning: String? {
        guard demo, pace > Self.meaningfulPace else { return nil }
        return "--pace \(Format.fixed(pace, decimals: pace.rounded() == pace ? 0 : 1)): lessons faster than the panels can measure "
            + "(the speedup curve may stay empty); up to \(Int(Self.meaningfulPace)) keeps them meaningful"
    }

    /// The script to play, paced, or nil. A file that cannot be read or parsed is a bad argument.
    func loadScript(kernelPeaks: KernelPeaks? = nil) throws(InputError) -> Script? {
        guard (0.01...1000).contains(pace) else {
            throw InputError("--pace must be between 0.01 and 1000 (got \(pace))")
        }
        if demo, script != nil { throw InputError("--demo and --script cannot be combined: choose one") }
        if demo {
            // Sized for the kernels as they run here, so the lessons keep their timing on any machine.
            return DemoScript.script(kernelPeaks: kernelPeaks ?? KernelPeaks.measure()).paced(pace)
        }
        guard let path = script else {
            if pace != 1 { throw InputError("--pace needs --demo or --script") }
            return nil
        }
        let text: String
        // A device or a FIFO is no script (and reading one may block or claim a permission
        // problem that is not there).
        if let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType,
           type != .typeRegular {
            throw InputError("cannot read the script '\(path)': it is not a regular file (a script is a text file)")
        }
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? "it could not be read as UTF-8 text"
            throw InputError("cannot read the script '\(path)': \(reason)")
        }
        do {
            return try Script.parse(text, source: path).paced(pace)
        } catch {
            throw InputError(error.description)
        }
    }

    /// Runs the cluster in the dashboard or headless; with `serve`, also as a coordinator that
    /// remote workers join.
    /// `plan`: made already (serve makes it first, to check its journal against it).
    func run(serve: ServeSetup?, journal: Journal? = nil, plan: Plan? = nil) throws {
        let plan = try plan ?? makePlan(allowsNoWorkers: serve != nil)
        let journal = try journal ?? openJournal(plan: plan)
        let traceWriter: TraceWriter?
        do throws(TraceError) {
            traceWriter = try trace.map { path throws(TraceError) in try TraceWriter(path: path) }
        } catch {
            throw CommandFailure(message: error.description, status: 73)
        }
        var configuration = ClusterConfiguration()
        if let serve { configuration.maxRemoteWorkersPerHost = serve.threadsPerHost }
        if debugWrongKernel {
            // Hidden fault injection so tests can see a failed verification end-to-end.
            let first = plan.spec?.lo ?? 1
            configuration.kernel = { lo, hi in SumOfSquaresKernel.sum(lo, hi) &+ (lo == first ? 1 : 0) }
        }
        let cluster = Cluster(configuration: configuration)
        for worker in stride(from: 1, through: plan.workers, by: 1) {
            cluster.addWorker(speed: plan.speeds[worker] ?? plan.defaultSpeed)
        }
        // Attached before any job is queued: the journal keeps each one from its submission.
        journal?.attach(to: cluster)
        traceWriter?.start(tracing: cluster)
        let metricsServer = try startMetrics(cluster, hasJournal: journal != nil)
        let recorder = try startRecording(cluster, plan: plan)
        let running = try serve.map { try $0.start(cluster) }
        let stdoutIsTerminal = isatty(STDOUT_FILENO) == 1
        if !headless, !json, !stdoutIsTerminal {
            // On stderr, so that piped output stays clean.
            StandardStreams.error("cluster-top: standard output is not a terminal; running headless\n")
        }
        let runsHeadless = headless || json || !stdoutIsTerminal
        if let serve, let running {
            // JSON output stays pure: the instructions go to stderr there, and before the dashboard.
            let lines = serve.joinInstructions(running)
            if runsHeadless, !json {
                for line in lines { StandardStreams.output(line + "\n") }
            } else {
                for line in lines { StandardStreams.error(line + "\n") }
            }
        }
        let status = runsHeadless ? runHeadless(cluster: cluster, plan: plan, serve: serve, journal: journal, recorder: recorder)
            : runDashboard(cluster: cluster, plan: plan, caption: serve.flatMap { s in running.map { s.caption($0) } }, journal: journal,
                           recorder: recorder)
        // The recording ends on the frame the run ended on, before the workers are stopped.
        recorder?.finish()
        cluster.shutdown(timeout: 1)
        journal?.finish()
        traceWriter?.finish()
        metricsServer?.stop()
        // Shutting the cluster down released every remote thread; let the sessions say so.
        running?.coordinator.stop()
        let cutShort = [recorder?.writer.failure.map { "the recording '\(record ?? "")' stopped early: \($0); it replays up to its last whole frame" },
                        traceWriter?.failure.map { "the trace '\(trace ?? "")' stopped early: \($0)" }].compactMap { $0 }
        for problem in cutShort { StandardStreams.error("cluster-top: \(problem)\n") }
        throw ExitCode(status == 0 && !cutShort.isEmpty ? 74 : status)
    }

    /// A script's player, with the journal that `journal on` and `crash coordinator` use.
    static func player(for script: Script) -> ScriptPlayer {
        var player = ScriptPlayer(script: script, cores: cores)
        player.journal = TemporaryJournal()
        return player
    }
}

extension SchedulePolicy: ExpressibleByArgument {}
