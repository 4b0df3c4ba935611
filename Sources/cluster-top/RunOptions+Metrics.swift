import ArgumentParser
import ClusterEngine
import ClusterMetrics
import ClusterNet

extension RunOptions {
    /// Where `--metrics` listens: HOST:PORT, or a bare PORT on loopback (metrics say what the
    /// cluster does; they reach other machines only when asked to).
    func metricsEndpoint() throws -> Endpoint? {
        guard let metrics else { return nil }
        let text = InputParsing.trimmed(metrics)
        if let port = Int(text) {
            guard 0...65535 ~= port else {
                throw ValidationError("--metrics '\(text)': the port must be a number from 0 to 65535")
            }
            return Endpoint(host: "127.0.0.1", port: port)
        }
        return try ValidationError.checking { () throws(InputError) in
            try Endpoint.parse(text, what: "--metrics", allowAnyPort: true).resolved(what: "--metrics")
        }
    }

    /// Starts serving `cluster`'s metrics, if asked, and says where in the event log.
    func startMetrics(_ cluster: Cluster, hasJournal: Bool) throws -> MetricsServer? {
        guard let endpoint = try metricsEndpoint() else { return nil }
        do throws(MetricsServerError) {
            let server = try MetricsServer(host: endpoint.host, port: endpoint.port,
                                           exporter: MetricsExporter(cluster: cluster, hasJournal: hasJournal))
            cluster.logMetricsServed(url: server.url)
            return server
        } catch {
            throw CommandFailure(message: error.description, status: 69)
        }
    }
}
