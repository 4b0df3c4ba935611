import Foundation

/// Finds and runs the real `cluster-top` binary built next to the test bundle.
enum BinaryProcess {
    /// The repository's top folder, for the scripts and manifests tests run or read.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let url: URL = {
        if let override = ProcessInfo.processInfo.environment["CLUSTER_TOP_BINARY"] {
            return URL(fileURLWithPath: override)
        }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return bundle.deletingLastPathComponent().appendingPathComponent("cluster-top")
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// Runs the binary with `arguments`, stdout and stderr piped (so it is not a terminal).
    /// `whileRunning` may act on the running process (send it a signal, for example).
    static func run(_ arguments: [String], environment: [String: String] = [:],
                    whileRunning: ((Process) -> Void)? = nil) throws -> Result {
        try run(executable: url, arguments, environment: environment, whileRunning: whileRunning)
    }

    /// Runs a bash command line in which `$CLUSTER_TOP` is the binary: for pipelines, as a
    /// person types them.
    static func runShell(_ command: String) throws -> Result {
        try run(executable: URL(fileURLWithPath: "/bin/bash"), ["-c", command], environment: ["CLUSTER_TOP": url.path],
                whileRunning: nil)
    }

    private static func run(executable: URL, _ arguments: [String], environment: [String: String],
                            whileRunning: ((Process) -> Void)?) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain the pipes on other threads so a chatty child never blocks on a full pipe.
        nonisolated(unsafe) var outData = Data(), errData = Data()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { outData = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
        whileRunning?(process)
        process.waitUntilExit()
        group.wait()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus
            : process.terminationStatus
        return Result(status: status, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
