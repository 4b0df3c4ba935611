import ClusterModel
import Synchronization

/// Which variant this process's workers run: set by `--kernel`, `K` and scripts.
extension KernelVariant {
    private static let selectedIndex = Atomic<Int>(allCases.firstIndex(of: best)!)
    private static let switches = Atomic<Int>(0)

    /// The variant `SumOfSquaresKernel.sum` runs: `best` unless `--kernel` chose another.
    public static var active: KernelVariant {
        get { allCases[selectedIndex.load(ordering: .relaxed)] }
        set {
            precondition(newValue.isSupported, "\(newValue) is not supported here")
            selectedIndex.store(allCases.firstIndex(of: newValue)!, ordering: .relaxed)
            switches.add(1, ordering: .relaxed)
        }
    }

    /// How many times `active` was set: a job that saw it change ran more than one variant,
    /// even if it ended on the one it began with.
    static var switchCount: Int { switches.load(ordering: .relaxed) }
}
