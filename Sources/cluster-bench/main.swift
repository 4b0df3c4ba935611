import ProcessSupport
import ClusterEngine
import Foundation

// cluster-bench: the performance suite. `swift run -c release cluster-bench [--quick] [--runs N]
// [--only 1,2,...] [--kernel VARIANT]`. It compiles the C baseline, then prints Markdown tables
// of medians and spreads, every figure a ratio of two things measured side by side in this one
// run. `--kernel` runs the engine's workers, and the worker processes it starts, on one kernel
// variant (to compare the engine with a build whose kernel ran at that speed).

let arguments = CommandLine.arguments
if arguments.count == 5, arguments[1] == "seed-port", let lo = Int32(arguments[2]), let hi = Int32(arguments[3]),
   let workers = Int(arguments[4]), lo <= hi, workers > 0 {
    emit(String(SeedPort.run(lo: lo, hi: hi, workers: workers)))
    exit(0)
}

func value(of option: String) -> String? {
    arguments.firstIndex(of: option).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
let quick = arguments.contains("--quick")
let runs = value(of: "--runs").flatMap(Int.init) ?? (quick ? 3 : 5)
let only = Set((value(of: "--only") ?? "1,2,3,4,5,6,7,8,9,15,16,17,18,22,25,30,31,32").split(separator: ",").compactMap { Int($0) })
let unknown = arguments.dropFirst().filter { $0.hasPrefix("--") && !["--quick", "--runs", "--only", "--kernel"].contains($0) }
guard unknown.isEmpty, runs >= 1 else {
    FileHandle.standardError.write(Data("usage: cluster-bench [--quick] [--runs N] [--only 1,2,3,4,5,6,7,8,9,15,16,17,18,22,25,30,31,32] [--kernel VARIANT] (and 20, Slurm: root, slurm-wlm, munge)\n".utf8))
    exit(64)
}
if let kernel = value(of: "--kernel") {
    do {
        KernelVariant.active = try KernelVariant.parse(kernel)
    } catch {
        FileHandle.standardError.write(Data("cluster-bench: \(error.description)\n".utf8))
        exit(64)
    }
}

let binaryDirectory = URL(fileURLWithPath: arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
let clusterTop = binaryDirectory.appendingPathComponent("cluster-top").path
guard FileManager.default.isExecutableFile(atPath: clusterTop) else {
    FileHandle.standardError.write(Data("cluster-bench: build cluster-top first: swift build -c release\n".utf8))
    exit(1)
}

// Compile the C baseline exactly as the issue states, plus the flag that keeps it a loop.
let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reference/sum_squares.c").path
let reference = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-bench-reference-\(getpid())").path
let compile = try ChildProcess.run(["clang", "-O3", "-march=native", "-mllvm", "-replexitval=never",
                                    "-pthread", source, "-o", reference])
guard compile.exitStatus == 0 else {
    FileHandle.standardError.write(Data("cluster-bench: clang could not compile \(source)\n".utf8))
    exit(1)
}
defer { try? FileManager.default.removeItem(atPath: reference) }
// And the kernel's own algorithm in C, for this CPU alone: the yardstick of figure 1.
let splitSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reference/sum_squares_split.c").path
let splitReference = reference + "-split"
let kernelHeaders = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../CSumKernels/include").standardized.path
let compileSplit = try ChildProcess.run(["clang", "-O3", "-march=native", "-pthread", "-I", kernelHeaders, splitSource,
                                         "-o", splitReference])
guard compileSplit.exitStatus == 0 else {
    FileHandle.standardError.write(Data("cluster-bench: clang could not compile \(splitSource): \(compileSplit.output)\n".utf8))
    exit(1)
}
defer { try? FileManager.default.removeItem(atPath: splitReference) }

let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
emit("# cluster-bench: \(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(runs) runs each\(quick ? ", quick sizes" : ""), kernel \(KernelVariant.active)")
let measurements = Measurements(runs: runs, scale: quick ? 0.25 : 1, reference: reference, splitReference: splitReference,
                                clusterTop: clusterTop, kernelRate: KernelPeaks.measure()[KernelVariant.active] ?? 6e9)
do {
    if only.contains(1) { try measurements.kernel() }
    if only.contains(2) { try measurements.scaling() }
    if only.contains(3) { try measurements.overhead() }
    if only.contains(4) { try DashboardCost(measurements: measurements).run() }
    if only.contains(5) { try measurements.seedPort(benchBinary: arguments[0]) }
    if only.contains(6) { try measurements.controlLatency() }
    if only.contains(7) { try measurements.stragglers() }
    if only.contains(8) { try measurements.remoteThroughput() }
    if only.contains(9) { try measurements.remoteRoundTrips() }
    if only.contains(15) { try RenderCost(measurements: measurements).run() }
    if only.contains(16) { try ClusterScale(measurements: measurements).engineCost() }
    if only.contains(17) { try DashboardCost(measurements: measurements).manyWorkers() }
    if only.contains(18) { try ClusterScale(measurements: measurements).coordinatorWithManyProcesses() }
    if only.contains(20) { try SlurmLaunch(measurements: measurements).run() }
    if only.contains(22) { try StalledWorker(measurements: measurements).run() }
    if only.contains(25) { try JournalCost(measurements: measurements).run() }
    if only.contains(30) { try TraceCost(measurements: measurements).run() }
    if only.contains(31) { try MetricsCost(measurements: measurements).run() }
    if only.contains(32) { try RecordingCost(measurements: measurements).run() }
} catch {
    FileHandle.standardError.write(Data("cluster-bench: \(error)\n".utf8))
    exit(1)
}
