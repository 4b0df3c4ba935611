@testable import ClusterEngine
import Testing
@testable import ClusterDashboard

@Suite("Layout by rectangles")
struct LayoutTests {
    @Test("lengths and minimums first, then maximums in order, then what is left shared by fills and minimums")
    func split() {
        let screen = Rect(width: 80, height: 24)
        let parts = screen.split(.vertical, [.length(5), .length(2), .max(10), .min(4), .length(1)])
        #expect(parts.map(\.height) == [5, 2, 10, 6, 1])
        #expect(parts.map(\.y) == [0, 5, 7, 17, 23] && parts.allSatisfy { $0.width == 80 && $0.x == 0 })
        // Two fills share what is left, the first taking the odd row.
        #expect(screen.split(.vertical, [.fill, .length(4), .fill]).map(\.height) == [10, 4, 10])
        #expect(Rect(width: 80, height: 25).split(.vertical, [.fill, .fill]).map(\.height) == [13, 12])
        // Too little room: the last parts shrink first, and a maximum gets only what is left.
        #expect(Rect(width: 80, height: 6).split(.vertical, [.length(5), .max(3), .length(4)]).map(\.height) == [5, 0, 1])
        let columns = Rect(x: 2, y: 3, width: 20, height: 1).split(.horizontal, [.length(4), .fill, .length(6)])
        #expect(columns.map(\.x) == [2, 6, 16] && columns.map(\.width) == [4, 10, 6] && columns.allSatisfy { $0.y == 3 })
        #expect(screen.centered(width: 40, height: 10) == Rect(x: 20, y: 7, width: 40, height: 10))
        #expect(screen.centered(width: 100, height: 30) == screen)
    }

    @Test("a frame's parts stand where the split puts them, at 80×24 and 200×60, with a two-line caption",
          arguments: [(80, 24), (200, 60)])
    func frameParts(size: (Int, Int)) throws {
        let (width, height) = size
        let workers = (1...40).map { Fixtures.worker($0) }
        let caption = "Join: cluster-top worker --join 192.168.100.200:7070/bxrp-x1p9-4th3-xgc9-n5fg-knrs-cqz0 from every laptop in the room"
        let frame = Fixtures.render(Fixtures.snapshot(workers: workers, job: try Fixtures.job()),
                                    state: ViewState(caption: caption), width: width, height: height)
        let lines = frame.buffer.lines
        let captionRows = DashboardView.captionLines(caption, width: width).count
        #expect(captionRows == (width == 80 ? 2 : 1))
        #expect(lines[0].contains("cluster-top") && lines[4].contains("done"))
        #expect(lines[5].contains("Join:"))
        let tableHeader = 5 + captionRows
        #expect(lines[tableHeader].contains("STATE") && lines[tableHeader].contains("RATE"))
        // The panel takes what leaves the log its title and three lines, above the footer; at
        // 80 columns (no RANGE column) the selected worker's chunk has a line under the table.
        let detail = width == 80 ? 1 : 0
        let logTitle = try #require(lines.firstIndex { $0.hasPrefix("── events") })
        #expect(logTitle == tableHeader + 1 + frame.workerRows + detail)
        if detail == 1 { #expect(lines[logTitle - 1].contains("▶ worker")) }
        #expect(height - 1 - logTitle - 1 >= DashboardView.minimumLogLines)
        #expect(frame.workerRows == min(40, height - tableHeader - 1 - detail - 1 - DashboardView.minimumLogLines - 1))
        #expect(lines[height - 1].contains("Help") && lines[height - 1].hasSuffix("Quit"))
    }
}
