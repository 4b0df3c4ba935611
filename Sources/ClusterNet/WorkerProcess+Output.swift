import Foundation

/// How the worker process says durations and rates in its lines.
extension WorkerProcess {
    static func seconds(_ value: Duration) -> String { seconds(value.inSeconds) }

    static func seconds(_ value: Double) -> String {
        value < 1 ? "\(Int((value * 1000).rounded())) ms" : String(format: "%.1f s", value)
    }

    static func rate(_ value: Double) -> String {
        switch value {
        case 1e9...: String(format: "%.2f G", value / 1e9)
        case 1e6...: String(format: "%.1f M", value / 1e6)
        default: String(format: "%.0f", value)
        }
    }
}
