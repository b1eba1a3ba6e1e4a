// swift-tools-version:6.0
import PackageDescription

// One systemLibrary target per C library, one Swift wrapper module per C
// library (the only module that imports it), the pipeline in TreeforgeCore,
// and a thin executable. See docs/architecture.md.
let package = Package(
    name: "treeforge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "treeforge", targets: ["TreeforgeCLI"]),
        .library(name: "TreeforgeCore", targets: ["TreeforgeCore"]),
    ],
    dependencies: [
        // CLI parsing: the `treeforge compose tree …` command tree.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Build records in SQLite: migrations, records, WAL.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        // Treefiles are YAML (and JSON, which YAML 1.2 reads with line numbers).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // The compose server: HTTP (Hummingbird 2), run with its job runner and
        // scheduler as one ServiceGroup that shuts down gracefully on SIGTERM.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        // Already under Hummingbird; named because the server logs and reads channel addresses itself.
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        // MARK: C libraries (found through pkg-config)
        .systemLibrary(
            name: "CRpm", path: "Sources/CRpm", pkgConfig: "rpm",
            providers: [.apt(["librpm-dev"])]),
        .systemLibrary(
            name: "CSolv", path: "Sources/CSolv", pkgConfig: "libsolvext",
            providers: [.apt(["libsolv-dev", "libsolvext-dev"])]),
        .systemLibrary(
            name: "COSTree", path: "Sources/COSTree", pkgConfig: "ostree-1",
            providers: [.apt(["libostree-dev"])]),
        // The commit's compressor: raw DEFLATE into archive objects, 3x zlib's speed.
        .systemLibrary(
            name: "CDeflate", path: "Sources/CDeflate", pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]),
        // The commit's SHA-256 and package files' digests (OpenSSL's, with the CPU's SHA instructions).
        .systemLibrary(
            name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),

        // MARK: Safe Swift wrappers, one per C library
        .target(name: "LibRPM", dependencies: ["CRpm"]),
        .target(name: "LibSolv", dependencies: ["CSolv"]),
        .target(name: "LibDeflate", dependencies: ["CDeflate"]),
        .target(name: "LibCrypto", dependencies: ["CCrypto"]),
        .target(name: "LibOSTree", dependencies: ["COSTree", "LibDeflate", "LibCrypto"]),

        // MARK: The compose pipeline
        .target(
            name: "TreeforgeCore",
            dependencies: [
                "LibRPM", "LibSolv", "LibOSTree", "LibCrypto",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
            ]),

        // MARK: The compose server (`treeforge serve`): queue, job runner, scheduler, JSON API, /repo/
        .target(
            name: "TreeforgeServer",
            dependencies: [
                "TreeforgeCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
            ]),

        // MARK: The command line (a thin shell over TreeforgeCore and TreeforgeServer)
        .executableTarget(
            name: "TreeforgeCLI",
            dependencies: [
                "TreeforgeCore",
                "TreeforgeServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // MARK: Fuzzing
        // libFuzzer targets over the parsers of untrusted files. Built with
        // `--sanitize fuzzer --sanitize address -Xswiftc -DFUZZING` by
        // scripts/fuzz; in a normal build each executable replays the files it
        // is given. See CONTRIBUTING.md ("Fuzzing").
        .target(name: "TreeforgeFuzzing", dependencies: ["TreeforgeCore", "LibSolv"], path: "Fuzz/TreeforgeFuzzing"),
        .executableTarget(name: "FuzzTreefile", dependencies: ["TreeforgeFuzzing"], path: "Fuzz/FuzzTreefile"),
        .executableTarget(name: "FuzzRepoFile", dependencies: ["TreeforgeFuzzing"], path: "Fuzz/FuzzRepoFile"),
        .executableTarget(name: "FuzzLockfile", dependencies: ["TreeforgeFuzzing"], path: "Fuzz/FuzzLockfile"),
        .executableTarget(name: "FuzzSolv", dependencies: ["TreeforgeFuzzing"], path: "Fuzz/FuzzSolv"),
        .executableTarget(name: "FuzzSolvCache", dependencies: ["TreeforgeFuzzing"], path: "Fuzz/FuzzSolvCache"),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["TreeforgeCore"], path: "Tests/TestSupport"),
        .testTarget(name: "LibraryWrapperTests", dependencies: ["LibRPM", "LibSolv", "LibOSTree", "LibDeflate", "LibCrypto", "TestSupport"]),
        .testTarget(name: "TreeforgeCoreTests", dependencies: ["TreeforgeCore", "TestSupport"]),
        // Replays the kept fuzz inputs (Tests/Fixtures/fuzz/<target>/) through the fuzz functions.
        .testTarget(name: "FuzzRegressionTests", dependencies: ["TreeforgeFuzzing", "TestSupport"]),
        // Composes real fixtures end to end; needs root (librpm chroots) and
        // the treeforge executable (the rpm transaction runs in a child process).
        .testTarget(name: "IntegrationTests", dependencies: ["TreeforgeCore", "TestSupport", "TreeforgeCLI"]),
        // The server over a real loopback socket, driving real compose children.
        // The tests run `treeforge serve` itself and talk to it as clients do.
        .testTarget(name: "ServerTests", dependencies: [
            "TreeforgeServer", "TestSupport", "TreeforgeCLI", .product(name: "Logging", package: "swift-log"),
        ]),
    ]
)
