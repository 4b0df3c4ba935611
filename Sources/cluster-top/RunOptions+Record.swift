import ClusterEngine
import ClusterRecording
import Foundation

extension RunOptions {
    /// Starts `--record`, if asked: exit status 73, in one line, if the file cannot be written.
    func startRecording(_ cluster: Cluster, plan: Plan) throws -> LiveRecorder? {
        guard let record else { return nil }
        let command = (["cluster-top"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        do throws(RecordingError) {
            let writer = try RecordingWriter(path: record, header: RecordingHeader(cores: Self.cores, command: command))
            let recorder = LiveRecorder(cluster: cluster, writer: writer, kernelPeaks: plan.kernelPeaks)
            recorder.start()
            return recorder
        } catch {
            throw CommandFailure(message: error.description, status: 73)
        }
    }
}
