import Foundation
import Testing
import ClusterTestSupport
import ClusterEngine
@testable import ClusterScript

@Suite("Script format")
struct ScriptFormatTests {
    @Test("every action, both kinds of time, comments and blank lines")
    func parsesEverything() throws {
        let text = """
            # a comment line

            caption "Static, with a straggler"   # trailing comment
            workers cores*2
            add
            add 3
            at 2s throttle 1 25%
            +500ms pause all
            +1.5 resume 2
            kill 3
            restart all
            remove 4
            schedule stealing
            chunk-size 1_000
            submit -5...5_000
            wait job
            view timeline
            """
        let steps = try Script.parse(text, source: "t.script").steps
        #expect(steps.map(\.action) == [
            .caption("Static, with a straggler"), .workers(.cores(times: 2, plus: 0)), .add(.exactly(1)),
            .add(.exactly(3)), .throttle(.worker(1), speed: 0.25), .pause(.all), .resume(.worker(2)),
            .kill(.worker(3)), .restart(.all), .remove(.worker(4)), .schedule(.stealing), .chunkSize(1000),
            .submit(lo: -5, hi: 5000), .wait(.jobsFinished), .view(.timeline),
        ])
        #expect(steps.map(\.line) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17])
        #expect(steps[4].timing == .at(2))
        #expect(steps[5].timing == .after(0.5))
        #expect(steps[6].timing == .after(1.5))
        #expect(steps[7].timing == .after(0))
    }

    @Test("a time's unit may be a word of its own: at 5 seconds, +500 ms, at 2 s")
    func unitWords() throws {
        let script = try Script.parse("at 5 seconds kill 1\n+500 ms add\nat 7 s add\nat 8 sec pause 1", source: "lesson.txt")
        #expect(script.steps.map(\.timing) == [.at(5), .after(0.5), .at(7), .at(8)])
        #expect(script.steps.first?.action == .kill(.worker(1)))
    }

    @Test("a malformed script is refused with its line number and what to do", arguments: [
        ("add\nkil 2", 2, "unknown action 'kil'"),
        // The list of actions names every one.
        ("jump", 1, "caption, workers, add, remove, pause, resume, kill, restart, throttle, forge, schedule, chunk-size, submit, kernel, wait, view, measure"),
        ("at 5 parsecs kill 1", 1, "unknown action 'parsecs'"),
        ("at -1 seconds add", 1, "'at' needs a time"),
        ("throttle 1 150%", 1, "out of range"),
        // The script's own form, not the command line's WORKER:FACTOR.
        ("throttle 2 fast", 1, "a percentage, like 'throttle 1 25%'"),
        ("at 5s add\nat 2s add", 2, "earlier than a step above"),
        ("+two add", 1, "not a delay"),
        ("\n\nsubmit 10...1", 3, "LO must not exceed HI"),
        ("chunk-size 0", 1, "at least 1"),
        ("schedule fastest", 1, "static, dynamic, stealing"),
        ("pause worker3", 1, "not a worker"),
        ("workers many", 1, "cores*N"),
        ("view graph", 1, "workers, grid, timeline, speedup"),
        ("submit 1...10_000_000_000_000_000", 1, "does not fit in 128 bits"),
        ("# only comments\n", 1, "no actions"),
        ("wait 100%", 1, "as in 'wait 25%'"),
        ("wait 5", 1, "as in 'wait 25%'"),
        ("measure throughput", 1, "'measure speedup'"),
    ])
    func refusesWithLine(text: String, line: Int, fragment: String) {
        #expect {
            try Script.parse(text, source: "lesson.txt")
        } throws: { error in
            guard let error = error as? ScriptError else { return false }
            return error.line == line && error.description.hasPrefix("lesson.txt:\(line): ")
                && error.description.contains(fragment)
        }
    }

    @Test("the built-in demo parses and covers every lesson")
    func demoParses() throws {
        let actions = DemoScript.script().steps.map(\.action)
        #expect(actions.contains(.schedule(.static)) && actions.contains(.schedule(.dynamic))
                && actions.contains(.schedule(.stealing)))
        #expect(actions.contains(.kill(.worker(2))))
        #expect(actions.contains(.workers(.cores(times: 2, plus: 0))))
        #expect(actions.contains { if case .throttle(_, let speed) = $0 { speed < 1 } else { false } })
        #expect(actions.contains(.view(.timeline)) && actions.contains(.view(.speedup)))
        // Lesson 5: scalar first, then every variant this CPU runs, slowest to fastest, the
        // best last, each with a job of its own; the jobs view compares them.
        let kernels = actions.compactMap { if case .kernel(let variant) = $0 { variant } else { nil } }
        #expect(kernels == KernelVariant.supported && kernels.last == KernelVariant.best)
        let scalar = try #require(actions.firstIndex(of: .kernel(.scalar)))
        let best = try #require(actions.lastIndex(of: .kernel(KernelVariant.best)))
        #expect(actions[scalar..<best].contains(.view(.jobs)))
        for variant in KernelVariant.supported.dropFirst() {
            let step = try #require(actions.firstIndex(of: .kernel(variant)))
            #expect(actions[step...].prefix(4).contains(.submit(lo: 1, hi: 14_000_000_000)), "\(variant)")
        }
        // On a CPU of fewer variants (one without AVX-512), the lesson steps through those.
        let older = try Script.parse(DemoScript.text(variants: [.scalar, .sse2, .avx2]), source: "demo").steps.map(\.action)
        let olderKernels = older.compactMap { action -> KernelVariant? in if case .kernel(let variant) = action { variant } else { nil } }
        #expect(olderKernels == [.scalar, .sse2, .avx2])
    }

    @Test("each lesson ends on a caption saying what it showed, held at least 3 s before the next lesson's first step; no two steps of lesson 1 coincide on any core count")
    func demoConclusionsHold() throws {
        let steps = DemoScript.script().steps
        var starts: [Int] = []
        for (i, step) in steps.enumerated() {
            if case .caption(let text) = step.action, text.hasPrefix("Lesson "), text.contains(" of 6:") { starts.append(i) }
        }
        #expect(starts.count == 6)
        for start in starts.dropFirst() {
            // Back from the lesson's caption to the previous lesson's last wait: a conclusion
            // caption after it, and a delay of 3 s or more before anything of the new lesson.
            let lastWait = try #require(steps[..<start].lastIndex { if case .wait = $0.action { true } else { false } })
            let between = steps[(lastWait + 1)..<start]
            let conclusion = try #require(between.firstIndex { if case .caption = $0.action { true } else { false } },
                                          "nothing said after line \(steps[lastWait].line)")
            let held = steps[(conclusion + 1)...start].first { if case .caption = $0.action { false } else { true } } ?? steps[start]
            if case .after(let seconds) = held.timing { #expect(seconds >= 3, "line \(held.line)") } else {
                Issue.record("line \(held.line) starts the next lesson at once")
            }
        }
        // Lesson 1 goes 1 worker → one per core → twice the cores: no step that is the same
        // state as the one before on some machine ("a second worker" was "one per core" on 2 cores).
        let lesson1 = steps[starts[0]..<starts[1]].map(\.action)
        #expect(!lesson1.contains(.add(.exactly(1))) && lesson1.contains(.workers(.cores(times: 1, plus: 0))))
    }

    @Test("'kernel' chooses a variant this CPU runs; one it cannot run is refused with the ones it can")
    func kernelStep() throws {
        let script = try Script.parse("kernel scalar\nkernel auto", source: "t")
        #expect(script.steps.map(\.action) == [.kernel(.scalar), .kernel(KernelVariant.best)])
        let missing = KernelVariant.allCases.first { !$0.isSupported }
        for text in ["kernel", "kernel fastest"] + (missing.map { ["kernel \($0)"] } ?? []) {
            #expect(throws: ScriptError.self, "\(text)") { try Script.parse(text, source: "t") }
        }
    }

    @Test("pacing divides delays, ranges and chunk sizes alike")
    func pacing() throws {
        let script = try Script.parse("chunk-size 1000\nsubmit 1...100000\n+4s add\nat 10s kill 1", source: "t")
        let fast = script.paced(4)
        #expect(fast.steps.map(\.action) == [.chunkSize(250), .submit(lo: 1, hi: 25_000), .add(.exactly(1)), .kill(.worker(1))])
        #expect(fast.steps[2].timing == .after(1))
        #expect(fast.steps[3].timing == .at(2.5))
    }
}

