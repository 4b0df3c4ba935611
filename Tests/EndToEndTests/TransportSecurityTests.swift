import ClusterNet
import ClusterTestSupport
import Crypto
import Foundation
import SwiftASN1
import Testing
import X509

/// The connection between `serve` and `worker` as an attacker or a mistaken user meets it: TLS by
/// default, the certificate pinned by its fingerprint, plain text only when both sides say so.
@Suite("Transport security", .serialized)
struct TransportSecurityTests {
    /// CI sets this so a missing tcpdump fails loudly instead of skipping the capture.
    static var tcpdumpRequired: Bool { ProcessInfo.processInfo.environment["CLUSTER_TOP_REQUIRE_TCPDUMP"] == "1" }
    static let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs a headless `serve` and one worker through a whole job, `insecure` or with the default
    /// TLS, while tcpdump records the loopback traffic; returns what went over the wire.
    func capturedJoin(token: String, name: String, insecure: Bool) throws -> Data {
        let tcpdump = try #require(Self.tcpdump)
        let port = try RemoteWorkerProcessTests.freeLoopbackPort()
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-\(UUID().uuidString).pcap")
        defer { try? FileManager.default.removeItem(at: capture) }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-\(UUID().uuidString).tcpdump")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        // Every packet handed over at once (--immediate-mode) and written as it comes (-U), whole,
        // on this port only.
        let sniffer = try Self.spawn([tcpdump, "-i", "lo", "--immediate-mode", "-U", "-s", "0", "-w", capture.path, "tcp", "port", "\(port)"],
                                     errors: log.path)
        defer { kill(sniffer, SIGKILL); var status: Int32 = 0; waitpid(sniffer, &status, 0) }
        try #require(eventually { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("listening on") },
                     "tcpdump did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let plain = insecure ? ["--insecure"] : []
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:\(port)", "--token", token, "--workers", "0",
                                          "--headless", "--await-workers", "1", "--range", "1...1_000_000"] + plain)
        let check = insecure ? ["--insecure"] : ["--fingerprint", try #require(serve.fingerprint(), "\(serve.output)")]
        let worker = try BackgroundBinary(["worker", "--connect", "127.0.0.1:\(port)", "--token", token, "--threads", "1",
                                           "--name", name] + check)
        #expect(serve.exitStatus(within: 60) == 0, "\(serve.output)")
        #expect(serve.output.contains("[verified]"))
        #expect(worker.exitStatus(within: 30) == 0, "\(worker.output)")
        if insecure {
            #expect(serve.output.contains("in PLAIN TEXT (--insecure)"))
            #expect(worker.output.contains("plain text (--insecure)"))
        }
        // SIGINT: tcpdump writes out what it holds and exits.
        kill(sniffer, SIGINT)
        var status: Int32 = 0
        #expect(eventually { waitpid(sniffer, &status, WNOHANG) == sniffer }, "tcpdump did not stop")
        return try Data(contentsOf: capture)
    }

    /// Starts `argv` with every signal unblocked and at its default action (the test runner's
    /// threads may block some, and a child inherits the mask), stderr to `errors`.
    static func spawn(_ argv: [String], errors: String) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_APPEND, 0)
        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        try #require(result == 0, "could not start \(argv[0]): \(result)")
        return pid
    }

    @Test("a capture of the loopback traffic of a default join holds neither the token nor the Hello; of an --insecure one, the Hello",
          .enabled(if: tcpdump != nil || tcpdumpRequired, "tcpdump is not installed"))
    func tokenNotOnTheWire() throws {
        let token = "wire-secret-\(UInt32.random(in: 0...UInt32.max))"
        // gRPC sends the token in an HPACK header, Huffman-coded when that is shorter: readable
        // to anyone on the path, but not as its own bytes. The worker's name travels in the
        // Hello message's bytes as they are, so it is the witness that a capture sees plain text.
        let name = "wire-witness-\(UInt32.random(in: 0...UInt32.max))"
        let encrypted = try capturedJoin(token: token, name: name, insecure: false)
        #expect(encrypted.count > 2_000, "the capture holds the session (\(encrypted.count) bytes)")
        #expect(encrypted.range(of: Data(token.utf8)) == nil, "the token crossed loopback in plain text")
        #expect(encrypted.range(of: Data(name.utf8)) == nil, "the Hello crossed loopback in plain text")
        // The same capture of a plain-text join finds the Hello: the capture above could have.
        let plain = try capturedJoin(token: token, name: name, insecure: true)
        #expect(plain.range(of: Data(name.utf8)) != nil)
    }

    @Test("a wrong fingerprint is refused in one line before the token is sent; a plain-text worker cannot join a TLS coordinator and stops at once")
    func wrongServer() throws {
        let token = "fingerprint-test-token"
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--token", token, "--workers", "0",
                                          "--headless", "--await-workers", "1", "--range", "1...1000"])
        let port = try #require(serve.listeningPort())
        let real = try #require(serve.fingerprint())
        let other = "sha256:" + String(repeating: "ab", count: 32)
        let refused = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", other,
                                             "--token", token, "--threads", "1"])
        #expect(refused.status == 77)
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("its certificate is \(real), not the \(other) given with --fingerprint"),
                "\(refused.stderr)")
        // The coordinator never saw a session, so never a token; its log says why the join
        // failed, in words the lecturer can pass on.
        #expect(serve.waitFor("its worker refused this coordinator's certificate: join with the --join code", timeout: 30) != nil,
                "\(serve.output)")
        #expect(!serve.output.contains("wrong token"))

        // Plain text against TLS: no retrying (the default window is a minute), one line with the fix.
        let plain = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--insecure", "--token", token,
                                           "--threads", "1"])
        #expect(plain.status == 77)
        #expect(plain.stderr.split(separator: "\n").count == 1
                && plain.stderr.contains("it serves TLS and this worker spoke plain text (--insecure): leave out --insecure and join with the --join code"),
                "\(plain.stderr)")
        #expect(!serve.output.contains("joined"))
        #expect(serve.waitFor("it spoke plain text (--insecure) to this TLS coordinator", timeout: 30) != nil, "\(serve.output)")
        // A student without any of it: refused at once, told what to add, and the lecturer's
        // log has it (the same cause from the same address again is summed up, not repeated).
        let bare = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--token", token, "--threads", "1"])
        #expect(bare.status == 77 && bare.stderr.contains("join with the --join code it shows"), "\(bare.stderr)")
        #expect(serve.output.components(separatedBy: "refused this coordinator's certificate").count == 2, "\(serve.output)")

        // Bad settings are usage errors, in one line.
        for arguments in [["--fingerprint", "sha256:1234"], ["--insecure", "--fingerprint", real], ["--tls-ca", "/nonexistent.pem"]] {
            let bad = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--token", token] + arguments)
            #expect(bad.status == 64, "\(arguments): \(bad.stderr)")
        }
        let good = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--fingerprint", real, "--token", token,
                                          "--threads", "1"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(serve.exitStatus(within: 30) == 0)
    }

    @Test("the short join: serve prints and shows a join code that a worker joins with alone; a code for another certificate or another token is refused at once (77), a code mistyped or given with --token is a usage error (64)")
    func joinCode() throws {
        let token = "join-code-test-token"
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--token", token, "--workers", "0",
                                          "--headless", "--await-workers", "1", "--range", "1...1000"])
        let joinLine = try #require(serve.waitFor("join with: cluster-top worker --join "), "\(serve.output)")
        let join = String(try #require(joinLine.firstMatch(of: /--join (127\.0\.0\.1:\d+\/[0-9a-z-]+)/), "\(joinLine)").1)
        #expect(joinLine.contains("or, in full: cluster-top worker --connect 127.0.0.1:"), "the long form stays, for scripts")
        #expect(!joinLine.contains(token), "the token itself is never printed")
        let (address, code) = (join.split(separator: "/")[0], String(join.split(separator: "/")[1]))
        let symbols = Array(code.filter { $0 != "-" })
        let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
        func changed(at index: Int) -> String {
            var copy = symbols
            copy[index] = alphabet[(alphabet.firstIndex(of: copy[index])! + 1) % alphabet.count]
            return "\(address)/" + String(copy)
        }
        // One symbol off in the fingerprint's part: another coordinator, refused before the key is sent.
        let otherServer = try BinaryProcess.run(["worker", "--join", changed(at: 3), "--threads", "1"])
        #expect(otherServer.status == 77, "\(otherServer.stderr)")
        #expect(otherServer.stderr.contains("does not match the join code"), "\(otherServer.stderr)")
        // One symbol off in the key's part: the right coordinator, the wrong key.
        let otherKey = try BinaryProcess.run(["worker", "--join", changed(at: 27), "--threads", "1"])
        #expect(otherKey.status == 77, "\(otherKey.stderr)")
        #expect(otherKey.stderr.contains("wrong token"), "\(otherKey.stderr)")
        for arguments in [["--join", "\(address)/abcd"], ["--join", join, "--token", token], ["--join", "no-address-here"]] {
            let bad = try BinaryProcess.run(["worker"] + arguments)
            #expect(bad.status == 64 && bad.stderr.split(separator: "\n").count == 1, "\(arguments): \(bad.stderr)")
        }
        // Typed from the projector: upper case, spaces for dashes.
        let typed = "\(address)/" + code.uppercased()
        let good = try BinaryProcess.run(["worker", "--join", typed, "--threads", "1"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(serve.exitStatus(within: 30) == 0)
    }

    /// A CA, and a server certificate it signs for `name`, valid from `from` to `until`
    /// (seconds from now); both written as PEM files in `directory`.
    static func signedIdentity(in directory: URL, name: String, from: Double = -3600, until: Double = 86_400) throws
        -> (ca: String, certificate: String, key: String) {
        let caKey = P256.Signing.PrivateKey(), serverKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("cluster-top test CA") }
        let now = Date()
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-7200), notValidAfter: now.addingTimeInterval(7 * 86_400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let octets = name.split(separator: ".").compactMap { UInt8($0) }
        let alternative: GeneralName = octets.count == 4 ? .ipAddress(ASN1OctetString(contentBytes: ArraySlice(octets))) : .dnsName(name)
        let server = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now.addingTimeInterval(from), notValidAfter: now.addingTimeInterval(until),
            issuer: caName, subject: try DistinguishedName { CommonName(name) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([alternative])
            },
            issuerPrivateKey: .init(caKey))
        func pem(_ certificate: Certificate) throws -> String {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return PEMDocument(type: "CERTIFICATE", derBytes: serializer.serializedBytes).pemString + "\n"
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = (ca: directory.appendingPathComponent("ca.pem").path, certificate: directory.appendingPathComponent("server.pem").path,
                     key: directory.appendingPathComponent("server.key").path)
        try pem(ca).write(toFile: files.ca, atomically: true, encoding: .utf8)
        try pem(server).write(toFile: files.certificate, atomically: true, encoding: .utf8)
        try serverKey.pemRepresentation.write(toFile: files.key, atomically: true, encoding: .utf8)
        return files
    }

    @Test("with --tls-ca, a certificate the CA signed for the address joins; an expired one, one for another name, or one another CA signed is refused at once, in one line (77)",
          arguments: [("127.0.0.1", -3600.0, 86_400.0, nil), ("127.0.0.1", -7200.0, -3600.0, "its certificate expired on"),
                      ("10.9.8.7", -3600.0, 86_400.0, "its certificate is for 10.9.8.7, not 127.0.0.1"),
                      ("127.0.0.1", -3600.0, 86_400.0, "its certificate is not signed by a CA in ")] as [(String, Double, Double, String?)])
    func certificateAuthority(name: String, from: Double, until: Double, refusal: String?) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try Self.signedIdentity(in: directory, name: name, from: from, until: until)
        // The last case: the worker trusts another CA than the one that signed.
        let trusted = refusal?.contains("not signed by") == true
            ? try Self.signedIdentity(in: directory.appendingPathComponent("other"), name: name).ca : files.ca
        let token = "ca-test-token-1234"
        let serve = try BackgroundBinary(["serve", "--listen", "127.0.0.1:0", "--token", token, "--workers", "0", "--headless",
                                          "--await-workers", "1", "--range", "1...1000", "--tls-cert", files.certificate,
                                          "--tls-key", files.key])
        let port = try #require(serve.listeningPort(), "\(serve.output)")
        // The default --retry-for (60 s): a refusal must not be retried as if the network failed.
        let worker = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:\(port)", "--tls-ca", trusted, "--token", token,
                                            "--threads", "1"])
        if let refusal {
            #expect(worker.status == 77, "\(worker.stderr)")
            let lines = worker.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("cluster-top: refused by 127.0.0.1:\(port): \(refusal)"), "\(worker.stderr)")
            #expect(!worker.stdout.contains("retrying"), "refused at once: \(worker.stdout)")
            #expect(!serve.output.contains("joined"))
            serve.signal(SIGTERM)
        } else {
            #expect(worker.status == 0, "\(worker.stderr)")
            #expect(serve.exitStatus(within: 30) == 0)
            #expect(serve.output.contains("[verified]"))
        }
    }
}

