import Crypto
import Foundation
import GRPCNIOTransportHTTP2
import NIOSSL
import SwiftASN1
import Synchronization
import X509

/// A certificate's SHA-256 fingerprint, written "sha256:" and 64 hex digits: what `serve`
/// prints in its join command and `worker --fingerprint` pins, as kubeadm's discovery hash does.
public struct Fingerprint: Equatable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// The fingerprint of a certificate in DER.
    public init(certificateDER: [UInt8]) { bytes = Array(SHA256.hash(data: certificateDER)) }

    /// Reads "sha256:…" (hex, either case, colons between bytes allowed as in openssl's output).
    public init?(_ text: String) {
        guard text.lowercased().hasPrefix("sha256:") else { return nil }
        let hex = text.dropFirst(7).filter { $0 != ":" }
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self.bytes = bytes
    }

    public var description: String { "sha256:" + bytes.map { String(format: "%02x", $0) }.joined() }
}

/// What a coordinator proves itself with: its certificate chain and key.
public struct ServerIdentity: Sendable {
    /// Leaf first, in DER.
    public let certificateChain: [[UInt8]]
    let privateKeyPEM: String

    /// The chain in PEM, as `--tls-cert` reads it.
    public var certificateChainPEM: String {
        certificateChain.map { PEMDocument(type: "CERTIFICATE", derBytes: $0).pemString }.joined(separator: "\n") + "\n"
    }

    /// The key in PEM, as `--tls-key` reads it.
    public var privateKeyPEMText: String { privateKeyPEM }

    /// The leaf certificate's fingerprint, which workers pin.
    public var fingerprint: Fingerprint { Fingerprint(certificateDER: certificateChain[0]) }

    /// A fresh self-signed certificate (ECDSA P-256, a year from an hour ago) for these host
    /// names and addresses: made at every start, so nothing needs setting up.
    public static func selfSigned(names: [String] = ["localhost"]) throws -> ServerIdentity {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("cluster-top coordinator") }
        let now = Date()
        let alternativeNames = names.map { name -> GeneralName in
            let octets = name.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
            if octets.count == 4 { return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(octets))) }
            return .dnsName(name)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 24 * 3600),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return ServerIdentity(certificateChain: [serializer.serializedBytes], privateKeyPEM: key.pemRepresentation)
    }

    /// A certificate chain and key from PEM files (`--tls-cert`, `--tls-key`).
    public static func load(certificateFile: String, keyFile: String) throws(SecurityError) -> ServerIdentity {
        let chainText: String, keyText: String
        do { chainText = try String(contentsOfFile: certificateFile, encoding: .utf8) } catch {
            throw SecurityError("cannot read the certificate file \(certificateFile): \(Self.reason(error))")
        }
        do { keyText = try String(contentsOfFile: keyFile, encoding: .utf8) } catch {
            throw SecurityError("cannot read the key file \(keyFile): \(Self.reason(error))")
        }
        let documents = (try? PEMDocument.parseMultiple(pemString: chainText))?.filter { $0.discriminator == "CERTIFICATE" } ?? []
        guard !documents.isEmpty else { throw SecurityError("\(certificateFile) holds no PEM certificate") }
        for document in documents where (try? Certificate(derEncoded: document.derBytes)) == nil {
            throw SecurityError("\(certificateFile) holds a certificate that cannot be read")
        }
        guard keyText.contains("PRIVATE KEY-----") else { throw SecurityError("\(keyFile) holds no PEM private key") }
        // A key that is not the certificate's would fail every handshake: say so now, not as a
        // failure to listen.
        guard let key = try? Certificate.PrivateKey(pemEncoded: keyText) else {
            throw SecurityError("\(keyFile) holds a private key that cannot be read (an EC, RSA or Ed25519 key in PEM, not encrypted)")
        }
        if let leaf = try? Certificate(derEncoded: documents[0].derBytes), leaf.publicKey != key.publicKey {
            throw SecurityError("the key in \(keyFile) does not belong to the certificate in \(certificateFile): their public keys differ")
        }
        return ServerIdentity(certificateChain: documents.map(\.derBytes), privateKeyPEM: keyText)
    }

    /// The certificates of a CA file (`worker --tls-ca`), checked before any network: a file that
    /// cannot be read or holds no certificate is a mistake to say at once, not at each retry.
    public static func authorityCertificates(file: String) throws(SecurityError) -> [Certificate] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw SecurityError("--tls-ca: \(file) does not exist")
        }
        if isDirectory.boolValue { throw SecurityError("--tls-ca: \(file) is a folder, not a PEM file of CA certificates") }
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw SecurityError("--tls-ca: cannot read \(file): \(Self.reason(error))")
        }
        let documents = (try? PEMDocument.parseMultiple(pemString: text)) ?? []
        let certificates = documents.filter { $0.discriminator == "CERTIFICATE" }.compactMap { try? Certificate(derEncoded: $0.derBytes) }
        guard certificates.isEmpty else { return certificates }
        let found = text.isEmpty ? "it is empty"
            : documents.contains { $0.discriminator.hasSuffix("PRIVATE KEY") } ? "it holds a private key: give the CA's certificate"
            : documents.contains { $0.discriminator == "CERTIFICATE" } ? "its certificate cannot be read" : "it is not PEM"
        throw SecurityError("--tls-ca: \(file) holds no PEM certificate (\(found))")
    }

    static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }

    var transportSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        .tls(certificateChain: certificateChain.map { .bytes($0, format: .der) },
             privateKey: .bytes(Array(privateKeyPEM.utf8), format: .pem))
    }
}

