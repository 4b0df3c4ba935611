import ProcessSupport
import ClusterEngine
import ClusterReporting
import Foundation
import Glibc

/// Figure 4: the real dashboard in a real terminal (tmux) against headless, same job, 64 workers.
struct DashboardCost {
    let measurements: Measurements
    let socket = "cluster-bench-\(getpid())"

    func tmux(_ arguments: [String]) throws -> String {
        try ChildProcess.run(["tmux", "-L", socket, "-f", "/dev/null"] + arguments).output
    }

    /// CPU seconds used so far by the process's main thread, which is the UI thread.
    static func mainThreadCPU(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Starts this figure's tmux server; false (and the figure says it is skipped) without tmux.
    func startServer(figure: String) throws -> Bool {
        guard (try? ChildProcess.run(["tmux", "-V"]))?.exitStatus == 0 else {
            emit("\n### \(figure)\n\nskipped: tmux is not installed")
            return false
        }
        // The server must not inherit our pipe: start it with its output going nowhere.
        _ = try ChildProcess.run(["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "keeper", "sleep 3600"],
                                 captureOutput: false)
        return true
    }

    func run() throws {
        guard try startServer(figure: "4. Dashboard cost") else { return }
        defer { _ = try? tmux(["kill-server"]) }
        _ = try tmux(["set-option", "-g", "remain-on-exit", "on"])
        // About 5 s of work on every core at the running kernel's measured speed (30 G elements
        // were 5 s for the AVX-512 kernel; at the IFMA kernel's speed they were half a second,
        // and the dashboard's start-up weighed in the ratio).
        let count = measurements.elements(lasting: 5, atLeast: 3e10)
        let arguments = "--range 1...\(count) --workers 64"
        var headless = Sample(), dashboard = Sample(), uiRunning = Sample()
        for run in 0..<measurements.runs {
            let plain = try ChildProcess.run([measurements.clusterTop] + arguments.split(separator: " ").map(String.init) + ["--headless"])
            guard let seconds = Self.seconds(in: plain.output, after: " elements in ") else { throw BenchError("headless run failed") }
            headless.add(seconds)

            let name = "dash\(run)"
            let pid = try startDashboard(session: name, arguments: arguments)
            let cpuStart = Self.mainThreadCPU(pid) ?? 0
            let started = Date()
            // Poll gently: each poll spawns a process, and this run is being measured.
            while try !tmux(["capture-pane", "-p", "-t", name]).contains("VERIFIED") {
                let dead = try tmux(["display-message", "-p", "-t", name, "#{pane_dead}"]).hasPrefix("1")
                if dead || Date().timeIntervalSince(started) > 600 { throw BenchError("the dashboard ended early") }
                usleep(500_000)
            }
            let cpuEnd = Self.mainThreadCPU(pid) ?? cpuStart
            let wall = Date().timeIntervalSince(started)
            _ = try tmux(["send-keys", "-t", name, "q"])
            // The exit line is printed after the terminal is restored: wait for the process to
            // end, then read the pane including its history.
            var screen = ""
            for _ in 0..<100 {
                usleep(100_000)
                guard try tmux(["display-message", "-p", "-t", name, "#{pane_dead}"]).hasPrefix("1") else { continue }
                screen = try tmux(["capture-pane", "-p", "-S", "-200", "-t", name])
                if screen.contains("verified in ") { break }
            }
            guard let seconds = Self.seconds(in: screen, after: "verified in ") else { throw BenchError("dashboard run failed:\n\(screen)") }
            dashboard.add(seconds)
            uiRunning.add((cpuEnd - cpuStart) / wall)
            _ = try tmux(["kill-session", "-t", name])
        }
        let uiPaused = try pausedCPU(arguments: "--range 1...\(Int64(1) << 40) --workers 64")
        let table = Table("4. Dashboard cost: 64 workers on 1...\(Format.grouped(count)), 10 frames/s in a 200×60 tmux window (median of \(measurements.runs) runs)",
                          ["mode", "job time", "throughput", "UI thread CPU", "spread"])
        table.row("headless", Format.fixed(headless.median, decimals: 3) + " s", Measurements.rate(count, headless.median), "", Measurements.spread(headless))
        table.row("dashboard, running", Format.fixed(dashboard.median, decimals: 3) + " s", Measurements.rate(count, dashboard.median),
                  Format.fixed(uiRunning.median * 100, decimals: 2) + "% of a core", Measurements.spread(dashboard))
        table.row("dashboard, all paused", "", "", Format.fixed(uiPaused * 100, decimals: 2) + "% of a core", "")
        emit("\nthroughput with the dashboard: \(Measurements.ratio(headless.median / dashboard.median)) of headless (floor 0.97×)")
    }

    /// Starts the dashboard at 10 frames/s in a 200×60 session; returns its pid (the pane's own
    /// process, thanks to exec).
    private func startDashboard(session: String, arguments: String) throws -> Int32 {
        _ = try tmux(["new-session", "-d", "-s", session, "-x", "200", "-y", "60",
                      "exec env TERM=xterm-256color LANG=C.UTF-8 \(measurements.clusterTop) \(arguments) --refresh 0.1"])
        let pane = try tmux(["display-message", "-p", "-t", session, "#{pane_pid}"])
        guard let pid = Int32(pane.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError("no dashboard process")
        }
        return pid
    }

    private func pausedCPU(arguments: String) throws -> Double {
        let pid = try startDashboard(session: "paused", arguments: arguments)
        defer { _ = try? tmux(["kill-session", "-t", "paused"]) }
        sleep(2)
        _ = try tmux(["send-keys", "-t", "paused", "P"])
        sleep(1)
        let before = Self.mainThreadCPU(pid) ?? 0
        sleep(5)
        let after = Self.mainThreadCPU(pid) ?? before
        _ = try tmux(["send-keys", "-t", "paused", "q"])
        return (after - before) / 5
    }

    /// Figure 17: the UI thread with 1,000 workers at 10 frames/s in a 200×60 window, as the
    /// table and as the grid, while they run.
    func manyWorkers() throws {
        guard try startServer(figure: "17. The UI thread with 1,000 workers") else { return }
        defer { _ = try? tmux(["kill-server"]) }
        var table = Sample(), grid = Sample()
        for run in 0..<measurements.runs {
            let name = "many\(run)"
            let pid = try startDashboard(session: name, arguments: "--range 1...\(Int64(1) << 43) --workers 1000")
            defer { _ = try? tmux(["kill-session", "-t", name]) }
            let started = Date()
            while try !tmux(["capture-pane", "-p", "-t", name]).contains("1000 running") {
                if Date().timeIntervalSince(started) > 120 { throw BenchError("1,000 workers did not all start") }
                usleep(500_000)
            }
            func measure() -> Double {
                let before = Self.mainThreadCPU(pid) ?? 0
                sleep(5)
                return ((Self.mainThreadCPU(pid) ?? before) - before) / 5
            }
            table.add(measure())
            _ = try tmux(["send-keys", "-t", name, "v"])
            sleep(1)
            grid.add(measure())
            _ = try tmux(["send-keys", "-t", name, "q"])
        }
        let result = Table("17. The UI thread with 1,000 workers running, 10 frames/s in a 200×60 tmux window (median of \(measurements.runs) runs of 5 s)",
                           ["view", "UI thread CPU", "floor", "spread"])
        result.row("worker table", Format.fixed(table.median * 100, decimals: 2) + "% of a core", "5%", Measurements.spread(table))
        result.row("cluster grid", Format.fixed(grid.median * 100, decimals: 2) + "% of a core", "5%", Measurements.spread(grid))
    }

    /// The number of seconds written right after `marker`, as in "… in 12.345 s".
    static func seconds(in text: String, after marker: String) -> Double? {
        guard let range = text.range(of: marker) else { return nil }
        return Double(text[range.upperBound...].prefix { $0.isNumber || $0 == "." })
    }
}