@Suite("Script player")
struct ScriptPlayerTests {
    @Test("steps run when due, a wait holds until the jobs finish, and settings reach submitted jobs")
    func playsInOrder() throws {
        // Job 1 is held at the gate until the test has seen the wait hold.
        let gate = KernelGate()
        let cluster = gate.cluster()
        defer {
            gate.open()
            cluster.shutdown()
        }
        let script = try Script.parse("""
            workers 2
            schedule static
            chunk-size 100000
            submit 1...2000000
            wait
            caption done with the first
            +1s throttle all 50%
            at 30s kill 1
            """, source: "t")
        var player = ScriptPlayer(script: script, cores: 2)
        var played = player.advance(now: 100, cluster: cluster)
        // Everything up to the wait runs at once; the wait holds until job 1 is finished.
        #expect(played.map(\.line).prefix(4) == [1, 2, 3, 4])
        #expect(cluster.snapshot().workers.count == 2)
        #expect(gate.waitUntilHolding(2))
        #expect(player.advance(now: 100.5, cluster: cluster).isEmpty, "the wait holds while job 1 runs")
        gate.open()
        let job = try #require(player.jobs.first)
        let summary = try #require(cluster.waitForJob(job, timeout: 120))
        #expect(summary.spec.schedule == .static && summary.spec.chunkSize == 100_000 && summary.verified)
        played = player.advance(now: 101, cluster: cluster)
        #expect(played.map(\.line) == [5, 6])
        #expect(player.caption == "done with the first")
        #expect(player.advance(now: 101.5, cluster: cluster).isEmpty)  // +1s after the wait ended at 101
        #expect(player.advance(now: 102, cluster: cluster).map(\.line) == [7])
        #expect(cluster.snapshot().workers.allSatisfy { $0.speed == 0.5 })
        #expect(!player.isFinished)
        #expect(player.advance(now: 129, cluster: cluster).isEmpty)  // at 30s after the start at 100
        #expect(player.advance(now: 130, cluster: cluster).map(\.line) == [8])
        #expect(cluster.snapshot().workers[0].state == .dead)
        #expect(player.isFinished)
    }

