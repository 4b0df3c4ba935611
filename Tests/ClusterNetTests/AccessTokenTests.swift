import Testing
@testable import ClusterNet

@Suite("Access token")
struct AccessTokenTests {
    @Test("equal tokens match; any difference, or a prefix, does not")
    func matching() {
        let token = "4f1c2a9e0b7d6e5f4f1c2a9e0b7d6e5f"
        #expect(AccessToken.matches(token, token))
        #expect(!AccessToken.matches("", token))
        #expect(!AccessToken.matches(String(token.dropLast()), token))
        #expect(!AccessToken.matches(token + "0", token))
        #expect(!AccessToken.matches("5" + token.dropFirst(), token))
        #expect(!AccessToken.matches(token.dropLast() + "0", token))
        // Lengths that differ by a multiple of 256 must not look equal.
        #expect(!AccessToken.matches(token + String(repeating: "x", count: 256), token))
    }

    @Test("generated tokens are 32 hex digits, valid, and differ")
    func generation() {
        let tokens = (0..<50).map { _ in AccessToken.generate() }
        #expect(Set(tokens).count == 50)
        for token in tokens {
            #expect(token.count == 32)
            #expect(token.allSatisfy { $0.isHexDigit })
            #expect(AccessToken.validate(token) == nil)
        }
    }

    @Test("a token must be 8-256 printable characters without spaces")
    func validation() {
        #expect(AccessToken.validate("short") != nil)
        #expect(AccessToken.validate(String(repeating: "a", count: 257)) != nil)
        #expect(AccessToken.validate("has a space") != nil)
        #expect(AccessToken.validate("tab\tinside") != nil)
        #expect(AccessToken.validate("ünïcödé-token") != nil)
        #expect(AccessToken.validate("correct-horse-battery") == nil)
    }
}

@Suite("Endpoint")
struct EndpointTests {
    @Test("HOST:PORT parses, IPv6 in brackets", arguments: [
        ("127.0.0.1:7070", "127.0.0.1", 7070),
        (" node-3.lab:1 ", "node-3.lab", 1),
        ("[::1]:65535", "::1", 65535),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let endpoint = try Endpoint.parse(text, what: "--connect")
        #expect(endpoint == Endpoint(host: host, port: port))
    }

    @Test("port 0 only for listening")
    func anyPort() throws {
        #expect(try Endpoint.parse("0.0.0.0:0", what: "--listen", allowAnyPort: true).port == 0)
        #expect(throws: (any Error).self) { try Endpoint.parse("0.0.0.0:0", what: "--connect") }
    }

    @Test("bad addresses say what is wrong", arguments: [
        ("localhost", "must be HOST:PORT"),
        (":7070", "no usable host"),
        ("host:", "the port must be a number"),
        ("host:70000", "the port must be a number"),
        ("host:http", "the port must be a number"),
        ("::1:7070", "must be HOST:PORT"),
        ("[::1]7070", "must be HOST:PORT"),
    ])
    func rejects(text: String, message: String) {
        do {
            _ = try Endpoint.parse(text, what: "--connect")
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.description.hasPrefix("--connect"))
        }
    }

    @Test("descriptions round-trip")
    func description() throws {
        for text in ["10.0.0.5:7070", "[fe80::1]:80"] {
            #expect(try Endpoint.parse(text, what: "x").description == text)
        }
    }
}
