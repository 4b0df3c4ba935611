#if canImport(Glibc)
import Glibc
#endif

/// Tells whether a listener speaks TLS, for a plain-text (`--insecure`) worker whose HTTP/2
/// preface was cut off: gRPC reports only that the connection closed, which could as well be a
/// coordinator that went away. A TLS server answers the preface with an alert record
/// (`15 03 …`) before it closes, so a second, raw connection that sends the same preface and
/// reads the first bytes back tells the two apart, and the worker can stop at once with the fix.
enum TLSListenerProbe {
    /// The HTTP/2 client preface (RFC 9113 §3.4), then an empty SETTINGS frame.
    private static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]

    /// True when the listener at `endpoint` answered a plain-text preface with a TLS record;
    /// false when it did not, could not be reached, or said nothing within `timeoutMilliseconds`.
    static func speaksTLS(_ endpoint: Endpoint, timeoutMilliseconds: Int32 = 2_000) -> Bool {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(list) }
        let socket = Glibc.socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var timeout = timeval(tv_sec: Int(timeoutMilliseconds / 1_000), tv_usec: Int(timeoutMilliseconds % 1_000) * 1_000)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            setsockopt(socket, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        guard connect(socket, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { return false }
        let sent = preface.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == preface.count else { return false }
        var answer = [UInt8](repeating: 0, count: 2)
        var received = 0
        while received < 2 {
            let count = answer.withUnsafeMutableBytes { recv(socket, $0.baseAddress! + received, 2 - received, 0) }
            guard count > 0 else { return false }
            received += count
        }
        // An alert (21) or handshake (22) record of TLS 1.x: the first bytes no HTTP/2 server sends.
        return (answer[0] == 0x15 || answer[0] == 0x16) && answer[1] == 0x03
    }
}
