import ClusterEngine

/// A number of workers in a script: a count, or a multiple of the machine's cores.
public enum WorkerCount: Sendable, Equatable {
    case exactly(Int)
    /// `cores`, `cores*2`, `cores+1`.
    case cores(times: Int, plus: Int)

    public func resolved(cores: Int) -> Int {
        switch self {
        case .exactly(let n): return n
        case let .cores(times, plus): return cores * times + plus
        }
    }
}

/// Which workers an action is for.
public enum WorkerTarget: Sendable, Equatable {
    case worker(Int)
    case all
}

/// The dashboard panels a script can switch to.
public enum ScriptView: String, Sendable, CaseIterable {
    case workers, grid, timeline, speedup, jobs
}

/// One thing a script does.
public enum ScriptAction: Sendable, Equatable {
    case caption(String)
    /// Adds or removes workers until this many are live.
    case workers(WorkerCount)
    case add(WorkerCount)
    case remove(WorkerTarget)
    case pause(WorkerTarget)
    case resume(WorkerTarget)
    case kill(WorkerTarget)
    case restart(WorkerTarget)
    case throttle(WorkerTarget, speed: Double)
    /// For a lesson: the worker hands in forged sums from now on, and is caught at its next one.
    case forge(WorkerTarget)
    /// Settings for the jobs submitted after it.
    case schedule(SchedulePolicy)
    case chunkSize(Int64)
    case submit(lo: Int64, hi: Int64)
    /// Holds the script until a fact holds: every submitted job has finished, or the running
    /// job has come so far.
    case wait(ScriptWait)
    case view(ScriptView)
    /// Measures the speedup curve: 1, 2, … `upTo` full-speed workers in turn, each held until
    /// measured; holds the script until done.
    case measureSpeedup(upTo: WorkerCount)
    /// The kernel variant this machine's workers run from their next sub-block on.
    case kernel(KernelVariant)
    /// Keeps the jobs in a journal from now on (a file of the lesson's own), or stops.
    case journal(Bool)
    /// The coordinator crashes and is rebuilt in process, from its journal if one is on.
    case crashCoordinator

    /// Holds the script until a fact holds, not until a time.
    var isWait: Bool {
        switch self {
        case .wait, .measureSpeedup: return true
        default: return false
        }
    }
}

/// What a `wait` step waits for: facts about the jobs, never a duration.
public enum ScriptWait: Sendable, Equatable {
    /// Every submitted job has finished.
    case jobsFinished
    /// The running job has done at least this fraction (0 < fraction < 1) of its elements, or
    /// every job has finished.
    case progress(Double)
}

/// When a step runs.
public enum StepTiming: Sendable, Equatable {
    /// Not before this many seconds after the script started.
    case at(Double)
    /// This many seconds after the previous step ran.
    case after(Double)
}

public struct ScriptStep: Sendable, Equatable {
    /// 1-based line in the source, for messages.
    public let line: Int
    public let timing: StepTiming
    public let action: ScriptAction
}

/// A script that could not be parsed: where and why.
public struct ScriptError: Error, Equatable, CustomStringConvertible {
    public let source: String
    public let line: Int
    public let message: String
    public var description: String { "\(source):\(line): \(message)" }
}

/// A timed sequence of actions, as written in a script file or built into `--demo`.
/// The format is documented in docs/lessons.md ("Script format").
public struct Script: Sendable, Equatable {
    public let steps: [ScriptStep]

    static let actionNames = ["caption", "workers", "add", "remove", "pause", "resume", "kill", "restart",
                              "throttle", "forge", "schedule", "chunk-size", "submit", "kernel", "wait", "view", "measure",
                              "journal", "crash"]
    /// Units a time may be written with as a word of its own: "at 5 seconds", "+500 ms".
    static let unitWords: [String: Double] = ["s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
                                              "ms": 0.001, "millisecond": 0.001, "milliseconds": 0.001]

