import ClusterEngine

/// The scenario `cluster-top --demo` plays: six lessons, about two minutes on a two-core
/// machine, each lesson's conclusion held on screen a few seconds before the next begins. Its job sizes are written for a kernel summing `writtenForRate` elements per second on
/// one core; `script(kernelPeaks:)` sizes each job for the kernel that runs it as measured here,
/// and `--pace` scales delays and sizes alike.
public enum DemoScript {
    /// The one-core kernel speed the job sizes below are written for.
    public static let writtenForRate = 2e9

    /// The demo as written for the kernel variants this CPU runs (lesson 5 steps through each).
    public static var text: String { text(variants: KernelVariant.supported) }

    /// What lesson 5 says as each vector kernel takes over.
    static func vectorCaption(_ variant: KernelVariant) -> String? {
        switch variant {
        case .scalar: nil
        case .sse2: "SSE2: the same job and workers, each core now squaring 2 elements a step."
        case .neon: "NEON: the same job and workers, each core now squaring 2 elements a step."
        case .avx2: "AVX2: 4 elements a step on each core."
        case .avx512: "AVX-512: 8 elements a step on each core."
        case .ifma: "AVX-512 IFMA: 8 a step, each square added in one 52-bit multiply-add."
        }
    }

    /// The demo, lesson 5 stepping from the scalar kernel through each of `variants`, slowest to
    /// fastest, on every core.
    public static func text(variants: [KernelVariant]) -> String {
        let vectors = variants.compactMap { variant in
            vectorCaption(variant).map { "kernel \(variant)\ncaption \($0)\nsubmit 1...14_000_000_000\nwait\n" }
        }.joined()
        return written.replacingOccurrences(of: "{vectors}", with: vectors)
    }

    private static let written = """
        # Lesson 1: more workers help until the cores run out.
        workers 1
        schedule dynamic
        chunk-size 500_000_000
        view speedup
        caption Lesson 1 of 6: more workers help, until the cores run out. One worker to start.
        submit 1...90_000_000_000
        +6s workers cores
        caption One worker per core: throughput grows with the cores (see the speedup panel).
        +6s workers cores*2
        caption Twice as many workers as cores: no faster. The cores are already busy.
        +6s view workers
        caption Every worker now gets a smaller share of the cores; the total stays exact.
        wait
        caption Lesson 1 done: verified. Workers beyond the cores only take turns.

        # Lesson 2: static slices, a shared queue and work stealing, with one straggler.
        +4s workers cores
        throttle all 1
        throttle 1 25%
        chunk-size 100_000_000
        schedule static
        view timeline
        caption Lesson 2 of 6: worker 1 runs at 25%. Static slices: everyone waits for it.
        submit 1...12_000_000_000
        wait
        schedule dynamic
        caption The same job from one shared queue: fast workers simply take more chunks.
        submit 1...12_000_000_000
        wait
        schedule stealing
        caption Work stealing: own slices, and idle workers take work from the slow one.
        submit 1...12_000_000_000
        wait
        view jobs
        caption The three jobs compared: static waited for the straggler; the others did not.

        # Lesson 3: a crash costs only the chunk it lost.
        +6s view workers
        throttle all 1
        schedule dynamic
        chunk-size 2_000_000_000
        caption Lesson 3 of 6: a crash costs only the lost chunk. Worker 2 is about to crash.
        submit 1...20_000_000_000
        wait 40%
        kill 2
        caption Worker 2 crashed mid-chunk: its chunk went back to the queue and is redone.
        +2s restart 2
        caption Worker 2 restarts. Nothing was counted twice: the total will verify.
        wait
        caption Lesson 3 done: VERIFIED. The crash cost one chunk, redone; nothing counted twice.

        # Lesson 4: work stealing rescues a stuck worker.
        +4s workers 2
        schedule stealing
        chunk-size 4_000_000_000
        view timeline
        caption Lesson 4 of 6: work stealing. Worker 2 freezes halfway through its slice.
        submit 1...8_000_000_000
        wait 25%
        pause 2
        caption Worker 2 is paused. When worker 1 runs dry it splits off worker 2's remainder.
        wait
        resume 2
        caption Lesson 4 done: verified. Worker 1 finished the frozen worker's slice itself.

        # Lesson 5: two kinds of parallelism, threads across cores and vectors within one.
        +4s workers 1
        kernel scalar
        schedule dynamic
        chunk-size 250_000_000
        view workers
        caption Lesson 5 of 6: threads and vectors. The scalar kernel on one worker.
        submit 1...14_000_000_000
        wait
        workers cores
        caption Threads: the same job on every core. PEAK: each worker's share of a core.
        submit 1...14_000_000_000
        wait
        view jobs
        {vectors}caption Lesson 5 done: threads multiply by cores, vectors by lanes, both at once.

        # Lesson 6: the coordinator is a single point of failure, unless it keeps a journal.
        +4s workers cores
        chunk-size 250_000_000
        view workers
        caption Lesson 6 of 6: the coordinator crashes half-way. First, without a journal.
        submit 1...24_000_000_000
        wait 50%
        crash coordinator
        caption The coordinator crashed: every accepted chunk is lost. The job starts over.
        wait
        journal on
        caption Now the same job with a journal: each accepted chunk is kept on disk.
        submit 1...24_000_000_000
        wait 50%
        crash coordinator
        caption Crashed again, rebuilt from its journal: the job goes on from where it was.
        wait
        journal off
        view jobs
        caption Demo over. LOST: what each crash cost; with a journal, almost nothing.
        """

    /// The demo with each job sized for the kernel that runs it, at one core's rate in
    /// `kernelPeaks` (as written when nil): lesson 5's scalar jobs last as long on any machine
    /// as the others.
    public static func script(kernelPeaks: KernelPeaks? = nil) -> Script {
        // The text is part of the program and tested; a parse failure here is a bug.
        let script: Script
        do { script = try Script.parse(text, source: "demo") } catch { fatalError("built-in demo: \(error)") }
        guard let kernelPeaks else { return script }
        return script.resized { variant in (kernelPeaks[variant] ?? writtenForRate) / writtenForRate }
    }
}