    @Test("wait N% holds the script until the running job has come that far")
    func waitsForProgress() throws {
        // One worker takes chunks of 100 in order; the gate lets the first half through and holds
        // the second, so the job stands at exactly 50% until the test opens it.
        let gate = KernelGate(passing: { lo, _ in lo <= 500 })
        let cluster = gate.cluster()
        defer {
            gate.open()
            cluster.shutdown()
        }
        let script = try Script.parse("""
            workers 1
            chunk-size 100
            submit 1...1000
            wait 50%
            caption half
            wait 60%
            caption more
            """, source: "t")
        var player = ScriptPlayer(script: script, cores: 2)
        #expect(player.advance(now: 0, cluster: cluster).map(\.line) == [1, 2, 3])
        #expect(gate.waitUntilHolding(1))
        #expect(cluster.snapshot().job?.progress == 0.5)
        #expect(player.advance(now: 1, cluster: cluster).map(\.line) == [4, 5])
        #expect(player.advance(now: 2, cluster: cluster).isEmpty, "60% is not reached while the gate holds")
        gate.open()
        let job = try #require(player.jobs.first)
        #expect(cluster.waitForJob(job, timeout: 120)?.verified == true)
        // A finished job ends every wait.
        #expect(player.advance(now: 3, cluster: cluster).map(\.line) == [6, 7])
        #expect(player.errors == 0)
    }

