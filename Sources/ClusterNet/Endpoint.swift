import ClusterEngine
#if canImport(Glibc)
import Glibc
#endif

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

    /// True for a literal IPv4 or IPv6 address, which needs no name lookup.
    public var isAddress: Bool {
        if host.contains(":") { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The same endpoint with its host name looked up (`localhost:7070` → `127.0.0.1:7070`), as
    /// a listening socket needs; IPv4 first when the name has both. An address stays as it is.
    public func resolved(what: String) throws(InputError) -> Endpoint {
        if isAddress { return self }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            let reason = String(cString: gai_strerror(status))
            throw InputError("\(what): cannot find the address of '\(host)' (\(reason)); give a name or address of this machine, for example 0.0.0.0:\(port)")
        }
        defer { freeaddrinfo(list) }
        var candidates: [(family: Int32, text: String)] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(current.pointee.ai_addr, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                candidates.append((current.pointee.ai_family, String(cString: buffer)))
            }
            entry = current.pointee.ai_next
        }
        guard let chosen = candidates.first(where: { $0.family == AF_INET }) ?? candidates.first else {
            throw InputError("\(what): '\(host)' has no usable address")
        }
        return Endpoint(host: chosen.text, port: port)
    }
}
