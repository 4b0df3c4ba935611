#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a failed bind or listen means for the person who chose the address, in words: `serve`'s
/// listener and `--metrics` say it alike, never as NIO's "bind(descriptor:ptr:bytes:)".
public enum ListenProblem {
    public static func words(errno code: Int32) -> String {
        switch code {
        case EADDRNOTAVAIL: return "no such address on this machine (give one of its addresses, or 0.0.0.0 for all of them)"
        case EADDRINUSE: return "the port is in use (another serve, or another program; port 0 picks a free one)"
        case EACCES, EPERM: return "permission denied (a port below 1024 needs root; take one above it)"
        default: return String(cString: strerror(code))
        }
    }
}
