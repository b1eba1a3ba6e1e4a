import Foundation
import Testing
import TestSupport

/// A compose killed (SIGKILL) as each stage starts, then a compose that
/// succeeds: the database must tell the truth and the repository must pass
/// `ostree fsck`.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct CrashRecoveryTests {
    @Test(arguments: ["load", "resolve", "download", "install", "postprocess", "commit", "publish", "record"])
    func killedAtAStage(stage: String) throws {
        let harness = try ComposeHarness("crash")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let first = try harness.composeOK(treefile)

        let killed = try harness.compose(treefile, ["--force-nocache"], environment: ["TREEFORGE_FAULT_KILL_AT": stage])
        #expect(killed.status == SIGKILL, "the compose should have died at \(stage)")
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        // Killed as `publish` or `record` starts, the commit is already on the ref.
        let committed = stage == "publish" || stage == "record"
        #expect((head != first) == committed)
        // Once the ref moved the build is publishing until deltas and summary are written.
        #expect(try harness.buildRows().last?.status == (committed ? "publishing" : "running"))

        let last = try harness.composeOK(treefile, ["--force-nocache"])
        let rows = try harness.buildRows()
        #expect(rows.count == 3)
        #expect(rows[0].status == "succeeded" && rows[0].commit == first)
        if committed {
            #expect(rows[1].status == "succeeded" && rows[1].commit == head, "reconciled from the commit's own build id")
        } else {
            #expect(rows[1].status == "interrupted" && rows[1].commit.isEmpty)
        }
        #expect(rows[2].status == "succeeded" && rows[2].commit == last)
        #expect(!rows.contains { $0.status == "running" })
        try Oracle.ostree(harness.repo, ["fsck"])
        let show = try Command.check([Fixtures.treeforgeExecutable.path, "builds", "show", "2", "--repo", harness.repo.path])
        #expect(show.contains(committed ? "Status:           succeeded" : "Status:           interrupted"))
    }

    /// A failed compose keeps its root for inspection; in memory, only until
    /// the next compose of the repository starts.
    @Test func aFailedComposesRootInMemoryLastsUntilTheNextCompose() throws {
        let harness = try ComposeHarness("failed-scratch")
        let failing = try harness.treefile(["fixture-app", "fixture-failing-scriptlet"], in: "failing")
        let failed = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "tree", failing.path, "--repo", harness.repo.path])
        #expect(failed.status == 1, "\(failed.stderr)")
        let folder = try harness.buildColumns(1, ["scratchFolder"])[0]
        #expect(folder.hasPrefix("/dev/shm/treeforge-compose-"), "recorded: \(folder)")
        #expect(FileManager.default.fileExists(atPath: folder + "/rootfs"), "the failed compose kept its root")
        let log = try Command.check([Fixtures.treeforgeExecutable.path, "builds", "log", "1", "--stage", "install", "--repo", harness.repo.path])
        #expect(log.hasPrefix("scratch folder \(folder): in memory"), "\(log)")

        let next = try harness.compose(try harness.treefile(Fixtures.defaultRequest))
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stderr.contains("build #1: removed its scratch folder \(folder)"), "\(next.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder))
    }

    /// A compose killed mid-install leaves a scratch root (in memory: the
    /// fixture tree fits; or on disk); the next compose, reconciling the
    /// dead build, removes it.
    @Test(arguments: [(placement: [String](), prefix: "/dev/shm/treeforge-compose-"),
                      (placement: ["--no-workdir-tmpfs"], prefix: "/var/tmp/treeforge-compose-")])
    func aKilledComposesScratchFolderIsRemoved(_ placement: [String], _ prefix: String) throws {
        let harness = try ComposeHarness("scratch")
        let treefile = try harness.treefile(Fixtures.defaultRequest)
        // No --workdir: treeforge makes (and records) its own scratch folder.
        let killed = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "tree", treefile.path, "--repo", harness.repo.path] + placement,
                                     environment: ["TREEFORGE_FAULT_KILL_AT": "install:4"])
        #expect(killed.status == SIGKILL)
        let folder = try harness.buildColumns(1, ["scratchFolder"])[0]
        #expect(folder.hasPrefix(prefix), "recorded: \(folder)")
        #expect(FileManager.default.fileExists(atPath: folder + "/rootfs"), "the killed compose left its root")

        let next = try harness.compose(treefile)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stderr.contains("reconciled: build #1: removed its scratch folder \(folder)"), "\(next.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder))
        #expect(try harness.buildColumns(1, ["status", "scratchFolder"]) == ["interrupted", ""])
    }

    @Test func anUnrecordedCommitOnTheRefIsRecorded() throws {
        let harness = try ComposeHarness("unrecorded")
        let treefile = try harness.treefile(["fixture-oldtool"])
        try harness.composeOK(treefile)
        // A commit made behind treeforge's back (another tool, a lost database row).
        let tree = harness.dir.path("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("usr"), withIntermediateDirectories: true)
        try Oracle.ostree(harness.repo, ["commit", "--branch", harness.ref, "--tree=dir=\(tree.path)", "--add-metadata-string=version=manual.1"])
        let foreign = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        try harness.composeOK(treefile)
        let rows = try harness.buildRows()
        #expect(rows.map(\.status) == ["succeeded", "succeeded", "succeeded"])
        #expect(rows.contains { $0.commit == foreign })
        let list = try Command.check([Fixtures.treeforgeExecutable.path, "builds", "list", "--repo", harness.repo.path, "--json"])
        #expect(list.contains(#""trigger" : "reconciled""#) && list.contains(#""version" : "manual.1""#))
    }

    @Test func buildsCommands() throws {
        let harness = try ComposeHarness("builds-cli")
        try harness.composeOK(try harness.treefile(["fixture-app", "fixture-oldtool"]))
        try harness.composeOK(try harness.treefile(["fixture-app", "fixture-legacy", "fixture-editor-b"], in: "second"))
        _ = try harness.compose(try harness.treefile(["fixture-app", "fixture-failing-scriptlet"], in: "third"))
        func cli(_ arguments: [String]) throws -> String {
            try Command.check([Fixtures.treeforgeExecutable.path, "builds"] + arguments + ["--repo", harness.repo.path])
        }
        let list = try cli(["list"])
        #expect(list.contains("fixture-x86_64-test-0-"))
        #expect(list.contains("failed in install"))
        #expect(try cli(["diff", "1", "2"]) == """
            Build #1 -> #2
            Downgraded:
              fixture-lib.noarch 2.0-1 -> 1.0-1
            Removed:
              fixture-editor-a-1.0-1.noarch
              fixture-newtool-2.0-1.noarch
            Added:
              fixture-editor-b-1.0-1.noarch
              fixture-legacy-1.0-1.noarch

            """)
        #expect(try cli(["log", "3", "--stage", "install"]).contains("fixture-failing-scriptlet: %post failing on purpose"))
        #expect(try cli(["show", "3"]).contains("the %post scriptlet failed (exit status 3)"))
        let json = try cli(["diff", "1", "2", "--json"])
        #expect(json.contains(#""downgraded""#))
    }
}
