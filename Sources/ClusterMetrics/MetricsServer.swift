import ClusterModel
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Why `--metrics` could not listen.
public struct MetricsServerError: Error, CustomStringConvertible {
    public let description: String
}

/// Serves `MetricsExporter`'s exposition at `GET /metrics` over HTTP/1.1, on SwiftNIO's own
/// event loop (one thread). Any client may be hostile: at most `connectionLimit` connections are
/// open at once (a new one past it closes the oldest, so whoever holds many cannot lock the next
/// scrape out), one that says nothing for `idleTimeout` is closed, request bodies are read and
/// dropped, and a flood of scrapes shares one snapshot per tenth of a second (`MetricsExporter`).
public final class MetricsServer: Sendable {
    /// Where it listens, with the port the system picked for port 0.
    public let host: String
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    public static let connectionLimit = 64
    public static let idleTimeout = TimeAmount.seconds(30)

    public init(host: String, port: Int, exporter: MetricsExporter) throws(MetricsServerError) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connections = OpenConnections(limit: Self.connectionLimit)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                connections.opened(channel)
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                    try sync.addHandler(MetricsRequestHandler(exporter: exporter))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw MetricsServerError(description: "cannot serve metrics on \(host):\(port): \(Self.reason(error))")
        }
        self.group = group
        self.host = host
        self.port = channel.localAddress?.port ?? port
    }

    /// The address to give Prometheus: `http://HOST:PORT/metrics`.
    public var url: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)/metrics" }

    public func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    private static func reason(_ error: any Error) -> String {
        (error as? IOError).map { ListenProblem.words(errno: $0.errnoCode) } ?? "\(error)"
    }
}

/// The connections open now, oldest first: past the limit, a new one closes the oldest.
private final class OpenConnections: Sendable {
    let limit: Int
    private let open = Mutex<[(id: ObjectIdentifier, channel: any Channel)]>([])

    init(limit: Int) { self.limit = limit }

    func opened(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let evicted = open.withLock { open -> (any Channel)? in
            open.append((id, channel))
            return open.count > limit ? open.removeFirst().channel : nil
        }
        evicted?.close(promise: nil)
        channel.closeFuture.whenComplete { [self] _ in
            self.open.withLock { open in open.removeAll { $0.id == id } }
        }
    }
}

/// One connection's requests: `GET /metrics` (or `HEAD`) answers the exposition, `/` a line
/// saying where it is, anything else 404 or 405.
private final class MetricsRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let exporter: MetricsExporter
    private var request: HTTPRequestHead?

    init(exporter: MetricsExporter) { self.exporter = exporter }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break  // Nothing here takes a body: read and dropped, never kept.
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) }
        else { context.fireUserInboundEventTriggered(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let (status, type, body): (HTTPResponseStatus, String, [UInt8])
        switch (head.method, path) {
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            (status, type, body) = (.ok, "text/plain; version=0.0.4; charset=utf-8", exporter.exposition())
        case (.GET, "/"), (.HEAD, "/"):
            (status, type, body) = (.ok, "text/plain; charset=utf-8", Array("cluster-top: Prometheus metrics at /metrics\n".utf8))
        case (_, "/metrics"), (_, "/"):
            (status, type, body) = (.methodNotAllowed, "text/plain; charset=utf-8", Array("GET /metrics\n".utf8))
        default:
            (status, type, body) = (.notFound, "text/plain; charset=utf-8", Array("not found: GET /metrics\n".utf8))
        }
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.count))])
        if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        let keepAlive = head.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let written = context.writeAndFlushWithPromise(wrapOutboundOut(.end(nil)))
        if !keepAlive { written.whenComplete { [context] _ in context.close(promise: nil) } }
    }
}

private extension ChannelHandlerContext {
    func writeAndFlushWithPromise(_ data: NIOAny) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        writeAndFlush(data, promise: promise)
        return promise.futureResult
    }
}
