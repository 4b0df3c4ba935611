// Everyone who uses the engine speaks its model: snapshots, events, specs, ids.
@_exported import ClusterModel
