import ArgumentParser
import ClusterDashboard
import ClusterEngine
import ClusterJournal
import ClusterNet
import ClusterRecording
import ClusterReporting
import ClusterScript
import ClusterTerminal
import Foundation

/// Running the plan: on the dashboard, or headless.
extension RunOptions {
    func runDashboard(cluster: Cluster, plan: Plan, caption: String?, journal: Journal?, recorder: LiveRecorder?) -> Int32 {
        let screen: TerminalScreen
        do {
            let chosen = TerminalBackground.theme(chosen: theme.flatMap(Theme.init(rawValue:)))
            screen = try TerminalScreen(forceASCII: ascii, disableColor: noColor, theme: chosen, mouse: !noMouse)
        } catch {
            StandardStreams.error("cluster-top: \(error); running headless\n")
            return runHeadless(cluster: cluster, plan: plan, serve: nil, journal: journal, recorder: recorder)
        }
        startJobs(cluster, plan: plan, journal: journal)
        var state = ViewState(nextSchedule: schedule, nextChunkSize: plan.chunkSize, caption: caption)
        if let warning = paceWarning { Reducer.receive(&state, .say(warning, isError: true), at: 0) }
        // The caption a coordinator starts with is its join code: a recording is handed out, so
        // it keeps only the captions scripts show.
        let source = LiveSource(cluster: cluster, player: plan.script.map { Self.player(for: $0) }, cores: Self.cores,
                                kernelPeaks: plan.kernelPeaks, recorder: recorder)
        let loop = DashboardLoop(source: source, screen: screen, frameInterval: refresh ?? 0.1, state: state,
                                 cores: Self.cores, crashAfter: debugCrashAfter)
        let exit = loop.run()
        screen.restore()
        if let job = cluster.snapshot().job {
            let outcome = job.status.isFinished
                ? "\(job.id) \(job.status.rawValue) in \(Format.fixed(job.elapsed, decimals: 3)) s (\(KernelVariant.active) kernel): "
                    + "total \(job.runningTotal)"
                : "\(job.id) stopped at \(Format.percent(job.progress)), not finished"
            StandardStreams.output("cluster-top: \(outcome)\n")
        }
        switch exit {
        case .quit: return 0
        case .signal(let number): return ProcessSignals.exitStatus(for: number)
        }
    }

    func runHeadless(cluster: Cluster, plan: Plan, serve: ServeSetup?, journal: Journal?, recorder: LiveRecorder? = nil) -> Int32 {
        let write: (String) -> Void = { StandardStreams.output($0 + "\n") }
        let stop = { ProcessSignals.stopSignal != nil }
        var eventsPrinted: UInt64 = 0
        if let serve, serve.awaitWorkers > 0 {
            let printer = HeadlessPrinter(format: json ? .json : .text, write: write)
            guard let printed = serve.awaitRemoteWorkers(cluster, printer: printer, shouldStop: stop) else {
                return ProcessSignals.stopSignal.map(ProcessSignals.exitStatus(for:)) ?? 130
            }
            eventsPrinted = printed
        }
        let outcome: HeadlessRunner.Outcome
        if let script = plan.script {
            var runner = HeadlessScriptRunner(
                cluster: cluster, player: Self.player(for: script),
                format: json ? .json : .text, interval: refresh ?? 1, write: write,
                writeError: { StandardStreams.error($0 + "\n") }, shouldStop: stop)
            runner.captionChanged = { recorder?.setCaption($0) }
            outcome = runner.run(eventsPrinted: eventsPrinted)
        } else if let job = startJobs(cluster, plan: plan, journal: journal) {
            var runner = HeadlessRunner(cluster: cluster, format: json ? .json : .text, interval: refresh ?? 1,
                                        write: write, shouldStop: stop)
            // A job is said finished only once its journal has it: a crash after the line resumes nothing.
            runner.beforeResult = { journal?.flush() }
            outcome = runner.run(job: job, eventsPrinted: eventsPrinted)
        } else {
            outcome = .verified
        }
        if outcome == .interrupted, let signal = ProcessSignals.stopSignal {
            return ProcessSignals.exitStatus(for: signal)
        }
        return outcome.exitStatus
    }
}