extension TransportSecurityTests {
    @Test("TLS mistakes are said at start, before any network, in one line: a --tls-ca that is not a CA file (exit 64), a key that is not the certificate's (64), an address that is not this machine's or a port in use (69)")
    func mistakesAtStart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-top-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try Self.signedIdentity(in: directory, name: "127.0.0.1")
        let other = try Self.signedIdentity(in: directory.appendingPathComponent("other"), name: "127.0.0.1")
        let notPEM = directory.appendingPathComponent("notes.txt").path, empty = directory.appendingPathComponent("empty.pem").path
        try "not a certificate\n".write(toFile: notPEM, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: empty, contents: nil)
        let cases: [(String, String)] = [(notPEM, "it is not PEM"), (empty, "it is empty"), (directory.path, "is a folder"),
                                          (files.key, "it holds a private key: give the CA's certificate")]
        for (file, problem) in cases {
            // Port 1: nothing is reached, and nothing need be: the mistake is said first.
            let worker = try BinaryProcess.run(["worker", "--connect", "127.0.0.1:1", "--tls-ca", file, "--token", "tls-mistakes-token"])
            #expect(worker.status == 64, "\(file): \(worker.stderr)")
            let lines = worker.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("--tls-ca: ") && lines[0].contains(problem), "\(worker.stderr)")
            #expect(!worker.stdout.contains("connecting"), "no network before the check")
        }

        let mismatched = try BinaryProcess.run(["serve", "--listen", "127.0.0.1:0", "--headless", "--range", "1...10",
                                                "--tls-cert", files.certificate, "--tls-key", other.key])
        #expect(mismatched.status == 64, "\(mismatched.stderr)")
        #expect(mismatched.stderr.split(separator: "\n").count == 1
                && mismatched.stderr.contains("does not belong to the certificate in \(files.certificate): their public keys differ"),
                "\(mismatched.stderr)")

        let elsewhere = try BinaryProcess.run(["serve", "--listen", "10.9.9.9:7070", "--headless", "--range", "1...10"])
        #expect(elsewhere.status == 69)
        #expect(elsewhere.stderr == "cluster-top: cannot listen on 10.9.9.9:7070: no such address on this machine (give one of its addresses, or 0.0.0.0 for all of them)\n",
                "\(elsewhere.stderr)")
        let (fd, port) = try RemoteWorkerProcessTests.loopbackSocket(listening: true)
        defer { close(fd) }
        let taken = try BinaryProcess.run(["serve", "--listen", "127.0.0.1:\(port)", "--headless", "--range", "1...10"])
        #expect(taken.status == 69)
        #expect(taken.stderr.hasPrefix("cluster-top: cannot listen on 127.0.0.1:\(port): the port is in use"), "\(taken.stderr)")
    }
}
