import Foundation
import Testing
import TestSupport
@testable import TreeforgeServer

/// Defaults, then the config file, then flags, then `TREEFORGE_*`.
@Suite struct ServerConfigurationTests {
    @Test func eachSourceWinsOverTheOneBefore() throws {
        let dir = try TemporaryDirectory("server-config")
        let file = try dir.write("etc/server.yaml", """
            listen: 0.0.0.0:9000
            repo: ../srv/repo
            treefiles: tf
            max-parallel: 3
            static-delta-depth: 1
            """)
        let defaults = try ServerConfiguration.load(file: nil, flags: .init(), environment: .init())
        #expect(defaults.host == "127.0.0.1" && defaults.port == 8080 && defaults.maxParallel == 2)
        #expect(defaults.repo.lastPathComponent == "repo" && defaults.treefiles.lastPathComponent == "treefiles" && defaults.tokens == nil)

        let fromFile = try ServerConfiguration.load(file: file, flags: .init(), environment: .init())
        #expect(fromFile.host == "0.0.0.0" && fromFile.port == 9000 && fromFile.maxParallel == 3 && fromFile.staticDeltaDepth == 1)
        #expect(fromFile.repo.path == dir.path("srv/repo").standardizedFileURL.path, "relative to the config file's folder")
        #expect(fromFile.treefiles.path == dir.path("etc/tf").standardizedFileURL.path)

        let flagged = try ServerConfiguration.load(file: file, flags: .init(listen: "127.0.0.1:9001", maxParallel: 4), environment: .init())
        #expect(flagged.port == 9001 && flagged.host == "127.0.0.1" && flagged.maxParallel == 4 && flagged.staticDeltaDepth == 1)

        let environment = try ServerConfiguration.Overrides.environment(["TREEFORGE_LISTEN": "[::1]:9002", "TREEFORGE_MAX_PARALLEL": "5",
                                                                          "TREEFORGE_TOKENS": "/etc/treeforge/tokens.yaml"])
        let all = try ServerConfiguration.load(file: file, flags: .init(listen: "127.0.0.1:9001", maxParallel: 4), environment: environment)
        #expect(all.host == "::1" && all.port == 9002 && all.maxParallel == 5 && all.tokens?.path == "/etc/treeforge/tokens.yaml")
    }

    @Test func badSettingsSayWhich() throws {
        let dir = try TemporaryDirectory("server-config-bad")
        for (text, says) in [("max-parallel: many\n", "max-parallel must be a number"), ("listen: nowhere\n", "expected HOST:PORT"),
                             ("max-parallel: 0\n", "at least 1"), ("schedules: {}\n", "schedules must be a list"),
                             ("schedules:\n  - {name: a, treefile: t.yaml}\n", "needs name, treefile and cron"),
                             ("delta-grace-period: soon\n", "must be an age")] {
            let file = try dir.write("bad-\(UUID().uuidString).yaml", text)
            #expect {
                _ = try ServerConfiguration.load(file: file, flags: .init(), environment: .init())
            } throws: { "\($0)".contains(says) }
        }
        #expect(throws: ConfigurationError.self) { _ = try ServerConfiguration.Overrides.environment(["TREEFORGE_MAX_PARALLEL": "x"]) }
    }
}

/// `/health` fails (503) when a check does: here, the disk threshold.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct HealthTests {
    @Test func aFailingCheckIs503() throws {
        let server = try ServerHarness("server-health")
        // More free disk asked for than any machine here has.
        let config = try server.dir.write("server.yaml", "minimum-free-disk-mib: 1000000000000\n")
        try server.start(["--config", config.path])
        let health = try server.get("/health")
        #expect(health.status == 503 && health.json["status"] as? String == "failing", "\(health.text)")
        let checks = try #require(health.json["checks"] as? [String: [String: Any]])
        #expect(checks["disk"]?["ok"] as? Bool == false && checks["database"]?["ok"] as? Bool == true, "\(checks)")
        #expect((checks["disk"]?["detail"] as? String)?.contains("free under") == true)
        #expect(try server.stop() == 0)
    }
}
