import Foundation

/// The real `cluster-top` binary running in the background, its stdout and stderr going to one
/// file, so a test can wait for a line, signal the process, and read what it said.
final class BackgroundBinary {
    let process = Process()
    private let outputURL: URL

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)
        process.executableURL = BinaryProcess.url
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try output.close()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: outputURL)
    }

    var pid: Int32 { process.processIdentifier }
    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

    /// Waits until the output contains `text`; the output so far, or nil on timeout.
    @discardableResult
    func waitFor(_ text: String, timeout: Double = 30) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let now = output
            if now.contains(text) { return now }
            usleep(20_000)
        }
        return nil
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// The exit status (128+N for signal N), or nil if it is still running after `timeout`.
    func exitStatus(within timeout: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        guard !process.isRunning else { return nil }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// The port a `serve` printed it listens on.
    func listeningPort(timeout: Double = 30) -> Int? {
        guard let text = waitFor("listening on ", timeout: timeout),
              let match = text.firstMatch(of: /listening on 127\.0\.0\.1:(\d+)/) else { return nil }
        return Int(match.1)
    }
}
