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
}
