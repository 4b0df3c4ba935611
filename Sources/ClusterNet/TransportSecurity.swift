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
        return ServerIdentity(certificateChain: documents.map(\.derBytes), privateKeyPEM: keyText)
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

/// The certificate a pinned check turned down, so the worker can say whose it was.
final class RejectedCertificate: Sendable {
    let fingerprint = Mutex<Fingerprint?>(nil)
}

/// How a worker knows it reached the right coordinator.
public enum ServerCheck: Sendable, Equatable {
    /// Plain text: no encryption, no check (`--insecure` on both sides).
    case insecure
    /// TLS, and the server's certificate must have this fingerprint (the default join).
    case pinned(Fingerprint)
    /// TLS with a certificate that a CA vouches for, for the host name connected to: the CA's
    /// PEM file (`--tls-ca`), or the system's roots when nil.
    case authority(caFile: String?)

    /// The transport's settings; `seen` learns the certificate a pinned check turned down.
    func transportSecurity(seen: RejectedCertificate?) -> HTTP2ClientTransport.Posix.TransportSecurity {
        switch self {
        case .insecure:
            return .plaintext
        case .pinned(let pinned):
            return .tls { config in
                // The pin replaces the usual checks: a self-signed certificate has no authority
                // to vouch for it and often no name the worker dialled.
                config.serverCertificateVerification = .noHostnameVerification
                config.customVerificationCallback = { certificates, promise in
                    guard let leaf = certificates.first, let der = try? leaf.toDERBytes() else {
                        promise.succeed(.failed)
                        return
                    }
                    let fingerprint = Fingerprint(certificateDER: der)
                    if fingerprint == pinned {
                        promise.succeed(.certificateVerified(VerificationMetadata(nil)))
                    } else {
                        seen?.fingerprint.withLock { $0 = fingerprint }
                        promise.succeed(.failed)
                    }
                }
            }
        case .authority(let caFile):
            return .tls { config in
                config.serverCertificateVerification = .fullVerification
                if let caFile { config.trustRoots = .certificates([.file(path: caFile, format: .pem)]) }
            }
        }
    }
}
