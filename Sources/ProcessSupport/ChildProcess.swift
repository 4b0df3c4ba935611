import Dispatch
import Glibc

/// Runs a program to completion with posix_spawn and wait4: its output, exit status, wall time
/// and its own peak resident memory (ru_maxrss).
///
/// Used by the benchmark suite and the end-to-end tests instead of Foundation's Process, which
/// never notices a child's exit when a grandchild daemon (the tmux server) inherits the
/// descriptor it watches.
public enum ChildProcess {
    public struct Result: Sendable {
        /// The raw wait status; `exitStatus` decodes it.
        public let waitStatus: Int32
        public let seconds: Double
        public let peakKiB: Int
        public let output: String

        /// The exit code, or 128 + the signal number when the child was killed by a signal.
        public var exitStatus: Int32 {
            let signal = waitStatus & 0x7f
            return signal == 0 ? (waitStatus >> 8) & 0xff : 128 + signal
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `argv` (argv[0] is looked up in PATH). With `captureOutput` false, standard output
    /// goes to /dev/null: required when the child may start a daemon that would hold our pipe
    /// open forever. Standard error always goes to /dev/null.
    public static func run(_ argv: [String], environment: [String: String]? = nil,
                           captureOutput: Bool = true) throws -> Result {
        var pipe: [Int32] = [-1, -1]
        guard Glibc.pipe(&pipe) == 0 else { throw Failure(description: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if captureOutput {
            posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        posix_spawn_file_actions_addclose(&actions, pipe[1])
        var arguments = argv.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let spawned: Int32
        if let environment {
            var variables = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { variables.forEach { free($0) } }
            spawned = posix_spawnp(&pid, argv[0], &actions, nil, &arguments, &variables)
        } else {
            spawned = posix_spawnp(&pid, argv[0], &actions, nil, &arguments, environ)
        }
        close(pipe[1])
        defer { close(pipe[0]) }
        guard spawned == 0 else { throw Failure(description: "cannot run \(argv[0]): error \(spawned)") }
        var output = [UInt8]()
        if captureOutput {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(pipe[0], &buffer, buffer.count)
                if n <= 0 { break }
                output.append(contentsOf: buffer[0..<n])
            }
        }
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(waitStatus: status, seconds: seconds, peakKiB: usage.ru_maxrss,
                      output: String(decoding: output, as: UTF8.self))
    }
}
