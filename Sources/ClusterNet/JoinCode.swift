import Crypto

/// A join a student can type from the projector: `cluster-top worker --join HOST:PORT/CODE`.
///
/// CODE is 28 letters and digits in groups of four (Crockford's base32: no i, l, o or u, any
/// case). It carries two things:
/// - the first 80 bits of serve's certificate fingerprint, which the worker pins: a server
///   that wants to pass for this one must make a certificate whose SHA-256 begins with the
///   same 80 bits, about 2⁸⁰ tries (the full `--fingerprint` pins all 256);
/// - a 60-bit join key, HMAC-SHA256 of the token, which serve takes in place of the token. The
///   token itself is not in the code, so a `--token` the lecturer chose stays unseen; guessing
///   the key online is slowed as wrong tokens are (`RefusalGate`).
public struct JoinCode: Equatable, Sendable, CustomStringConvertible {
    static let fingerprintBits = 80
    static let keyBits = 60
    static let length = (fingerprintBits + keyBits) / 5
    /// Crockford's base32 alphabet: no letters that read as digits or as each other.
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    /// The first `fingerprintBits` of the certificate's SHA-256.
    public let fingerprintPrefix: [UInt8]
    /// What the worker presents as its token.
    public let key: String

    /// The code for a coordinator with `fingerprint` and `token`.
    public init(fingerprint: Fingerprint, token: String) {
        fingerprintPrefix = Array(fingerprint.bytes.prefix(Self.fingerprintBits / 8))
        key = Self.key(for: token)
    }

    /// The join key serve accepts in place of `token`: "join:" and 12 base32 digits.
    public static func key(for token: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("cluster-top join key".utf8),
                                                  using: SymmetricKey(data: Array(token.utf8)))
        return "join:" + String(Self.encode(bits: Self.bits(of: Array(mac), count: keyBits)))
    }

    /// Reads a code as `description` writes it: any case, dashes and spaces anywhere, and the
    /// look-alikes i, l (for 1) and o (for 0) forgiven; otherwise what is wrong with it.
    public static func parse(_ text: String) -> Result<JoinCode, JoinCodeError> {
        var symbols: [Int] = []
        for character in text.lowercased() where character != "-" && character != " " {
            let normalized: Character = character == "o" ? "0" : (character == "i" || character == "l") ? "1" : character
            guard let value = alphabet.firstIndex(of: normalized) else { return .failure(.badCharacter(character)) }
            symbols.append(value)
        }
        guard symbols.count == length else { return .failure(.length(symbols.count)) }
        var bits: [Bool] = []
        for symbol in symbols { for shift in (0..<5).reversed() { bits.append(symbol >> shift & 1 == 1) } }
        let prefix = stride(from: 0, to: fingerprintBits, by: 8).map { start in
            bits[start..<(start + 8)].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        let key = "join:" + String(encode(bits: Array(bits[fingerprintBits...])))
        return .success(JoinCode(fingerprintPrefix: prefix, key: key))
    }

    private init(fingerprintPrefix: [UInt8], key: String) {
        self.fingerprintPrefix = fingerprintPrefix
        self.key = key
    }

    /// Whether a certificate with `fingerprint` is the one this code names.
    public func matches(_ fingerprint: Fingerprint) -> Bool { fingerprint.bytes.starts(with: fingerprintPrefix) }

    /// "k7f3-9mqa-…": seven groups of four.
    public var description: String {
        let keyBits = Self.decode(key.dropFirst(5))
        let code = Self.encode(bits: Self.bits(of: fingerprintPrefix, count: Self.fingerprintBits) + keyBits)
        return stride(from: 0, to: code.count, by: 4).map { String(code[$0..<min(code.count, $0 + 4)]) }.joined(separator: "-")
    }

    private static func bits(of bytes: [UInt8], count: Int) -> [Bool] {
        var bits: [Bool] = []
        for byte in bytes { for shift in (0..<8).reversed() { bits.append(byte >> shift & 1 == 1) } }
        return Array(bits.prefix(count))
    }

    private static func encode(bits: [Bool]) -> [Character] {
        stride(from: 0, to: bits.count, by: 5).map { start in
            alphabet[bits[start..<min(bits.count, start + 5)].reduce(0) { $0 << 1 | ($1 ? 1 : 0) }]
        }
    }

    private static func decode(_ symbols: Substring) -> [Bool] {
        var bits: [Bool] = []
        for character in symbols {
            let value = alphabet.firstIndex(of: character) ?? 0
            for shift in (0..<5).reversed() { bits.append(value >> shift & 1 == 1) }
        }
        return bits
    }
}

/// Why a join code was not read.
public enum JoinCodeError: Error, Equatable, CustomStringConvertible {
    case badCharacter(Character)
    case length(Int)

    public var description: String {
        switch self {
        case .badCharacter(let c):
            return "'\(c)' is not in a join code (letters and digits, dashes between groups of four)"
        case .length(let n):
            return "a join code has \(JoinCode.length) letters and digits, this one \(n): copy it again from serve's screen"
        }
    }
}
