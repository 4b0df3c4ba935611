import Foundation

/// A second machine for one test: a network namespace joined to this one by a veth pair. This
/// side is `localAddress`, the other `peerAddress`; `launcher` runs a program over there. So a
/// test can tell two hosts apart by address, as a coordinator does, on one machine.
final class PeerHost {
    let name: String
    let localAddress: String
    let peerAddress: String
    private let link: String

    static var unavailable: String? { FaultLink.unavailable }

    init() throws {
        let n = Int(getpid() % 60_000) + Int.random(in: 0..<1_000)
        name = "ct-peer-\(n)"
        link = "ctp\(n)"
        let (x, y) = (n / 250 % 250 + 1, n % 250 * 4 % 252)
        localAddress = "10.\(200 + x % 50).\(y).1"
        peerAddress = "10.\(200 + x % 50).\(y).2"
        try Self.ip(["netns", "add", name])
        do {
            try Self.ip(["link", "add", link + "a", "type", "veth", "peer", "name", link + "b", "netns", name])
            try Self.ip(["addr", "add", localAddress + "/30", "dev", link + "a"])
            try Self.ip(["link", "set", link + "a", "up"])
            try Self.ip(["-n", name, "addr", "add", peerAddress + "/30", "dev", link + "b"])
            try Self.ip(["-n", name, "link", "set", link + "b", "up"])
            try Self.ip(["-n", name, "link", "set", "lo", "up"])
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    /// What runs a program on the other host.
    var launcher: [String] { [FaultLink.ip!, "netns", "exec", name] }

    private func remove() {
        try? Self.ip(["link", "del", link + "a"])
        try? Self.ip(["netns", "del", name])
    }

    private static func ip(_ arguments: [String]) throws {
        let command = Process()
        command.executableURL = URL(fileURLWithPath: FaultLink.ip!)
        command.arguments = arguments
        command.standardOutput = FileHandle.nullDevice
        command.standardError = FileHandle.nullDevice
        try command.run()
        command.waitUntilExit()
        guard command.terminationStatus == 0 else {
            throw FaultLinkFailure("ip \(arguments.joined(separator: " ")) failed (\(command.terminationStatus))")
        }
    }
}
