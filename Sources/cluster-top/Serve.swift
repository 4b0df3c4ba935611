import ArgumentParser
import ClusterEngine
import ClusterNet
import ClusterReporting
import Dispatch
import Foundation

/// `cluster-top serve`: the dashboard (or headless run) as a coordinator that worker processes
/// on other machines join.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the cluster as a coordinator that workers on other machines join.",
        discussion: """
            Everything cluster-top does, plus a gRPC endpoint for `cluster-top worker` processes. \
            Each of their threads becomes a row of the dashboard, next to the local threads \
            (--workers 0 for none), and takes the same keys. Workers must present the token; \
            without --token (or \(AccessToken.environmentVariable)) a new one is generated and \
            printed with the command that joins. Exit status as for cluster-top, and 69 when the \
            address cannot be listened on.
            """)

    @Option(name: .long, help: ArgumentHelp(
        "The address to accept workers on; 0.0.0.0 is every IPv4 interface, port 0 picks a free one.",
        valueName: "HOST:PORT"))
    var listen = "0.0.0.0:7070"

    @Option(name: .long, help: ArgumentHelp(
        "The shared secret workers must present, 8-256 printable characters. (default: \(AccessToken.environmentVariable), else a new random one)",
        valueName: "TOKEN"))
    var token: String?

    @Option(name: .long, help: ArgumentHelp(
        "Seconds a worker may stay silent before its chunks are re-queued, 0.1...60; it sends heartbeats ten times as often.",
        valueName: "SECONDS"))
    var lease: Double = 1

    @Option(name: .long, help: ArgumentHelp(
        "Headless: wait until this many remote worker threads have joined before starting the job.",
        valueName: "N"))
    var awaitWorkers = 0

    @Option(name: .long, help: ArgumentHelp(
        "Live worker threads one machine (one network address) may hold at once, 1...1024, so no one machine can take every place.",
        valueName: "N"))
    var threadsPerHost = ClusterConfiguration().maxRemoteWorkersPerHost

    @Flag(name: .long, help: "Plain text instead of TLS: the token and the work cross the network unencrypted. Workers need --insecure too.")
    var insecure = false

    @Option(name: .long, help: ArgumentHelp(
        "A PEM certificate chain to serve instead of a self-signed certificate made at start; needs --tls-key.", valueName: "FILE"))
    var tlsCert: String?

    @Option(name: .long, help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "FILE"))
    var tlsKey: String?

    @OptionGroup var options: RunOptions

    func run() throws {
        // The journal first: its TLS identity and token live beside it.
        let plan = try options.makePlan(allowsNoWorkers: true)
        let journal = try options.openJournal(plan: plan)
        try options.run(serve: ValidationError.checking { () throws(InputError) in try makeSetup(keptBeside: journal?.path) },
                        journal: journal, plan: plan)
    }

    /// `keptBeside`: a journal's path, beside which a generated certificate, key and token are
    /// kept (mode 0600) and found again by a restart, so workers still retrying can rejoin.
    func makeSetup(keptBeside journal: String? = nil) throws(InputError) -> ServeSetup {
        // A host name is looked up here: the listening socket needs an address.
        let endpoint = try Endpoint.parse(listen, what: "--listen", allowAnyPort: true).resolved(what: "--listen")
        guard (0.1...60).contains(lease) else { throw InputError("--lease must be between 0.1 and 60 seconds (got \(lease))") }
        guard (0...1024).contains(awaitWorkers) else {
            throw InputError("--await-workers must be between 0 and 1024 (got \(awaitWorkers))")
        }
        guard (1...1024).contains(threadsPerHost) else {
            throw InputError("--threads-per-host must be between 1 and 1024 (got \(threadsPerHost))")
        }
        let source: ServeSetup.TokenSource
        let secret: String
        if let token {
            (secret, source) = (token, .option)
        } else if let fromEnvironment = AccessToken.fromEnvironment {
            (secret, source) = (fromEnvironment, .environment)
        } else if let journal {
            do {
                (secret, source) = (try KeptBeside.text(journal + ".token") { AccessToken.generate() }, .generated)
            } catch {
                throw InputError("cannot keep the token beside the journal: \(error)")
            }
        } else {
            (secret, source) = (AccessToken.generate(), .generated)
        }
        if let problem = AccessToken.validate(secret) { throw InputError(problem) }
        return ServeSetup(listen: endpoint, token: secret, tokenSource: source,
                          timing: RemoteTiming(lease: .milliseconds(Int64((lease * 1000).rounded()))),
                          awaitWorkers: awaitWorkers, threadsPerHost: threadsPerHost, identity: try makeIdentity(endpoint, keptBeside: journal))
    }

    /// TLS unless --insecure: the given certificate, or a self-signed one for this machine.
    func makeIdentity(_ endpoint: Endpoint, keptBeside journal: String? = nil) throws(InputError) -> ServerIdentity? {
        if insecure {
            if tlsCert != nil || tlsKey != nil { throw InputError("--insecure turns TLS off: it takes no --tls-cert or --tls-key") }
            return nil
        }
        switch (tlsCert, tlsKey) {
        case let (cert?, key?):
            do { return try ServerIdentity.load(certificateFile: cert, keyFile: key) } catch { throw InputError(error.description) }
        case (.some, nil): throw InputError("--tls-cert needs --tls-key, the certificate's private key")
        case (nil, .some): throw InputError("--tls-key needs --tls-cert, the certificate it belongs to")
        case (nil, nil):
            let names = Set(["localhost", "127.0.0.1", ProcessInfo.processInfo.hostName, endpoint.host])
                .subtracting(["0.0.0.0", "::", "[::]"])
            if let journal {
                let (certificate, key) = (journal + ".tls-cert.pem", journal + ".tls-key.pem")
                do {
                    if FileManager.default.fileExists(atPath: certificate) || FileManager.default.fileExists(atPath: key) {
                        return try ServerIdentity.load(certificateFile: certificate, keyFile: key)
                    }
                    let made = try ServerIdentity.selfSigned(names: names.sorted())
                    _ = try KeptBeside.text(key) { made.privateKeyPEMText }
                    _ = try KeptBeside.text(certificate) { made.certificateChainPEM }
                    return made
                } catch {
                    throw InputError("the TLS certificate kept beside the journal: \(error)")
                }
            }
            do { return try ServerIdentity.selfSigned(names: names.sorted()) } catch {
                throw InputError("could not make a TLS certificate: \(error)")
            }
        }
    }
}

