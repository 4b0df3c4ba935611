import ClusterEngine
import Foundation

/// What `cluster-top worker` was asked to do.
public struct WorkerOptions: Sendable {
    public var coordinator: Endpoint
    public var token: String
    public var threads: Int
    /// Give up after this many seconds without reaching the coordinator.
    public var retryFor: Double
    /// Print a line for every chunk, not only for control events.
    public var verbose: Bool
    /// The function that sums one sub-block, as in `ClusterConfiguration.kernel`.
    public var kernel: ChunkRunner.Kernel
    /// As in `ClusterConfiguration.cpuTokens`.
    public var cpuTokens: CPUTokens
    /// What the coordinator's dashboard calls this machine, and groups its threads under.
    public var name = WorkerName.automatic(hostName: ProcessInfo.processInfo.hostName,
                                           environment: ProcessInfo.processInfo.environment)
    /// Where to say whether the process has joined, for probes (`--status-file`); nil for nowhere.
    public var statusFile: String?
    /// How long a new connection may wait for the coordinator's welcome before it is given up
    /// (and tried again, within `retryFor`).
    public var handshakeTimeout = Duration.seconds(10)
    /// How it knows it reached the right coordinator, and whether the connection is encrypted.
    /// The command line's default is TLS with the fingerprint `serve` printed.
    public var check = ServerCheck.insecure

    public init(coordinator: Endpoint, token: String, threads: Int, retryFor: Double = 60, verbose: Bool = false,
                kernel: @escaping ChunkRunner.Kernel = SumOfSquaresKernel.standard, cpuTokens: CPUTokens = .shared) {
        self.coordinator = coordinator
        self.token = token
        self.threads = threads
        self.retryFor = retryFor
        self.verbose = verbose
        self.kernel = kernel
        self.cpuTokens = cpuTokens
    }
}