/// Why a certificate or key could not be used: one line for the person who gave it.
public struct SecurityError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Why the server's certificate was turned down, if it was: the worker then refuses to go on,
/// in one line, instead of retrying as if the network had failed.
final class RejectedCertificate: Sendable {
    let reason = Mutex<String?>(nil)
}

/// How a worker knows it reached the right coordinator.
public enum ServerCheck: Sendable, Equatable {
    /// Plain text: no encryption, no check (`--insecure` on both sides).
    case insecure
    /// TLS, and the server's certificate must have this fingerprint (the default join).
    case pinned(Fingerprint)
    /// TLS, and the server's certificate fingerprint must begin with the join code's 80 bits
    /// (`worker --join`).
    case joinCode(JoinCode)
    /// TLS with a certificate that a CA vouches for, for the host name connected to: the CA's
    /// PEM file (`--tls-ca`), or the system's roots when nil.
    case authority(caFile: String?)

    /// TLS whose only check is the server certificate's fingerprint: `problem` says why a
    /// fingerprint is refused, nil when it is the one pinned. The pin replaces the usual checks:
    /// a self-signed certificate has no authority to vouch for it and often no name the worker
    /// dialled.
    private static func pinnedTLS(rejected: RejectedCertificate?, problem: @escaping @Sendable (Fingerprint) -> String?)
        -> HTTP2ClientTransport.Posix.TransportSecurity {
        .tls { config in
            config.serverCertificateVerification = .noHostnameVerification
            config.customVerificationCallback = { certificates, promise in
                guard let leaf = certificates.first, let der = try? leaf.toDERBytes() else {
                    promise.succeed(.failed)
                    return
                }
                if let problem = problem(Fingerprint(certificateDER: der)) {
                    rejected?.reason.withLock { $0 = problem }
                    promise.succeed(.failed)
                } else {
                    promise.succeed(.certificateVerified(VerificationMetadata(nil)))
                }
            }
        }
    }

