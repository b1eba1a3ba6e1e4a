import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

@Suite struct BuildStoreTests {
    /// Package b-EPOCH:2-3.ARCH from repo `base` at `revision`.
    static func onePackage(epoch: String, arch: String, revision: String) -> ResolvedSet {
        ResolvedSet(packages: [
            ResolvedPackage(info: .init(name: "b", epoch: epoch, version: "2", release: "3", arch: arch, repository: "base",
                                        location: "b.rpm", checksumType: "sha256", checksum: "ff", downloadSize: 10, installSize: 20),
                            path: "/b.rpm"),
        ], repos: [RepoState(id: "base", path: "/r", revision: revision, packageCount: 1)])
    }

    @Test func recordsABuildFromStartToFinish() throws {
        let store = try BuildStore()
        let id = try store.start(treefilePath: "/t.yaml")
        #expect(try store.build(id)?.status == .running)
        #expect(try store.build(id)?.pid == getpid())
        try store.update(id) {
            $0.ref = "os/base"
            $0.status = .succeeded
            $0.commit = "abc"
            $0.stageSeconds = ["resolve": 0.5]
        }
        let build = try #require(try store.build(id))
        #expect(build.status == .succeeded)
        #expect(build.trigger == "cli")
        #expect(build.stageSeconds["resolve"] == 0.5)
        #expect(try store.builds(ref: "os/base").map(\.id) == [id])
        #expect(try store.builds(ref: "other").isEmpty)
        #expect(try store.build(commit: "abc")?.id == id)
    }

    @Test func composeIDsCountUpPerDay() throws {
        let store = try BuildStore()
        let day = Date(timeIntervalSince1970: 1_700_000_000)
        let a = try store.start(treefilePath: "/t")
        let b = try store.start(treefilePath: "/t")
        let c = try store.start(treefilePath: "/t")
        #expect(try store.assignComposeID(a, name: "fedora-coreos", version: "40", day: day) == "fedora-coreos-40-20231114.0")
        #expect(try store.assignComposeID(b, name: "fedora-coreos", version: "40", day: day) == "fedora-coreos-40-20231114.1")
        #expect(try store.assignComposeID(c, name: "fedora-coreos", version: "41", day: day) == "fedora-coreos-41-20231114.0")
    }

    @Test func packagesReposAndLogs() throws {
        let store = try BuildStore()
        let id = try store.start(treefilePath: "/t")
        let set = Self.onePackage(epoch: "1", arch: "x86_64", revision: "42")
        try store.recordPackages(id, set)
        #expect(try store.packages(of: id).map(\.nevra) == ["b-1:2-3.x86_64"])
        #expect(try store.packages(of: id).first?.checksum == "sha256:ff")
        #expect(try store.repos(of: id) == [BuildRepo(buildId: id, repoId: "base", revision: "42")])
        #expect(try store.build(id)?.packages == ["b-1:2-3.x86_64"])
        try store.setLog(id, stage: .install, text: "scriptlet said hi\n")
        try store.setLog(id, stage: .load, text: "warning: x")
        #expect(try store.logs(of: id).map(\.stage) == ["load", "install"])
    }

    @Test func inputsAreKeptPerBuildAndSurviveAPrune() throws {
        let store = try BuildStore()
        let id = try store.start(treefilePath: "/t")
        let set = Self.onePackage(epoch: "", arch: "noarch", revision: "1700000000")
        try store.setInput(id, BuildInput.treefile, text: "{\"ref\": \"os/base\"}\n")
        try store.setInput(id, BuildInput.lockfile, text: Lockfile.text(set))
        try store.setInput(id, BuildInput.treefile, text: "{\"ref\": \"os/other\"}\n")
        let inputs = try store.inputs(of: id)
        #expect(inputs.map(\.name) == ["lockfile", "treefile"])
        #expect(inputs.last?.text == "{\"ref\": \"os/other\"}\n", "set again, replaced")
        #expect(inputs.first?.text.contains("\"evra\": \"2-3.noarch\"") == true && inputs.first?.text.contains("sha256:ff") == true)
        // The lockfile recorded is one a compose reads back (--ex-lockfile).
        let dir = try TemporaryDirectory("lockfile")
        let file = try dir.write("recorded.json", inputs.first!.text)
        #expect(try Lockfile.load([file]).packages["b"] != nil)
        try store.pruneDetails(of: [id])
        #expect(try store.inputs(of: id).count == 2, "what made a pruned build stays")
        #expect(try store.inputs(of: id + 1).isEmpty)
    }

