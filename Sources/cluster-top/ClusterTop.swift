import ArgumentParser
import ClusterDashboard
import ClusterEngine
import ClusterReporting
import ClusterScript
import ClusterTerminal
import Foundation

@main
struct ClusterTop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster-top",
        abstract: "Run a small compute cluster and watch and steer it live.",
        discussion: """
            Worker threads sum x² over an integer range, chunk by chunk. The running total is \
            exact and is checked against the closed form F(hi) - F(lo-1) at the end.

            In a terminal this opens the dashboard (press ? there for every key). With --headless, \
            --json, or when standard output is not a terminal, it prints progress lines and the \
            verified result instead. --demo plays six lessons on parallelism and failure with captions; \
            --script FILE plays your own (the format is in docs/lessons.md). Exit status: 0 verified, \
            1 mismatch, 64 bad arguments or script, 65 a --journal refused, 73 a --record or --trace \
            file that cannot be written, 74 one whose writing failed during the run, 128+N stopped \
            by signal N.

            `cluster-top serve` does all this as a coordinator that `cluster-top worker` \
            processes on other machines join over the network (see their --help). \
            `cluster-top replay FILE` plays back a run kept with --record FILE.
            """,
        subcommands: [Serve.self, Worker.self, JournalCommand.self, ReplayCommand.self])

    static let cores = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var options: RunOptions

    func run() throws {
        try options.run(serve: nil)
    }

    /// Parses and runs; any argument error becomes one line on stderr and exit status 64.
    static func main() {
        // First, before any socket or pipe exists: a peer that resets its connection must never
        // stop the program (SIGPIPE is ignored), and Ctrl-C during start-up is a clean stop.
        ProcessSignals.installStopHandlers()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CommandFailure {
            StandardStreams.error("cluster-top: \(failure.message)\n")
            Foundation.exit(failure.status)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode { exit(withError: error) }
            let message = self.message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
            StandardStreams.error("cluster-top: \(message) (see 'cluster-top --help')\n")
            Foundation.exit(code.rawValue)
        }
    }
}