    /// The transport's settings for a connection to `host`; `rejected` learns why a certificate
    /// was turned down.
    func transportSecurity(host: String, rejected: RejectedCertificate?) -> HTTP2ClientTransport.Posix.TransportSecurity {
        switch self {
        case .insecure:
            return .plaintext
        case .joinCode(let code):
            return Self.pinnedTLS(rejected: rejected) { fingerprint in
                code.matches(fingerprint) ? nil
                    : "its certificate does not match the join code: it is not the coordinator you meant "
                        + "(serve makes a new certificate each time it starts: copy the join code on its screen again)"
            }
        case .pinned(let pinned):
            return Self.pinnedTLS(rejected: rejected) { fingerprint in
                fingerprint == pinned ? nil
                    : "its certificate is \(fingerprint), not the \(pinned) given with --fingerprint: it is not the "
                        + "coordinator you meant (serve makes a new certificate each time it starts: copy its new join line)"
            }
        case .authority(let caFile):
            let roots = caFile.flatMap { try? CertificateStore(ServerIdentity.authorityCertificates(file: $0)) }
                ?? CertificateStore.systemTrustRoots
            let trusted = caFile.map { "a CA in \($0)" }
                ?? "a CA this system trusts (serve's own certificate is checked by its join code or fingerprint: join with the --join code it shows, or its --fingerprint)"
            return .tls { config in
                // The checks are ours (below), with swift-certificates, so a refusal can say
                // which one failed: the name, the dates, or the signature.
                config.serverCertificateVerification = .noHostnameVerification
                config.customVerificationCallback = { presented, promise in
                    let chain = presented.compactMap { try? $0.toDERBytes() }.compactMap { try? Certificate(derEncoded: $0) }
                    Task {
                        if let problem = await Self.problem(with: chain, host: host, roots: roots, trusted: trusted) {
                            rejected?.reason.withLock { $0 = problem }
                            promise.succeed(.failed)
                        } else {
                            promise.succeed(.certificateVerified(VerificationMetadata(nil)))
                        }
                    }
                }
            }
        }
    }

    /// What is wrong with a server's certificate `chain` (leaf first) for `host`, checked against
    /// `roots`; nil if nothing is. The dates first (they say the most), then who signed it, then
    /// the name, so a certificate nobody vouches for is never described by its names.
    static func problem(with chain: [Certificate], host: String, roots: CertificateStore, trusted: String) async -> String? {
        guard let leaf = chain.first else { return "it presented no certificate that can be read" }
        let now = Date()
        if now > leaf.notValidAfter { return "its certificate expired on \(leaf.notValidAfter)" }
        if now < leaf.notValidBefore { return "its certificate is not valid before \(leaf.notValidBefore)" }
        var verifier = Verifier(rootCertificates: roots) { RFC5280Policy(validationTime: now) }
        if case .couldNotValidate = await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst())) {
            return "its certificate is not signed by \(trusted)"
        }
        let names = CertificateNames(leaf)
        guard names.cover(host) else {
            return "its certificate is for \(names.description), not \(host): it is not the coordinator you meant, "
                + "or its certificate was made for another name"
        }
        return nil
    }
}

/// The names and addresses a certificate is for (its subject alternative names), and whether
/// one covers a host name or address as a TLS client checks it (RFC 6125: a wildcard stands for
/// one label, on the left).
struct CertificateNames: CustomStringConvertible {
    var dnsNames: [String] = []
    var addresses: [[UInt8]] = []

    init(_ certificate: Certificate) {
        guard let alternatives = try? certificate.extensions.subjectAlternativeNames else { return }
        for name in alternatives {
            switch name {
            case .dnsName(let dns): dnsNames.append(dns.lowercased())
            case .ipAddress(let octets): addresses.append(Array(octets.bytes))
            default: break
            }
        }
    }

    func cover(_ host: String) -> Bool {
        if let octets = Self.octets(host) { return addresses.contains(octets) }
        let wanted = host.lowercased()
        return dnsNames.contains { name in
            guard name.hasPrefix("*.") else { return name == wanted }
            guard let dot = wanted.firstIndex(of: ".") else { return false }
            return wanted[dot...] == name.dropFirst()
        }
    }

    /// An IPv4 or IPv6 address as bytes; nil for a name.
    static func octets(_ host: String) -> [UInt8]? {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    var description: String {
        let shown = dnsNames + addresses.map { bytes in
            bytes.count == 4 ? bytes.map(String.init).joined(separator: ".")
                : stride(from: 0, to: bytes.count, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
        }
        return shown.isEmpty ? "no name" : shown.joined(separator: ", ")
    }
}
