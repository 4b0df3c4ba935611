import Foundation
import Testing

/// The commands README.md and docs/ show, held against the program: every `cluster-top` line
/// in their shell blocks names a subcommand that exists and only options its `--help` lists.
@Suite("Documented commands")
struct DocumentedCommandTests {
    struct Command: CustomStringConvertible {
        let file: String
        let subcommand: String?
        let options: [String]
        let line: String
        var description: String { "\(file): \(line)" }
    }

    static let subcommands: Set<String> = ["serve", "worker", "journal"]

    /// The shell blocks' lines that run cluster-top, continuations joined, comments cut.
    static func commands() throws -> [Command] {
        let docs = BinaryProcess.repository.appendingPathComponent("docs")
        let pages = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }.sorted()
        var files = [("README.md", BinaryProcess.repository.appendingPathComponent("README.md"))]
        files += pages.map { ("docs/\($0)", docs.appendingPathComponent($0)) }
        var commands: [Command] = []
        for (name, url) in files {
            var inShell = false, pending = ""
            for raw in try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
                let line = String(raw)
                if line.hasPrefix("```") { inShell = !inShell && line == "```sh"; continue }
                guard inShell else { continue }
                // A comment starts at a # that begins a word.
                let code = line.replacingOccurrences(of: #"(^|\s)#.*$"#, with: "", options: .regularExpression)
                if code.hasSuffix("\\") { pending += code.dropLast() + " "; continue }
                let whole = pending + code
                pending = ""
                let words = whole.split(whereSeparator: \.isWhitespace).map(String.init)
                guard let at = words.firstIndex(where: { $0 == "cluster-top" || $0.hasSuffix("/cluster-top") }) else { continue }
                // Only what this command line passes to cluster-top: up to a pipe or the next command.
                let own = words[(at + 1)...].prefix { !["|", "&&", ";", "||", ">", "2>"].contains($0) }
                let subcommand = own.first.flatMap { subcommands.contains($0) ? $0 : nil }
                let options = own.filter { $0.hasPrefix("--") }.map { String($0.split(separator: "=")[0]) }
                commands.append(Command(file: name, subcommand: subcommand, options: options, line: whole.trimmingCharacters(in: .whitespaces)))
            }
        }
        return commands
    }

    @Test("every cluster-top command in README.md and docs/ uses a subcommand and options the program has")
    func commandsMatchHelp() throws {
        let commands = try Self.commands()
        #expect(commands.count >= 15, "the shell blocks were read: \(commands.count) commands")
        #expect(commands.contains { $0.file == "README.md" && $0.subcommand == nil }, "README's own commands")
        var helps: [String: String] = [:]
        for name in [nil] + Self.subcommands.sorted() as [String?] {
            let result = try BinaryProcess.run((name.map { [$0] } ?? []) + ["--help"])
            #expect(result.status == 0, "\(name ?? "cluster-top") --help: \(result.stderr)")
            helps[name ?? ""] = result.stdout
        }
        for command in commands {
            let help = helps[command.subcommand ?? ""] ?? ""
            for option in command.options where option != "--help" {
                let listed = help.range(of: #"(^|[\s,\[])"# + NSRegularExpression.escapedPattern(for: option) + #"($|[\s,=<\]])"#,
                                        options: .regularExpression) != nil
                #expect(listed, "\(option) is not an option of \(command.subcommand ?? "cluster-top"): \(command)")
            }
        }
    }
}
