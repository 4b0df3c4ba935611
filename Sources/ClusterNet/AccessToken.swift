#if canImport(Glibc)
import Glibc
#endif

/// The shared secret a worker process must present to join a coordinator.
public enum AccessToken {
    /// The request metadata key that carries the token.
    public static let metadataKey = "cluster-token"
    /// The environment variable both commands read when --token is not given, so the token need
    /// not appear in `ps` output or shell history.
    public static let environmentVariable = "CLUSTER_TOP_TOKEN"

    /// The token from the environment, if set and not empty.
    public static var fromEnvironment: String? {
        guard let value = getenv(environmentVariable).map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return value
    }

    /// A fresh token: 128 random bits as 32 hex digits.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// Compares in time that depends only on the lengths, never on where the first difference
    /// is, so a guesser learns nothing from how fast a wrong token is refused.
    public static func matches(_ presented: String, _ expected: String) -> Bool {
        let a = Array(presented.utf8), b = Array(expected.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | (a.count == b.count ? 0 : 1)
        for i in 0..<b.count {
            difference |= (i < a.count ? a[i] : 0) ^ b[i]
        }
        return difference == 0
    }

    /// A token must be printable ASCII without spaces, 8...256 characters: it travels in an HTTP/2
    /// header and people copy it between terminals.
    public static func validate(_ token: String) -> String? {
        guard (8...256).contains(token.utf8.count) else {
            return "the token must be 8 to 256 characters long (got \(token.utf8.count))"
        }
        guard token.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            return "the token may only contain printable ASCII characters without spaces"
        }
        return nil
    }
}
