import Foundation
import Testing
import Yams

/// deploy/kubernetes as a cluster would take it: valid against Kubernetes' own schemas, and
/// consistent with the binary and with itself where no schema can tell.
@Suite("Kubernetes manifests")
struct KubernetesManifestTests {
    static let folder = BinaryProcess.repository.appendingPathComponent("deploy/kubernetes")
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasSuffix(".yaml") }.sorted().map { folder.appendingPathComponent($0).path }
    /// The validator on PATH (pip puts it there).
    static let validator = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin").split(separator: ":")
        .map { "\($0)/kubernetes-validate" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    /// CI sets this so a machine without the validator fails loudly instead of skipping.
    static var validatorRequired: Bool { ProcessInfo.processInfo.environment["CLUSTER_TOP_REQUIRE_KUBERNETES_VALIDATE"] == "1" }

    /// Every document of every manifest, as dictionaries.
    static func documents() throws -> [[String: Any]] {
        try files.flatMap { path in
            try Yams.load_all(yaml: String(contentsOfFile: path, encoding: .utf8)).compactMap { $0 as? [String: Any] }
        }
    }

    static func resource(_ kind: String, _ name: String) throws -> [String: Any] {
        try #require(try documents().first { $0["kind"] as? String == kind && value($0, "metadata", "name") as? String == name })
    }

    /// The value at a path of keys and list indexes.
    static func value(_ root: Any, _ path: Any...) -> Any? {
        path.reduce(Optional(root)) { node, step in
            switch step {
            case let key as String: (node as? [String: Any])?[key]
            case let index as Int: (node as? [Any]).flatMap { index < $0.count ? $0[index] : nil }
            default: nil
            }
        }
    }

    static func container(_ deployment: [String: Any]) throws -> [String: Any] {
        try #require(value(deployment, "spec", "template", "spec", "containers", 0) as? [String: Any])
    }

    @Test("they pass kubernetes-validate --strict against Kubernetes' schemas",
          .enabled(if: validator != nil || validatorRequired, "kubernetes-validate is not installed: pip install kubernetes-validate"))
    func schemaValid() throws {
        let validator = try #require(Self.validator, "pip install kubernetes-validate")
        #expect(Self.files.count >= 2)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: validator)
        process.arguments = ["--strict"] + Self.files
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.components(separatedBy: " passed for resource ").count - 1 == (try Self.documents()).count, "\(output)")
    }

    @Test("the token comes from a Secret, never from an argument")
    func tokenFromSecret() throws {
        for name in ["cluster-top-coordinator", "cluster-top-workers"] {
            let container = try Self.container(try Self.resource("Deployment", name))
            let arguments = try #require(container["args"] as? [String])
            #expect(!arguments.contains { $0.hasPrefix("--token") }, "\(name)")
            let environment = try #require(container["env"] as? [[String: Any]])
            let token = try #require(environment.first { $0["name"] as? String == "CLUSTER_TOP_TOKEN" })
            #expect(Self.value(token, "valueFrom", "secretKeyRef", "name") as? String == "cluster-top-token", "\(name)")
        }
    }

    @Test("a worker pod has one thread per CPU of its limit, and requests what it is limited to")
    func threadsMatchResources() throws {
        let container = try Self.container(try Self.resource("Deployment", "cluster-top-workers"))
        let arguments = try #require(container["args"] as? [String])
        #expect(arguments.contains("--threads=$(CLUSTER_TOP_THREADS)"))
        let environment = try #require(container["env"] as? [[String: Any]])
        let threads = try #require(environment.first { $0["name"] as? String == "CLUSTER_TOP_THREADS" })
        #expect(Self.value(threads, "valueFrom", "resourceFieldRef", "resource") as? String == "limits.cpu")
        #expect(Self.value(threads, "valueFrom", "resourceFieldRef", "divisor") as? String == "1")
        let requests = try #require(Self.value(container, "resources", "requests") as? [String: Any])
        let limits = try #require(Self.value(container, "resources", "limits") as? [String: Any])
        #expect("\(requests["cpu"] ?? "")" == "\(limits["cpu"] ?? "none")")
        // Whole cores: a fraction would be rounded up into a thread the pod has no core for.
        #expect(Int("\(limits["cpu"] ?? "")") != nil)
    }

    @Test("workers join the Service by the name its certificate is for, and their probes read their status file")
    func workersReachTheService() throws {
        let service = try Self.resource("Service", "cluster-top-coordinator")
        let port = try #require(Self.value(service, "spec", "ports", 0, "port") as? Int)
        let container = try Self.container(try Self.resource("Deployment", "cluster-top-workers"))
        let arguments = try #require(container["args"] as? [String])
        #expect(arguments.contains("--connect=cluster-top-coordinator:\(port)"))
        let statusFile = try #require(arguments.first { $0.hasPrefix("--status-file=") }?.dropFirst("--status-file=".count))
        let readiness = try #require(Self.value(container, "readinessProbe", "exec", "command") as? [String])
        #expect(readiness == ["grep", "-q", "^joined", String(statusFile)])
        let liveness = try #require(Self.value(container, "livenessProbe", "exec", "command") as? [String])
        #expect(liveness.joined(separator: " ").contains(String(statusFile)))
    }

    @Test("every option the manifests pass is one the binary takes", arguments: ["cluster-top-coordinator", "cluster-top-workers"])
    func optionsExist(deployment: String) throws {
        let arguments = try #require(try Self.container(try Self.resource("Deployment", deployment))["args"] as? [String])
        let command = try #require(arguments.first)
        let help = try BinaryProcess.run([command, "--help"])
        #expect(help.status == 0)
        for option in arguments.dropFirst() {
            let name = String(option.prefix { $0 != "=" })
            #expect(help.stdout.contains(name + " "), "\(deployment): \(name) is not an option of cluster-top \(command)")
        }
    }
}