    /// Parses `text`; `source` names it in error messages (a file name, or "demo").
    public static func parse(_ text: String, source: String) throws(ScriptError) -> Script {
        var steps: [ScriptStep] = []
        // Job settings as of each line, so a submit's range is validated with its chunk size.
        var chunkSize = JobSpec.defaultChunkSize
        var schedule = SchedulePolicy.dynamic
        var lastAt = 0.0
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            func fail(_ message: String) -> ScriptError { ScriptError(source: source, line: number, message: message) }
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if words.isEmpty { continue }
            var timing = StepTiming.after(0)
            // A unit may follow the number as a word: "at 5 seconds", "+500 ms".
            func unitWord(after index: Int) -> Double? {
                words.count > index + 1 ? unitWords[words[index + 1].lowercased()] : nil
            }
            if words[0] == "at" {
                let unit = unitWord(after: 1)
                guard words.count >= 2, let t = unit.flatMap({ u in Double(words[1]).map { $0 * u } }) ?? seconds(words[1]),
                      t >= 0, t.isFinite else {
                    throw fail("'at' needs a time such as 5s, 1.5s, 500ms or 5 seconds")
                }
                guard t >= lastAt else {
                    throw fail("'at \(words[1])' is earlier than a step above it; times must not go backwards")
                }
                timing = .at(t)
                lastAt = t
                words.removeFirst(unit == nil ? 2 : 3)
            } else if words[0].hasPrefix("+") {
                let unit = unitWord(after: 0)
                let number = String(words[0].dropFirst())
                guard let t = unit.flatMap({ u in Double(number).map { $0 * u } }) ?? seconds(number), t >= 0, t.isFinite else {
                    throw fail("'\(words[0])' is not a delay; write it like +2s, +1.5s, +500ms or +2 seconds")
                }
                timing = .after(t)
                words.removeFirst(unit == nil ? 1 : 2)
            }
            guard let name = words.first else { throw fail("a time with no action after it") }
            let arguments = Array(words.dropFirst())
            let action: ScriptAction
            do {
                action = try parseAction(name, arguments, rawLine: String(line), chunkSize: &chunkSize,
                                         schedule: &schedule)
            } catch {
                throw fail(error.description)
            }
            steps.append(ScriptStep(line: number, timing: timing, action: action))
        }
        guard !steps.isEmpty else {
            throw ScriptError(source: source, line: 1, message: "the script has no actions; see 'Script format' in docs/lessons.md")
        }
        return Script(steps: steps)
    }

    private static func parseAction(_ name: String, _ args: [String], rawLine: String, chunkSize: inout Int64,
                                    schedule: inout SchedulePolicy) throws(InputError) -> ScriptAction {
        func expect(_ count: Int, _ usage: String) throws(InputError) {
            guard args.count == count else { throw InputError("'\(name)' takes \(usage)") }
        }
        switch name {
        case "caption":
            // The rest of the line, as written; surrounding quotes are optional.
            guard let start = rawLine.range(of: "caption") else { throw InputError("'caption' needs text") }
            var text = InputParsing.trimmed(rawLine[start.upperBound...])
            if text.count >= 2, text.first == "\"", text.last == "\"" { text = String(text.dropFirst().dropLast()) }
            guard !text.isEmpty else { throw InputError("'caption' needs the text to show") }
            return .caption(text)
        case "workers":
            try expect(1, "one count: a number, cores, cores*N or cores+N")
            return .workers(try workerCount(args[0], allowZero: true))
        case "add":
            guard args.count <= 1 else { throw InputError("'add' takes at most one count") }
            return .add(args.isEmpty ? .exactly(1) : try workerCount(args[0], allowZero: false))
        case "remove", "pause", "resume", "kill", "restart", "forge":
            try expect(1, "one worker number, or all")
            let target = try workerTarget(args[0])
            switch name {
            case "remove": return .remove(target)
            case "pause": return .pause(target)
            case "resume": return .resume(target)
            case "kill": return .kill(target)
            case "forge": return .forge(target)
            default: return .restart(target)
            }
        case "throttle":
            try expect(2, "a worker number (or all) and a speed, like 'throttle 1 25%'")
            guard let speed = InputParsing.speed(args[1]) else {
                throw InputError("speed '\(args[1])' is out of range or not a number: use a factor in (0, 1] or a percentage, like 'throttle 1 25%'")
            }
            return .throttle(try workerTarget(args[0]), speed: speed)
        case "schedule":
            try expect(1, "one of: " + SchedulePolicy.allCases.map(\.label).joined(separator: ", "))
            guard let policy = SchedulePolicy(rawValue: args[0]) else {
                throw InputError("unknown schedule '\(args[0])'; use one of: "
                                 + SchedulePolicy.allCases.map(\.label).joined(separator: ", "))
            }
            schedule = policy
            return .schedule(policy)
        case "chunk-size":
            try expect(1, "one number of elements")
            let size = try InputParsing.integer(args[0], what: "chunk size")
            guard size >= 1 else { throw InputError("chunk size must be at least 1 (got \(size))") }
            chunkSize = size
            return .chunkSize(size)
        case "submit":
            try expect(1, "one range LO...HI")
            let (lo, hi) = try InputParsing.range(args[0])
            do {
                _ = try JobSpec(lo: lo, hi: hi, chunkSize: chunkSize, schedule: schedule)
            } catch {
                throw InputError(error.description)
            }
            return .submit(lo: lo, hi: hi)
        case "kernel":
            try expect(1, "auto or one of: " + KernelVariant.allCases.map(\.rawValue).joined(separator: ", "))
            return .kernel(try KernelVariant.parse(args[0]))
        case "wait":
            if args.isEmpty || args == ["job"] || args == ["jobs"] { return .wait(.jobsFinished) }
            guard args.count == 1, args[0].hasSuffix("%"), let percent = Double(args[0].dropLast()),
                  percent > 0, percent < 100 else {
                throw InputError("'wait' takes nothing (every job finished) or a share of the running job, "
                                 + "as in 'wait 25%' (more than 0%, less than 100%)")
            }
            return .wait(.progress(percent / 100))
        case "measure":
            guard args.first == "speedup", args.count <= 2 else {
                throw InputError("'measure' takes 'speedup' and an optional largest worker count, as in "
                                 + "'measure speedup' (1 to cores*2 workers) or 'measure speedup 4'")
            }
            return .measureSpeedup(upTo: args.count == 2 ? try workerCount(args[1], allowZero: false) : .cores(times: 2, plus: 0))
        case "journal":
            guard args.count == 1, args[0] == "on" || args[0] == "off" else {
                throw InputError("'journal' takes on or off, as in 'journal on'")
            }
            return .journal(args[0] == "on")
        case "crash":
            guard args == ["coordinator"] else {
                throw InputError("'crash' takes 'coordinator', as in 'crash coordinator' (to crash a worker: 'kill 2')")
            }
            return .crashCoordinator
        case "view":
            try expect(1, "one of: " + ScriptView.allCases.map(\.rawValue).joined(separator: ", "))
            guard let view = ScriptView(rawValue: args[0]) else {
                throw InputError("unknown view '\(args[0])'; use one of: "
                                 + ScriptView.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return .view(view)
        default:
            throw InputError("unknown action '\(name)'; use one of: " + actionNames.joined(separator: ", "))
        }
    }

    /// "5", "5s", "1.5s", "500ms" → seconds; nil if malformed or negative.
    static func seconds(_ text: String) -> Double? {
        var number = Substring(text), scale = 1.0
        if number.hasSuffix("ms") {
            number = number.dropLast(2)
            scale = 0.001
        } else if number.hasSuffix("s") {
            number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite, value >= 0, value <= 86_400 else { return nil }
        return value * scale
    }

    static func workerCount(_ text: String, allowZero: Bool) throws(InputError) -> WorkerCount {
        let usage = "a worker count is a number, cores, cores*N or cores+N (got '\(text)')"
        if text.hasPrefix("cores") {
            let rest = text.dropFirst(5)
            if rest.isEmpty { return .cores(times: 1, plus: 0) }
            guard let n = Int(rest.dropFirst()), n >= 0, n <= 1024 else { throw InputError(usage) }
            switch rest.first {
            case "*": return .cores(times: n, plus: 0)
            case "+": return .cores(times: 1, plus: n)
            default: throw InputError(usage)
            }
        }
        guard let n = Int(text), n >= (allowZero ? 0 : 1), n <= 1024 else { throw InputError(usage) }
        return .exactly(n)
    }

    static func workerTarget(_ text: String) throws(InputError) -> WorkerTarget {
        if text == "all" { return .all }
        guard let n = Int(text), n >= 1 else {
            throw InputError("'\(text)' is not a worker: use its number as the dashboard shows it, or all")
        }
        return .worker(n)
    }
}
