import ArgumentParser
import ClusterDashboard
import ClusterEngine
import ClusterRecording
import ClusterReporting
import ClusterTerminal
import Foundation

/// `cluster-top replay FILE`: a `--record`ing played back on the same dashboard, read only.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play back a run recorded with --record FILE, on the same dashboard: every view, nothing computed again.",
        discussion: """
            Space plays or pauses, < and > halve or double the speed (0.25× to 16×), [ and ] jump to the \
            previous or next event worth seeing (a kill, a split, a job's start or end), Home and End to \
            either end; v and the other view keys work as live. Keys that would change the cluster say \
            "replay: read only". With --headless it prints each job's summary and the jobs table. \
            Exit status 65 for a file that is not a recording or is of a newer format; a recording cut \
            short plays up to its last whole frame and says where it ends.
            """)

    @Argument(help: ArgumentHelp("The recording, as given to --record.", valueName: "FILE"))
    var file: String

    @Option(name: .long, help: ArgumentHelp("Play at this speed from the start: 0.25 to 16.", valueName: "X"))
    var speed: Double = 1

    @Flag(name: .long, help: "Start paused on the first frame.")
    var paused = false

    @Flag(name: .long, help: "Print each job's summary and the jobs table instead of the dashboard.")
    var headless = false

    @Flag(name: .long, help: "Plain ASCII: no box-drawing or block characters.")
    var ascii = false

    @Flag(name: .long, help: "No colors.")
    var noColor = false

    func validate() throws {
        guard speed.isFinite, ReplaySource.speeds.contains(speed) else {
            throw ValidationError("--speed \(speed): give a speed from 0.25 to 16")
        }
    }

    func run() throws {
        let recording: Recording
        do {
            recording = try Recording(path: file)
        } catch {
            throw CommandFailure(message: error.description, status: 65)
        }
        // The root command has flags of these names too, and ArgumentParser may give them to it.
        let own = CommandLine.arguments.drop { $0 != "replay" }
        let cut = recording.cutShort.map { "the recording ends early: \($0); it plays up to \(Format.clock(recording.duration))" }
        if headless || own.contains("--headless") || isatty(STDOUT_FILENO) != 1 {
            for line in Self.report(recording) { StandardStreams.output(line + "\n") }
            if let cut { StandardStreams.error("cluster-top: \(cut)\n") }
            return
        }
        let screen: TerminalScreen
        do {
            screen = try TerminalScreen(forceASCII: ascii || own.contains("--ascii"), disableColor: noColor || own.contains("--no-color"),
                                        theme: TerminalBackground.theme())
        } catch {
            StandardStreams.error("cluster-top: \(error); printing the recording's jobs instead\n")
            for line in Self.report(recording) { StandardStreams.output(line + "\n") }
            return
        }
        let source = ReplaySource(recording: recording, startPaused: paused || own.contains("--paused"), speed: speed)
        var state = ViewState()
        state.isReplay = true
        if let cut { Reducer.receive(&state, .say(cut, isError: true), at: 0) }
        let loop = DashboardLoop(source: source, screen: screen, frameInterval: 0.05, state: state,
                                 cores: recording.header.cores)
        let exit = loop.run()
        screen.restore()
        if case .signal(let number) = exit { throw ExitCode(ProcessSignals.exitStatus(for: number)) }
    }

    /// What a headless replay prints: the recording, each job's summary, the jobs table.
    static func report(_ recording: Recording) -> [String] {
        let last = recording.frame(at: recording.frameCount - 1)
        let live = last.snapshot.workers.filter { $0.state != .removed }
        var hosts: [String: Int] = [:]
        for worker in live { hosts[worker.remote?.host ?? "this machine", default: 0] += 1 }
        let where_ = hosts.sorted { $0.key < $1.key }.map { "\($0.value) on \($0.key)" }.joined(separator: ", ")
        var lines = ["replay of: \(recording.header.command)",
                     "\(recording.frameCount) frames over \(Format.clock(recording.duration)), "
                        + "\(live.count) workers at the end\(where_.isEmpty ? "" : ": " + where_)"]
        for summary in last.finishedJobs { lines += HeadlessReport.resultLines(summary) }
        if let job = last.snapshot.job, !job.status.isFinished {
            lines.append("\(job.id) not finished when the recording ends: \(Format.percent(job.progress))")
        }
        if !last.finishedJobs.isEmpty { lines += HeadlessReport.comparisonLines(last.finishedJobs) }
        return lines
    }
}
