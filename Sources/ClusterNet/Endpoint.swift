import ClusterEngine

/// A HOST:PORT on the command line: `0.0.0.0:7070`, `node-3.lab:7070`, `[::1]:7070`.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses HOST:PORT; `allowAnyPort` admits port 0 (the system picks one), for listening.
    public static func parse(_ text: String, what: String, allowAnyPort: Bool = false) throws(InputError) -> Endpoint {
        let text = InputParsing.trimmed(text)
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw InputError("\(what) '\(text)' must be HOST:PORT, for example [::1]:7070") }
            portPart = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw InputError("\(what) '\(text)' must be HOST:PORT, for example 127.0.0.1:7070 (IPv6 in brackets: [::1]:7070)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, !hostPart.contains(where: { $0 == " " || $0 == "/" }) else {
            throw InputError("\(what) '\(text)' has no usable host before the ':'")
        }
        guard let port = Int(portPart), (allowAnyPort ? 0 : 1)...65535 ~= port else {
            throw InputError("\(what) '\(text)': the port must be a number from \(allowAnyPort ? 0 : 1) to 65535")
        }
        return Endpoint(host: String(hostPart), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
