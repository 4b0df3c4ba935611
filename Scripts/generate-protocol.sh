#!/usr/bin/env bash
# Regenerates Sources/ClusterProtocol/*.swift from cluster_top.proto. Builds and CI do not need
# this: the generated code is committed. Run it after changing the .proto.
#
# Needs protoc (Debian: apt-get install protobuf-compiler) and the two plugins, which this script
# builds from the package versions Package.swift names (the first build takes a few minutes):
#   protoc-gen-swift         from apple/swift-protobuf
#   protoc-gen-grpc-swift-2  from grpc/grpc-swift-protobuf
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

plugins=.build-protoc-plugins
mkdir -p "$plugins"
cat > "$plugins/Package.swift" <<'SWIFT'
// swift-tools-version: 6.1
import PackageDescription
let package = Package(
    name: "protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    ],
    targets: [.target(name: "Unused", path: "Unused")]
)
SWIFT
mkdir -p "$plugins/Unused" && echo "let unused = 0" > "$plugins/Unused/Unused.swift"
swift build -c release --package-path "$plugins" --product protoc-gen-swift
swift build -c release --package-path "$plugins" --product protoc-gen-grpc-swift-2
bin="$(swift build -c release --package-path "$plugins" --show-bin-path)"

out=Sources/ClusterProtocol
protoc --proto_path="$out" \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --swift_out="$out" --swift_opt=Visibility=Public \
    --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2" \
    --grpc-swift_out="$out" --grpc-swift_opt=Visibility=Public,Server=true,Client=true \
    cluster_top.proto
echo "regenerated $out/cluster_top.pb.swift and $out/cluster_top.grpc.swift"
