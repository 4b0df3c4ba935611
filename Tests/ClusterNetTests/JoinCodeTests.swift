import Testing
@testable import ClusterNet

/// The short join: 80 bits of the certificate's fingerprint and a 60-bit key from the token.
@Suite("Join codes")
struct JoinCodeTests {
    let fingerprint = Fingerprint("sha256:" + String(repeating: "5f716e86c926a23e", count: 4))!
    let token = "a token the lecturer chose"

    @Test("a code reads back as written, in any case, with the look-alikes forgiven; it is 28 symbols in seven groups")
    func roundTrip() throws {
        let code = JoinCode(fingerprint: fingerprint, token: token)
        let text = code.description
        #expect(text.count == 34 && text.split(separator: "-").map(\.count) == Array(repeating: 4, count: 7), "\(text)")
        #expect(try JoinCode.parse(text).get() == code)
        #expect(try JoinCode.parse(text.uppercased().replacingOccurrences(of: "-", with: " ")).get() == code)
        let lookAlikes = text.replacingOccurrences(of: "0", with: "o").replacingOccurrences(of: "1", with: "l")
        #expect(try JoinCode.parse(lookAlikes).get() == code)
        #expect(!text.contains("i") && !text.contains("l") && !text.contains("o") && !text.contains("u"))
    }

    static func fingerprint(_ bytes: [UInt8]) -> Fingerprint {
        Fingerprint("sha256:" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())!
    }

    @Test("it pins the certificate by 80 bits of its fingerprint, and its key is the token's, not the token")
    func pinsAndKeys() throws {
        let code = JoinCode(fingerprint: fingerprint, token: token)
        #expect(code.matches(fingerprint))
        var other = fingerprint.bytes
        other[9] ^= 1  // the 80th bit
        #expect(!code.matches(Self.fingerprint(other)))
        other = fingerprint.bytes
        other[10] ^= 0xff  // past the 80 bits: the code says nothing of them
        #expect(code.matches(Self.fingerprint(other)))
        #expect(code.key == JoinCode.key(for: token) && code.key.hasPrefix("join:") && code.key.count == 17)
        #expect(!code.description.contains(token) && JoinCode.key(for: token + "!") != code.key)
        #expect(AccessToken.validate(code.key) == nil, "a key passes for a token on the wire")
    }

    @Test("a mistyped code says what is wrong", arguments: [
        ("bxrp-x1p9-4th3-xgc9-n5fg-knrs-cqz", "28 letters and digits, this one 27"),
        ("bxrp-x1p9-4th3-xgc9-n5fg-knrs-cqz0a", "this one 29"),
        ("bxrp-x1p9-4th3-xgc9-n5fg-knrs-cqzu", "'u' is not in a join code"),
    ])
    func mistakes(text: String, fragment: String) {
        guard case .failure(let problem) = JoinCode.parse(text) else {
            Issue.record("\(text) was read")
            return
        }
        #expect(problem.description.contains(fragment), "\(problem)")
    }
}