    @Test("measure speedup runs 1, 2 … N workers, each until measured, then says what it measured")
    func measuresSpeedup() throws {
        // Deliberate pacing: each sub-block sleeps a millisecond, so the job outlasts the
        // measurement (thousands of seconds) whatever the machine's speed.
        var configuration = ClusterConfiguration()
        configuration.kernel = { lo, hi in
            usleep(1_000)
            return SumOfSquaresKernel.standard(lo, hi)
        }
        configuration.cpuTokens = .unbounded()
        let cluster = Cluster(configuration: configuration)
        defer { cluster.shutdown() }
        let script = try Script.parse("""
            workers 3
            throttle 1 50%
            submit 1...1_000_000_000_000
            measure speedup 2
            """, source: "t")
        var player = ScriptPlayer(script: script, cores: 2)
        var played: [ScriptPlayer.Played] = []
        var counts: [Int] = []
        let measured = eventually(within: 120) {
            played += player.advance(now: cluster.snapshot().time, cluster: cluster)
            if let now = player.measuring?.workers, counts.last != now { counts.append(now) }
            return player.isFinished
        }
        #expect(measured, "still measuring: \(String(describing: player.measuring))")
        #expect(counts == [1, 2])
        let result = try #require(played.last)
        #expect(!result.isError && result.isFinding, "\(result)")
        #expect(result.text.hasPrefix("speedup measured: 1: ") && result.text.contains("2: "), "\(result.text)")
        #expect(player.speedup.points.keys.sorted() == [1, 2])
        // Throttled workers were set to full speed, or nothing would have counted.
        #expect(cluster.snapshot().workers.allSatisfy { $0.speed == 1 })
    }

    @Test("measure speedup with no job running is an error that says what to do")
    func measureNeedsAJob() throws {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        var player = ScriptPlayer(script: try Script.parse("workers 1\nmeasure speedup", source: "t"), cores: 2)
        let played = player.advance(now: 0, cluster: cluster)
        #expect(played.last?.isError == true)
        #expect(played.last?.text == "measure speedup: no job was running; submit a job long enough to measure")
    }

    @Test("a step naming a worker that does not exist is an error, and the script goes on")
    func missingWorker() throws {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        var player = ScriptPlayer(script: try Script.parse("workers 2\nkill 5\npause 2", source: "t"), cores: 2)
        let played = player.advance(now: 0, cluster: cluster)
        #expect(played.map(\.line) == [1, 2, 3])
        #expect(played.map(\.isError) == [false, true, false])
        #expect(played[1].text == "kill worker 5: there is no worker 5; live workers: 1, 2")
        #expect(player.errors == 1)
        #expect(eventually { cluster.snapshot().workers[1].state == .paused })
    }

    @Test("workers N adds or removes the newest live workers")
    func workersCount() throws {
        let cluster = Cluster()
        defer { cluster.shutdown() }
        var player = ScriptPlayer(script: try Script.parse("workers cores+1\n+1s workers 1", source: "t"), cores: 2)
        _ = player.advance(now: 0, cluster: cluster)
        #expect(cluster.snapshot().workers.count == 3)
        _ = player.advance(now: 1, cluster: cluster)
        let states = cluster.snapshot().workers.map(\.state)
        #expect(states[0] != .removed && states[1] == .removed && states[2] == .removed)
    }
}

@Suite("Sizing scripts for a kernel")
struct ScriptSizingTests {
    @Test("resizing multiplies ranges and chunk sizes, keeps delays, and stays within the accepted range")
    func resized() throws {
        let script = try Script.parse("chunk-size 1000\nsubmit 11...1010\n+2s kill 1", source: "t")
        let twice = script.resized(by: 2)
        #expect(twice.steps.map(\.action) == [.chunkSize(2000), .submit(lo: 11, hi: 2010), .kill(.worker(1))])
        #expect(twice.steps.map(\.timing) == script.steps.map(\.timing))
        let huge = try Script.parse("submit 1...1_000_000_000_000", source: "t").resized(by: 1e6)
        #expect(huge.steps.map(\.action) == [.submit(lo: 1, hi: JobSpec.largestAcceptedMagnitude)])
    }

