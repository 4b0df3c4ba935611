import GRPCNIOTransportHTTP2
import NIOCore
import NIOSSL
import Synchronization

/// Closes connections that open no session: a socket that sends nothing (or never finishes its
/// TLS handshake) is closed after `deadline`, and at most `limit` such connections wait at once:
/// a new one past the limit closes the oldest waiting, so a flood of silent sockets cannot keep a
/// worker out. Without it, silent connections piled up to the open-files limit and the
/// coordinator spun. A worker opens its session within milliseconds of connecting.
final class ConnectionGuard: Sendable {
    let deadline: Duration
    let limit: Int
    /// Connections waiting for their first session stream, oldest first, and those that opened
    /// one; by identity, until they close. Every open connection by its peer ("ipv4:HOST:PORT",
    /// as gRPC names it in a call's context), so a call can close its own.
    private let connections = Mutex<(waiting: [(id: ObjectIdentifier, channel: any Channel)], opened: Set<ObjectIdentifier>,
                                     byPeer: [String: any Channel])>(([], [], [:]))

    /// Told of each TLS handshake that failed for a reason worth a line: the peer's
    /// "ipv4:HOST:PORT" and why (`HandshakeWatcher`).
    let handshakeFailed: @Sendable (String, HandshakeWatcher.Failure) -> Void

    init(deadline: Duration, limit: Int, handshakeFailed: @escaping @Sendable (String, HandshakeWatcher.Failure) -> Void = { _, _ in }) {
        self.deadline = deadline
        self.limit = limit
        self.handshakeFailed = handshakeFailed
    }

    var waitingCount: Int { connections.withLock { $0.waiting.count } }

    func accepted(_ channel: any Channel) -> EventLoopFuture<Void> {
        let id = ObjectIdentifier(channel)
        let peer = Self.peer(channel.remoteAddress)
        let evicted = connections.withLock { c -> (any Channel)? in
            c.byPeer[peer] = channel
            c.waiting.append((id, channel))
            return c.waiting.count > limit ? c.waiting.removeFirst().channel : nil
        }
        evicted?.close(promise: nil)
        // Over TLS, a watcher right after the TLS handler hears why a handshake failed.
        if let tls = try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self) {
            let report = handshakeFailed
            try? channel.pipeline.syncOperations.addHandler(HandshakeWatcher { report(peer, $0) }, position: .after(tls))
        }
        let (seconds, attoseconds) = deadline.components
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
            [self] in
            if !self.connections.withLock({ $0.opened.contains(id) }) { channel.close(promise: nil) }
        }
        channel.closeFuture.whenComplete { [self] _ in
            timer.cancel()
            self.connections.withLock { c in
                c.waiting.removeAll { $0.id == id }
                c.opened.remove(id)
                if let known = c.byPeer[peer], ObjectIdentifier(known) == id { c.byPeer[peer] = nil }
            }
        }
        return channel.eventLoop.makeSucceededVoidFuture()
    }

    /// Closes the connection of `peer` ("ipv4:HOST:PORT") after `delay`: time for what was
    /// written to it (a refusal's status) to leave first.
    func close(peer: String, after delay: Duration = .zero) {
        guard let channel = connections.withLock({ $0.byPeer[peer] }) else { return }
        if delay == .zero {
            channel.close(promise: nil)
        } else {
            let (seconds, attoseconds) = delay.components
            channel.eventLoop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
                channel.close(promise: nil)
            }
        }
    }

    /// Connections open now.
    var openCount: Int { connections.withLock { $0.byPeer.count } }

    /// A peer as gRPC's server transport names it in a call's context.
    static func peer(_ address: NIOCore.SocketAddress?) -> String {
        switch address {
        case .v4(let v4)?: return "ipv4:\(v4.host):\(address!.port ?? 0)"
        case .v6(let v6)?: return "ipv6:[\(v6.host)]:\(address!.port ?? 0)"
        default: return "<unknown>"
        }
    }

    func streamOpened(_ stream: any Channel) -> EventLoopFuture<Void> {
        if let connection = stream.parent {
            let id = ObjectIdentifier(connection)
            connections.withLock { c in
                c.waiting.removeAll { $0.id == id }
                c.opened.insert(id)
            }
        }
        return stream.eventLoop.makeSucceededVoidFuture()
    }
}