/// A validated `serve`: where to listen, the token, and the lease.
struct ServeSetup {
    enum TokenSource { case option, environment, generated }

    let listen: Endpoint
    let token: String
    let tokenSource: TokenSource
    let timing: RemoteTiming
    let awaitWorkers: Int
    /// Live remote threads one address may hold (`ClusterConfiguration.maxRemoteWorkersPerHost`).
    let threadsPerHost: Int
    /// The TLS certificate and key; nil with --insecure.
    let identity: ServerIdentity?

    /// A coordinator that is listening, and the address it got (the real port when --listen
    /// asked for port 0).
    struct Running {
        let coordinator: Coordinator
        let address: Endpoint
    }

    func start(_ cluster: Cluster) throws -> Running {
        let coordinator = Coordinator(cluster: cluster, listen: listen, token: token, timing: timing, identity: identity)
        do {
            return Running(coordinator: coordinator, address: try coordinator.start())
        } catch {
            throw CommandFailure(message: "cannot listen on \(listen): \(error.description)", status: 69)
        }
    }

    /// How people join, as printed when the coordinator starts: the short join code at each
    /// address students can reach, then the long form for scripts.
    func joinInstructions(_ running: Running) -> [String] {
        var lines = [
            "cluster-top: coordinator listening on \(running.address)"
                + (identity == nil ? " in PLAIN TEXT (--insecure): the token and the work are not encrypted"
                    : ", TLS certificate \(identity!.fingerprint)"),
        ]
        let targets = Self.reachable(running.address)
        if let code = joinCode {
            for (n, target) in targets.enumerated() {
                lines.append("cluster-top: \(n == 0 ? "join with" : "or"): cluster-top worker --join \(target)/\(code)")
            }
            lines.append("cluster-top: or, in full: \(joinCommand(targets[0]))")
        } else {
            for (n, target) in targets.enumerated() {
                lines.append("cluster-top: \(n == 0 ? "join with" : "or"): \(joinCommand(target))")
            }
        }
        return lines
    }

