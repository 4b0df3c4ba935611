import ClusterDashboard
import ClusterEngine

extension EngineCommand {
    /// Carries the command out on `cluster`: the one place the dashboard's commands reach the
    /// engine. Returns false if the engine refused (for example, the worker limit was reached).
    @discardableResult
    public func apply(to cluster: Cluster) -> Bool {
        switch self {
        case .addWorker: return cluster.addWorker() != nil
        case .remove(let id): return cluster.remove(id)
        case .pause(let id): return cluster.pause(id)
        case .resume(let id): return cluster.resume(id)
        case .kill(let id): return cluster.kill(id)
        case .restart(let id): return cluster.restart(id)
        case .setSpeed(let id, let speed): return cluster.setSpeed(id, to: speed)
        case .submit(let spec): cluster.submit(spec); return true
        case .setKernel(let variant): KernelVariant.active = variant; return true
        }
    }
}
