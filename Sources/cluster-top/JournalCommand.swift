import ArgumentParser
import ClusterEngine
import ClusterJournal
import ClusterReporting
import ClusterTerminal
import Foundation

/// `cluster-top journal FILE`: what a journal holds, without opening it for writing.
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Print what a --journal file holds: its jobs, how far each got, the exact total so far, and who summed what.",
        discussion: "Reads the file without writing to it, also while a coordinator writes it. Exit 65 for a file that is not a journal or is damaged.")

    @Argument(help: ArgumentHelp("The journal, as given to --journal.", valueName: "FILE"))
    var file: String

    @Flag(name: .long, help: "One JSON object instead of text.")
    var json = false

    func run() throws {
        let report: JournalReport
        do {
            report = try JournalReport.read(file)
        } catch {
            throw CommandFailure(message: error.description, status: JournalError.exitStatus)
        }
        // The root command has a --json of its own, and ArgumentParser gives it a flag that
        // both declare; so the flag is also looked for among this command's arguments.
        if json || CommandLine.arguments.drop { $0 != "journal" }.contains("--json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(report)
            StandardStreams.output(String(decoding: data, as: UTF8.self) + "\n")
            return
        }
        for line in Self.lines(report, now: Date().timeIntervalSince1970) { StandardStreams.output(line + "\n") }
    }

    static func lines(_ report: JournalReport, now: Double) -> [String] {
        var lines = ["journal \(report.path): format \(report.format), \(report.jobs.count) job\(report.jobs.count == 1 ? "" : "s"), "
                     + "last written \(report.lastWrittenAt.map { when($0, now: now) } ?? "never")"]
        for job in report.jobs {
            let percent = Format.fixed(100 * Double(job.chunksAccepted) / Double(max(1, job.chunks)), decimals: 1)
            lines.append("job \(job.id)  \(NumberText.range(job.lo, job.hi))  chunks of \(Format.grouped(job.chunkSize))  \(job.schedule)  "
                         + "\(job.state)  \(Format.grouped(job.chunksAccepted)) of \(Format.grouped(job.chunks)) chunks (\(percent)%)")
            let exact = job.acceptedTotal == job.closedForm ? "  = the closed form" : ""
            lines.append("  accepted total \(job.acceptedTotal)\(exact)")
            let runs = Set(job.summedBy.map(\.run)).count
            for summer in job.summedBy {
                let who = "worker \(summer.worker)" + (summer.host.map { " on \($0)" } ?? " (the coordinator's machine)")
                lines.append("  \(runs > 1 ? "run \(summer.run), " : "")\(who): \(Format.grouped(summer.chunks)) chunks, "
                             + "\(Format.grouped(summer.elements)) elements")
            }
        }
        return lines
    }

    static func when(_ time: Double, now: Double) -> String {
        let formatter = ISO8601DateFormatter()
        let ago = max(0, now - time)
        let agoText = ago < 120 ? "\(Int(ago)) s ago" : ago < 7200 ? "\(Int(ago / 60)) min ago" : "\(Int(ago / 3600)) h ago"
        return "\(formatter.string(from: Date(timeIntervalSince1970: time))) (\(agoText))"
    }
}
