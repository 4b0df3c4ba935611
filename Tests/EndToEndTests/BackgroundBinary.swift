import ClusterTestSupport
import Foundation

/// The real `cluster-top` binary running in the background, its stdout and stderr going to one
/// file (or stderr to a second, `separateErrors`), so a test can wait for a line, signal the
/// process, and read what it said.
final class BackgroundBinary {
    let process = Process()
    private let outputURL: URL
    private let errorsURL: URL?

    /// `launcher` runs the binary through another program (say `nice -n 19`).
    init(_ arguments: [String], environment: [String: String] = [:], separateErrors: Bool = false,
         launcher: [String] = []) throws {
        func logFile() -> URL {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-\(UUID().uuidString).log")
            FileManager.default.createFile(atPath: url.path, contents: nil)
            return url
        }
        outputURL = logFile()
        errorsURL = separateErrors ? logFile() : nil
        let output = try FileHandle(forWritingTo: outputURL)
        let errors = try errorsURL.map { try FileHandle(forWritingTo: $0) } ?? output
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [BinaryProcess.url.path] + arguments
        } else {
            process.executableURL = BinaryProcess.url
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try output.close()
        if errorsURL != nil { try errors.close() }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: outputURL)
        if let errorsURL { try? FileManager.default.removeItem(at: errorsURL) }
    }

    var pid: Int32 { process.processIdentifier }
    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }
    /// What it wrote to stderr, when that went to a file of its own.
    var errors: String { errorsURL.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? "" }

    /// Waits until the output contains `text`; the output so far, or nil on timeout.
    @discardableResult
    func waitFor(_ text: String, timeout: Double = 60) -> String? {
        var now = ""
        return eventually(within: timeout) { now = output; return now.contains(text) } ? now : nil
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// The exit status (128+N for signal N), or nil if it is still running after `timeout`.
    func exitStatus(within timeout: Double = 60) -> Int32? {
        guard eventually(within: timeout, { !process.isRunning }) else { return nil }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// The port a `serve` printed it listens on.
    /// The certificate fingerprint `serve` printed, as `worker --fingerprint` takes it.
    func fingerprint(timeout: Double = 30) -> String? {
        guard let text = waitFor("TLS certificate sha256:", timeout: timeout),
              let match = text.firstMatch(of: /TLS certificate (sha256:[0-9a-f]{64})/) else { return nil }
        return String(match.1)
    }

    func listeningPort(timeout: Double = 30) -> Int? {
        guard let text = waitFor("listening on ", timeout: timeout),
              let match = text.firstMatch(of: /listening on 127\.0\.0\.1:(\d+)/) else { return nil }
        return Int(match.1)
    }
}
