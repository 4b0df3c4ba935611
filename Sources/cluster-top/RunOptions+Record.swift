import ClusterEngine
import ClusterRecording
import Foundation

extension RunOptions {
    /// Starts `--record`, if asked: exit status 73, in one line, if the file cannot be written.
    func startRecording(_ cluster: Cluster, plan: Plan) throws -> LiveRecorder? {
        guard let record else { return nil }
        let command = (["cluster-top"] + Self.redacted(Array(CommandLine.arguments.dropFirst()))).joined(separator: " ")
        do throws(RecordingError) {
            let writer = try RecordingWriter(path: record, header: RecordingHeader(cores: Self.cores, command: command))
            let recorder = LiveRecorder(cluster: cluster, writer: writer, kernelPeaks: plan.kernelPeaks)
            recorder.start()
            return recorder
        } catch {
            throw CommandFailure(message: error.description, status: 73)
        }
    }

    /// The command line as a recording keeps it: a recording is handed to students, and the
    /// token would let anyone join (or spoof) the coordinator.
    static func redacted(_ arguments: [String]) -> [String] {
        var kept: [String] = [], hideNext = false
        for argument in arguments {
            if hideNext {
                kept.append("<token>")
                hideNext = false
            } else if argument == "--token" {
                kept.append(argument)
                hideNext = true
            } else if argument.hasPrefix("--token=") {
                kept.append("--token=<token>")
            } else {
                kept.append(argument)
            }
        }
        return kept
    }

    /// `--record`, `--trace` and `--journal` each need a file of their own: two writers in one
    /// file leave neither readable. A device (/dev/null) may take several.
    func checkOutputFilesDiffer() throws(InputError) {
        let named = [("--record", record), ("--trace", trace), ("--journal", journal)]
            .compactMap { flag, path in path.map { (flag: flag, path: $0) } }
        for (i, first) in named.enumerated() {
            for second in named[(i + 1)...] where Self.sameFile(first.path, second.path) {
                throw InputError("\(first.flag) and \(second.flag) both name '\(first.path)': give each a file of its own")
            }
        }
    }

    /// The same file by its resolved path, or by device and inode if both exist; never two
    /// paths to one device.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        let aExists = stat(a, &first) == 0, bExists = stat(b, &second) == 0
        if aExists, bExists {
            return first.st_mode & S_IFMT == S_IFREG && first.st_dev == second.st_dev && first.st_ino == second.st_ino
        }
        func resolved(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
        return !aExists && !bExists && resolved(a) == resolved(b)
    }
}