    /// The dashboard's caption: the short join, for the audience to type (the long form
    /// with --insecure, which has no certificate to pin).
    func caption(_ running: Running) -> String {
        let target = Self.reachable(running.address)[0]
        guard let code = joinCode else { return "Join (plain text, not encrypted): " + joinCommand(target) }
        return "Join: cluster-top worker --join \(target)/\(code)"
    }

    /// The short code: the certificate's fingerprint, in part, and the join key. None in plain text.
    var joinCode: JoinCode? { identity.map { JoinCode(fingerprint: $0.fingerprint, token: token) } }

    /// Where workers can reach `address`: itself, or for a wildcard this machine's addresses
    /// other than loopback (its host name when it has none, which students may not resolve).
    static func reachable(_ address: Endpoint) -> [Endpoint] {
        guard ["0.0.0.0", "::", "[::]"].contains(address.host) else { return [address] }
        let addresses = NetworkInterfaces.externalIPv4Addresses()
        if addresses.isEmpty { return [Endpoint(host: ProcessInfo.processInfo.hostName, port: address.port)] }
        return addresses.map { Endpoint(host: $0, port: address.port) }
    }

    private func joinCommand(_ target: Endpoint) -> String {
        let secret: String
        switch tokenSource {
        case .generated: secret = token
        case .environment: secret = "\"$\(AccessToken.environmentVariable)\""
        case .option: secret = "<the token given to serve>"
        }
        // The fingerprint proves to the worker that it reached this coordinator, before it sends
        // the token; --insecure says plainly that nothing is proved or hidden.
        let check = identity.map { "--fingerprint \($0.fingerprint)" } ?? "--insecure"
        return "cluster-top worker --connect \(target) \(check) --token \(secret)"
    }

    /// Headless: blocks until `awaitWorkers` remote threads have joined, printing the events
    /// (joins, refusals) meanwhile. Returns the last event printed, or nil if stopped first.
    func awaitRemoteWorkers(_ cluster: Cluster, printer: HeadlessPrinter, shouldStop: () -> Bool) -> UInt64? {
        if printer.format == .text {
            printer.write("cluster-top: waiting for \(awaitWorkers) remote worker thread\(awaitWorkers == 1 ? "" : "s") to join")
        }
        var printed: UInt64 = 0
        while !shouldStop() {
            printed = printer.flushEvents(from: cluster, after: printed)
            let joined = cluster.snapshot().workers.filter { $0.remote != nil && $0.state != .removed }.count
            if joined >= awaitWorkers { return printed }
            usleep(20_000)
        }
        return nil
    }
}

/// Files kept beside a journal: read if there, else made, written with mode 0600 and read back.
enum KeptBeside {
    static func text(_ path: String, make: () -> String) throws -> String {
        if let kept = try? String(contentsOfFile: path, encoding: .utf8) {
            return kept.trimmingCharacters(in: .newlines)
        }
        let made = make()
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw KeptBesideError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let bytes = Array((made.hasSuffix("\n") ? made : made + "\n").utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count, fsync(descriptor) == 0 else {
            throw KeptBesideError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return made.trimmingCharacters(in: .newlines)
    }
}

struct KeptBesideError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