    @Test("the demo sizes each job for the measured speed of the kernel that runs it")
    func demoSizing() {
        let written = DemoScript.script()
        let rate = DemoScript.writtenForRate
        var rates = Dictionary(uniqueKeysWithValues: KernelVariant.supported.map { ($0, rate * 3) })
        rates[.scalar] = rate / 2
        let measured = DemoScript.script(kernelPeaks: KernelPeaks(rates: rates))
        func jobSizes(_ script: Script) -> [Int64] {
            script.steps.compactMap { step in if case let .submit(lo, hi) = step.action { hi - lo + 1 } else { nil } }
        }
        #expect(jobSizes(written).first == 90_000_000_000)
        let scaled = zip(jobSizes(written), jobSizes(measured)).map { Double($1) / Double($0) }
        // Lessons 1-4 run the active kernel (3×); lesson 5 runs one job with the scalar kernel
        // (½×) on one worker and on every core, then the same job with each vector kernel: sized
        // for the slowest, so that it lasts as written at first and each vector kernel's gain
        // shows as time saved. Lesson 6's two jobs run the active kernel again.
        let lesson5 = 1 + KernelVariant.supported.count
        #expect(scaled.dropLast(2 + lesson5).allSatisfy { abs($0 - 3) < 1e-6 })
        #expect(scaled.dropLast(2).suffix(lesson5).allSatisfy { abs($0 - 0.5) < 1e-6 }, "\(scaled)")
        #expect(scaled.suffix(2).allSatisfy { abs($0 - 3) < 1e-6 }, "\(scaled)")
        #expect(measured.steps.map(\.timing) == written.steps.map(\.timing), "the lessons keep their timing")
    }

    @Test("start-up calibration measures every variant this CPU runs")
    func kernelPeaks() {
        let peaks = KernelPeaks.measure(budgetPerVariant: 0.002)
        #expect(Set(peaks.rates.keys) == Set(KernelVariant.supported))
        #expect(peaks.rates.values.allSatisfy { $0 > 0 && $0.isFinite })
    }

    @Test("calibration measures the kernel it is given")
    func calibration() {
        // A kernel that spends a millisecond on every sub-block, however fast the machine: it can
        // never be measured faster than 65,536 elements a millisecond.
        let slow: ChunkRunner.Kernel = { lo, hi in
            let until = MonotonicClock.nanoseconds() + 1_000_000
            while MonotonicClock.nanoseconds() < until {}
            return SumOfSquaresKernel.sum(lo, hi)
        }
        let rate = KernelCalibration.elementsPerSecond(of: slow, subBlock: 65_536, budget: 0.005)
        #expect(rate > 0 && rate <= 65_536_000)
    }
}

@Suite("A lying worker in a script")
struct ForgeScriptTests {
    @Test("forge W: the worker's next sum is caught as it arrives; the player says so, and the job ends verified")
    func forge() throws {
        var configuration = ClusterConfiguration()
        configuration.auditsAcceptedChunks = true
        configuration.cpuTokens = .unbounded()
        let cluster = Cluster(configuration: configuration)
        defer { cluster.shutdown() }
        let script = try Script.parse("""
            workers 1
            forge 1
            submit 1...8_000_000
            wait job
            """, source: "t")
        #expect(script.steps.map(\.action).contains(.forge(.worker(1))))
        var player = ScriptPlayer(script: script, cores: 2)
        var played: [ScriptPlayer.Played] = []
        // The liar alone holds the job's first chunk: it must hand it in, and it is caught.
        #expect(eventually {
            played += player.advance(now: cluster.snapshot().time, cluster: cluster)
            return (cluster.snapshot().job?.wrongSums ?? 0) > 0
        })
        #expect(played.contains { $0.text == "forged sums from worker 1" }, "\(played.map(\.text))")
        // An honest worker finishes what the benched liar cannot.
        cluster.addWorker()
        #expect(eventually(within: 120) {
            played += player.advance(now: cluster.snapshot().time, cluster: cluster)
            return player.isFinished
        })
        let summary = try #require(cluster.summary(of: JobID(1)))
        #expect(summary.verified && summary.wrongSums >= 1)
        #expect(summary.acceptedChunks?.sorted() == Array(0..<2))
        #expect(cluster.events(after: 0).contains { $0.message.hasPrefix("worker 1 sent a wrong sum for chunk") })
    }
}
