import ArgumentParser
import ClusterEngine
import ClusterNet
import ClusterTerminal
import Dispatch
import Foundation
import Synchronization

/// `cluster-top worker`: lends this machine's cores to a coordinator elsewhere.
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join a coordinator (cluster-top serve) and sum chunks for it.",
        discussion: """
            Each thread becomes one worker row on the coordinator's dashboard, where it can be \
            paused, throttled, killed and removed like a local one. The worker prints one line per \
            event. It keeps trying while the coordinator is not reachable (for --retry-for \
            seconds), and reconnects if the connection drops. Its threads run the fastest kernel \
            this CPU supports; cluster-top's own --kernel VARIANT picks another (cluster-top \
            worker --connect HOST:PORT --kernel avx2). Exit status: 0 released by the \
            coordinator, 64 bad arguments, 69 coordinator unreachable, 77 refused (token, or \
            a certificate other than --fingerprint's), \
            128+N stopped by signal N.
            """)

    @Option(name: .long, help: ArgumentHelp("The coordinator's address, as `serve` printed it.", valueName: "HOST:PORT"))
    var connect: String?

    @Option(name: .long, help: ArgumentHelp(
        "The join code `serve` shows: its address, a slash and 28 letters and digits. It stands for --connect, --fingerprint and --token.",
        valueName: "HOST:PORT/CODE"))
    var join: String?

    @Option(name: .long, help: ArgumentHelp(
        "The coordinator's token. (default: \(AccessToken.environmentVariable))", valueName: "TOKEN"))
    var token: String?

    // Unconditional, so "--threads -1" is a value to refuse with a reason, not a missing one.
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp(
        "Compute threads to offer, 1...256. (default: the number of cores, \(ClusterTop.cores) here)", valueName: "N"))
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp(
        "Give up after this many seconds without reaching the coordinator, 0...86400.", valueName: "SECONDS"))
    var retryFor: Double = 60

    @Option(name: .long, help: ArgumentHelp(
        "The name the dashboard groups this machine's threads under, up to 64 printable characters. (default: its host name; under Slurm also the job and task, \"node7 job 4211 task 3\")",
        valueName: "NAME"))
    var name: String?

    /// `--kernel` is the top command's option (`RunOptions`), which takes it on any command line.
    @ParentCommand var top: ClusterTop

    @Flag(name: .long, help: "Print a line for every chunk, not only for joins, pauses, kills and releases.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp(
        "The coordinator's certificate fingerprint, as `serve` printed it: any other server is refused before the token is sent. (default: \(Self.fingerprintVariable))",
        valueName: "sha256:HEX"))
    var fingerprint: String?

    @Option(name: .long, help: ArgumentHelp(
        "Trust coordinators whose certificate this PEM CA file signed for the --connect host name, instead of a fingerprint.",
        valueName: "FILE"))
    var tlsCa: String?

    @Flag(name: .long, help: "Plain text, for a coordinator started with --insecure: the token and the work are not encrypted.")
    var insecure = false

    @Option(name: .long, help: ArgumentHelp(
        "Keep a file that says \"joined\" or \"connecting\" on its second line (the first marks it as a status file), written again every few seconds and removed on exit: for readiness and liveness probes. A path that holds anything else is refused.",
        valueName: "PATH"))
    var statusFile: String?

    static let fingerprintVariable = "CLUSTER_TOP_FINGERPRINT"

    /// TLS pinned to the fingerprint, or checked against a CA (the system's when neither a
    /// fingerprint nor --tls-ca is given), or plain text with --insecure.
    func makeCheck() throws(InputError) -> ServerCheck {
        let pinned = fingerprint ?? ProcessInfo.processInfo.environment[Self.fingerprintVariable].flatMap { $0.isEmpty ? nil : $0 }
        if insecure {
            if pinned != nil || tlsCa != nil { throw InputError("--insecure turns TLS off: it takes no --fingerprint or --tls-ca") }
            return .insecure
        }
        if let pinned {
            if tlsCa != nil { throw InputError("give --fingerprint or --tls-ca, not both") }
            guard let value = Fingerprint(pinned) else {
                throw InputError("--fingerprint must be sha256: and 64 hex digits, as serve printed it (got \(pinned.debugDescription))")
            }
            return .pinned(value)
        }
        if let tlsCa {
            do { _ = try ServerIdentity.authorityCertificates(file: tlsCa) } catch { throw InputError(error.description) }
        }
        return .authority(caFile: tlsCa)
    }

    /// `--join HOST:PORT/CODE`: the address, and the code that pins the certificate and
    /// carries the join key.
    func parseJoin(_ text: String) throws(InputError) -> (Endpoint, JoinCode) {
        if connect != nil || token != nil || fingerprint != nil || tlsCa != nil || insecure {
            throw InputError("--join stands for --connect, --token and --fingerprint: give it alone, or those three without it")
        }
        guard let slash = text.lastIndex(of: "/"), slash != text.startIndex else {
            throw InputError("--join takes HOST:PORT/CODE as serve shows it, such as 10.0.0.5:7070/k7f3-9mqa-… (got \(text.debugDescription))")
        }
        let endpoint = try Endpoint.parse(String(text[..<slash]), what: "--join")
        switch JoinCode.parse(String(text[text.index(after: slash)...])) {
        case .success(let code): return (endpoint, code)
        case .failure(let problem): throw InputError("--join: \(problem)")
        }
    }

    func makeOptions() throws(InputError) -> WorkerOptions {
        var joined: (endpoint: Endpoint, code: JoinCode)?
        if let join { joined = try parseJoin(join) }
        guard let address = connect ?? joined.map({ "\($0.endpoint)" }) else {
            throw InputError("no coordinator: give --join HOST:PORT/CODE, or --connect HOST:PORT, as serve shows them")
        }
        let endpoint: Endpoint
        if let joined { endpoint = joined.endpoint } else { endpoint = try Endpoint.parse(address, what: "--connect") }
        let count = threads ?? ClusterTop.cores
        guard 1...Int(WireProtocol.threadLimit) ~= count else {
            throw InputError("--threads must be between 1 and \(WireProtocol.threadLimit) (got \(count))")
        }
        guard (0...86_400).contains(retryFor) else {
            throw InputError("--retry-for must be between 0 and 86400 seconds (got \(retryFor))")
        }
        guard let secret = joined?.code.key ?? token ?? AccessToken.fromEnvironment, !secret.isEmpty else {
            throw InputError("no token: give --token TOKEN or set \(AccessToken.environmentVariable), with the token the coordinator printed")
        }
        // A token the coordinator can never have given (a pasted carriage return, say) is a
        // mistake to report now, not a refusal to retry.
        if let problem = AccessToken.validate(secret) { throw InputError("bad token: \(problem)") }
        // The coordinator would clean the name for its dashboard; one it would change is refused.
        if let name, name.isEmpty || WireProtocol.printableHostName(name, fallback: "") != name {
            throw InputError("--name must be 1 to 64 printable characters (got \(name.debugDescription))")
        }
        KernelVariant.active = try KernelVariant.parse(top.options.kernel)
        var options = WorkerOptions(coordinator: endpoint, token: secret, threads: count, retryFor: retryFor, verbose: verbose)
        if let name { options.name = name }
        if let statusFile {
            if let problem = WorkerStatusFile.problem(writing: statusFile) { throw InputError("--status-file: \(problem)") }
            options.statusFile = statusFile
        }
        if let joined { options.check = .joinCode(joined.code) } else { options.check = try makeCheck() }
        return options
    }

    func run() throws {
        let options = try ValidationError.checking(makeOptions)
        let say: @Sendable (String) -> Void = { line in StandardStreams.output("cluster-top worker: \(line)\n") }
        if options.check == .insecure { say("plain text (--insecure): the token and the work cross the network unencrypted") }
        let process = WorkerProcess(options: options, say: say)
        let finished = DispatchSemaphore(value: 0)
        let result = OutcomeBox()
        let task = Task {
            result.set(await process.run())
            finished.signal()
        }
        // The main thread watches for Ctrl-C and SIGTERM; cancelling the task closes the
        // connection, and the coordinator re-queues what the threads held at once.
        while finished.wait(timeout: .now() + 0.05) == .timedOut {
            if let signal = ProcessSignals.stopSignal {
                task.cancel()
                _ = finished.wait(timeout: .now() + 2)
                say("stopped by signal \(signal); left the cluster")
                throw ExitCode(ProcessSignals.exitStatus(for: signal))
            }
        }
        switch result.get() ?? .released {
        case .released:
            say("released by the coordinator; exiting")
            throw ExitCode(0)
        case .refused(let reason):
            throw CommandFailure(message: "refused by \(options.coordinator): \(reason)", status: 77)
        case .unreachable(let reason, let seconds):
            throw CommandFailure(message: "gave up on \(options.coordinator) after trying for \(String(format: "%.1f", seconds)) s "
                                 + "(--retry-for \(String(format: "%g", options.retryFor))): \(reason)", status: 69)
        }
    }
}

extension ValidationError {
    /// Runs `make`; a value it refuses becomes argument-parser's usage error: one line, exit 64.
    static func checking<T>(_ make: () throws(InputError) -> T) throws -> T {
        do {
            return try make()
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// A failure that is not a usage error: one line on stderr and its own exit status.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    let status: Int32
    var description: String { message }
}

/// Hands the worker's outcome from its task to the main thread.
private final class OutcomeBox: Sendable {
    private let value = Mutex<WorkerProcess.Outcome?>(nil)
    func set(_ outcome: WorkerProcess.Outcome) { value.withLock { $0 = outcome } }
    func get() -> WorkerProcess.Outcome? { value.withLock { $0 } }
}