    @Test func treeSizeCountsAHardlinkedFileOnceAndReadsNoFile() throws {
        let dir = try TemporaryDirectory("tree-size")
        let root = dir.path("root")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("usr/bin"), withIntermediateDirectories: true)
        try Data(count: 1000).write(to: root.appendingPathComponent("usr/bin/tool"))
        #expect(link(root.appendingPathComponent("usr/bin/tool").path, root.appendingPathComponent("usr/bin/tool-alias").path) == 0)
        try Data(count: 24).write(to: root.appendingPathComponent("usr/config"))
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("bin").path, withDestinationPath: "usr/bin")
        // Unreadable to all: measured by lstat alone.
        try Data(count: 5).write(to: root.appendingPathComponent("usr/secret"))
        chmod(root.appendingPathComponent("usr/secret").path, 0)
        let size = try TreeSize.measure(root)
        #expect(size == TreeSize(bytes: 1029, files: 5))
        #expect(throws: ComposeError.self) { try TreeSize.measure(dir.path("missing")) }
    }

    @Test func databaseLivesBesideTheRepository() throws {
        #expect(BuildStore.databasePath(forRepo: URL(fileURLWithPath: "/srv/os/repo/")).path == "/srv/os/repo.builds.sqlite")
        let dir = try TemporaryDirectory("store")
        let store = try BuildStore(repoPath: dir.path("nested/repo"))
        _ = try store.start(treefilePath: "/t.yaml")
        #expect(FileManager.default.fileExists(atPath: dir.path("nested/repo.builds.sqlite").path))
    }

    @Test func migratesFromEachEarlierSchema() throws {
        let dir = try TemporaryDirectory("migrations")
        let path = dir.path("builds.sqlite").path
        let v1 = try BuildStore(path: path, upTo: "v1: builds")
        #expect(try v1.appliedMigrations() == ["v1: builds"])
        // A v1 row, written as v1 wrote it.
        try v1.writer.write { db in
            try db.execute(sql: """
                INSERT INTO build (ref, treefilePath, status, startedAt, "commit", packages)
                VALUES ('os/base', '/t.yaml', 'succeeded', '2026-01-01 00:00:00.000', 'abc', '["a-1-1.noarch"]')
                """)
        }
        let current = try BuildStore(path: path)
        #expect(try current.appliedMigrations() == ["v1: builds", "v2: compose ids, packages, repos, deltas, logs", "v3: pruned builds", "v4: publication, stage inputs, scratch folders, process identities", "v5: server queue, events, schedules, audit", "v6: build inputs, tree size"])
        let old = try #require(try current.builds().first)
        #expect(old.commit == "abc" && old.packages == ["a-1-1.noarch"])
        #expect(old.trigger == "cli" && old.composeId == nil && old.inputHash == nil)
        let fresh = try BuildStore(path: dir.path("fresh.sqlite").path)
        #expect(try fresh.appliedMigrations().count == 6)
        // And from v2.
        let v2 = try BuildStore(path: dir.path("v2.sqlite").path, upTo: "v2: compose ids, packages, repos, deltas, logs")
        try v2.writer.write { db in
            try db.execute(sql: """
                INSERT INTO build (id, composeId, treefilePath, status, startedAt, "trigger")
                VALUES (7, 'n-1-20260101.0', '/t', 'failed', '2026-01-01 00:00:00.000', 'cli')
                """)
        }
        let upgraded = try BuildStore(path: dir.path("v2.sqlite").path)
        #expect(try upgraded.build(7)?.composeId == "n-1-20260101.0")
        #expect(try upgraded.build(7)?.prunedAt == nil)
    }

    @Test func diffLikeRpmOstreeDbDiff() throws {
        func package(_ name: String, _ version: String, _ release: String = "1") -> BuildPackage {
            BuildPackage(buildId: 0, name: name, epoch: "", version: version, release: release, arch: "noarch",
                         repo: "r", downloadSize: 0, installSize: 0, checksum: nil)
        }
        let diff = BuildDiff(from: [package("a", "1.0"), package("b", "2.0"), package("c", "1.10"), package("gone", "1")],
                             to: [package("a", "1.0"), package("b", "1.9"), package("c", "1.10", "2"), package("new", "1")])
        #expect(diff.added == ["new-1-1.noarch"])
        #expect(diff.removed == ["gone-1-1.noarch"])
        #expect(diff.upgraded == [.init(name: "c", arch: "noarch", from: "1.10-1", to: "1.10-2")])
        #expect(diff.downgraded == [.init(name: "b", arch: "noarch", from: "2.0-1", to: "1.9-1")])
        #expect(diff.lines.first == "Upgraded:")
        #expect(BuildDiff(from: [], to: []).lines == ["No package changes."])
    }
}
