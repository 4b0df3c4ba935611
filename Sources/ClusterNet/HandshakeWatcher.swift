import NIOCore
import NIOSSL
import NIOTLS

/// Watches one connection's TLS handshake from just after the TLS handler, and says why it
/// failed, in words a lecturer can act on: a worker that refused this coordinator's
/// certificate (it joined without the join code or fingerprint, or with another coordinator's),
/// or one that spoke plain text. Leaves the pipeline once the handshake is done.
final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    /// Why handshakes fail, as the log says them.
    enum Failure: String, Sendable {
        case refusedCertificate = "its worker refused this coordinator's certificate: join with the --join code (or the --fingerprint) serve shows"
        case plainText = "it spoke plain text (--insecure) to this TLS coordinator: join with the --join code serve shows"

        /// How the log counts the laptops that failed this way: "3 laptops tried to join …".
        var cause: String {
            switch self {
            case .refusedCertificate:
                return "without the join code (their workers refused this coordinator's certificate): "
                    + "join with the --join code (or the --fingerprint) serve shows"
            case .plainText:
                return "in plain text (--insecure): join with the --join code serve shows"
            }
        }
    }

    private let failed: @Sendable (Failure) -> Void
    private var reported = false

    init(failed: @escaping @Sendable (Failure) -> Void) { self.failed = failed }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !reported, let failure = Self.failure(error) {
            reported = true
            failed(failure)
        }
        context.fireErrorCaught(error)
    }

    /// What a handshake error means; nil for a peer that hung up (a port scan, a reset).
    static func failure(_ error: any Error) -> Failure? {
        guard case NIOSSLError.handshakeFailed(let inner) = error else { return nil }
        let text = "\(inner)".uppercased()
        if text.contains("ALERT") && (text.contains("CERTIFICATE") || text.contains("UNKNOWN_CA") || text.contains("BAD_CERT")) {
            return .refusedCertificate
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST") || text.contains("UNKNOWN_PROTOCOL")
            || text.contains("PACKET_LENGTH") {
            return .plainText
        }
        return nil
    }
}
