import Foundation

/// A gRPC call made by hand over a plain TCP socket: the HTTP/2 preface, an empty SETTINGS and
/// one HEADERS frame (HPACK literals, no Huffman) for Coordinator.Work with a token. What a
/// guesser needs, and nothing a client library would add (reconnect back-off, pooling).
enum RawHTTP2 {
    /// Makes the call; true if anything came back before the connection closed or `patience`
    /// seconds passed.
    static func call(port: Int, token: String, patience: Double) -> Bool {
        guard let fd = SilentConnectionTests.loopbackConnection(port: port) else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(patience), tv_usec: Int((patience - Double(Int(patience))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var headers: [UInt8] = []
        for (name, value) in [(":method", "POST"), (":scheme", "http"), (":path", "/clustertop.v1.Coordinator/Work"),
                              (":authority", "127.0.0.1"), ("content-type", "application/grpc"), ("te", "trailers"),
                              ("cluster-token", token)] {
            headers.append(0x00)  // literal header field without indexing, new name
            headers.append(UInt8(name.utf8.count)); headers += Array(name.utf8)
            headers.append(UInt8(value.utf8.count)); headers += Array(value.utf8)
        }
        var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]
        bytes += [UInt8(headers.count >> 16), UInt8(headers.count >> 8 & 0xff), UInt8(headers.count & 0xff), 0x01, 0x04, 0, 0, 0, 1]
        bytes += headers
        guard send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        return recv(fd, &buffer, buffer.count, 0) > 0
    }
}

