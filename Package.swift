// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "cluster-top",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cluster-top", targets: ["cluster-top"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // ncursesw through a system library target: a module map plus a C shim for the
        // macros Swift cannot import (A_BOLD, KEY_F(n), ...).
        .systemLibrary(
            name: "CNcurses",
            providers: [.apt(["libncurses-dev"])]
        ),
        // Crash handling that must be real C: restore the terminal from a signal handler.
        .target(name: "CTerminalSupport", linkerSettings: [.linkedLibrary("ncursesw")]),
        // The kernel, one function per instruction set (AVX-512, AVX2, the baseline, scalar),
        // chosen at run time. Always optimized: a debug build's kernel must still vectorize, or
        // every variant would run at the same speed.
        .target(name: "CSumKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // What the cluster says, as values: snapshots, events, job specs, timelines, ids, the
        // kernel variants and number formats. Runs nothing: the dashboard sees only this.
        .target(
            name: "ClusterModel",
            dependencies: ["CSumKernels", .product(name: "BigInt", package: "BigInt")]
        ),
        // The compute cluster: jobs, chunks, scheduling, workers, the sampler. No UI, no I/O.
        .target(
            name: "ClusterEngine",
            dependencies: [
                "CSumKernels", "ClusterModel",
                .product(name: "BigInt", package: "BigInt"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Scripts: the timed action format of --script and --demo, its parser and its player.
        .target(name: "ClusterScript", dependencies: ["ClusterEngine"]),
        // Number formatting and the headless reporter (progress lines, JSON lines).
        .target(name: "ClusterReporting", dependencies: ["ClusterEngine", "ClusterScript"]),
        // The dashboard as pure functions: view state, key table, reducer, layout into a cell buffer.
        // It sees the model only: what it asks of the engine it returns as commands.
        .target(name: "ClusterDashboard", dependencies: ["ClusterModel"]),
        // The only code that talks to ncurses: setup/teardown, colors, input, signals, the UI loop.
        .target(name: "ClusterTerminal", dependencies: ["CNcurses", "CTerminalSupport", "ClusterDashboard", "ClusterEngine", "ClusterScript", "ClusterRecording"]),
        // The wire protocol of remote workers: cluster_top.proto and the Swift code protoc generated
        // from it (committed; Scripts/generate-protocol.sh regenerates it).
        .target(
            name: "ClusterProtocol",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["cluster_top.proto"]
        ),
        // Remote workers over gRPC: the coordinator's service and the worker process's client.
        .target(
            name: "ClusterNet",
            dependencies: [
                "ClusterEngine", "ClusterProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                // TLS: a self-signed certificate made at start, pinned by its fingerprint.
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                // TLSUserEvent: a handshake that completed (HandshakeWatcher).
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        // --journal: accepted chunks and jobs in an SQLite database (WAL), so a restart resumes.
        .target(
            name: "ClusterJournal",
            dependencies: ["ClusterEngine", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // --record and replay: the dashboard's frames as JSON lines of what changed, and read back.
        .target(name: "ClusterRecording", dependencies: ["ClusterEngine"]),
        // --metrics: Prometheus' text exposition (swift-prometheus' registry) over SwiftNIO's HTTP/1.1.
        .target(
            name: "ClusterMetrics",
            dependencies: [
                "ClusterEngine",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "cluster-top",
            dependencies: [
                "ClusterEngine", "ClusterReporting", "ClusterDashboard", "ClusterTerminal", "ClusterScript", "ClusterNet",
                "ClusterJournal", "ClusterMetrics", "ClusterRecording",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What tests share: waiting for a fact (`eventually`) and holding work at a gate.
        .target(name: "ClusterTestSupport", dependencies: ["ClusterEngine"]),
        // posix_spawn + wait4 for the benchmark suite and the end-to-end tests.
        .target(name: "ProcessSupport"),
        // The benchmark suite: `swift run -c release cluster-bench`. Reference/ holds the C
        // baseline, which the suite compiles itself with clang -O3 -march=native.
        .executableTarget(
            name: "cluster-bench",
            dependencies: ["ClusterEngine", "ClusterReporting", "ClusterNet", "ClusterDashboard", "ClusterJournal", "ClusterMetrics", "ClusterRecording", "ProcessSupport"],
            exclude: ["Reference"]
        ),
        .testTarget(name: "ClusterEngineTests", dependencies: ["ClusterEngine", "ClusterModel", "ClusterTestSupport", .product(name: "BigInt", package: "BigInt")]),
        .testTarget(name: "ClusterJournalTests", dependencies: ["ClusterJournal", "ClusterEngine", "ClusterTestSupport",
                                                                .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ClusterReportingTests", dependencies: ["ClusterReporting", "ClusterModel", "ClusterEngine", "ClusterTestSupport"]),
        .testTarget(name: "ClusterRecordingTests", dependencies: ["ClusterRecording", "ClusterDashboard", "ClusterEngine", "ClusterTestSupport"]),
        .testTarget(name: "ClusterMetricsTests", dependencies: ["ClusterMetrics", "ClusterEngine", "ClusterTestSupport"]),
        .testTarget(name: "ClusterScriptTests", dependencies: ["ClusterScript", "ClusterEngine", "ClusterTestSupport"]),
        .testTarget(name: "ClusterDashboardTests", dependencies: ["ClusterDashboard", "ClusterModel", "ClusterEngine", "ClusterTerminal", "ClusterTestSupport"]),
        // Drives the real binary: headless runs as subprocesses, the dashboard inside tmux.
        .testTarget(name: "EndToEndTests", dependencies: [
            "cluster-top", "ProcessSupport", "ClusterEngine", "ClusterNet", "ClusterTestSupport",
            // What a journal holds after each kill, read as `cluster-top journal` reads it; SQLite
            // files that are not journals, made for the refusal tests.
            "ClusterJournal", .product(name: "GRDB", package: "GRDB.swift"),
            // The last run's result line (--json), compared with the journal.
            "ClusterReporting",
            // Hostile clients written by hand, against the real serve.
            "ClusterProtocol",
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            // Certificates made by the tests: a CA and what it signs, for --tls-ca.
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            // The Kubernetes manifests, read as the API server would.
            .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(
            name: "ClusterNetTests",
            dependencies: [
                "ClusterNet", "ClusterEngine", "ClusterProtocol", "ClusterTestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
    ]
)
