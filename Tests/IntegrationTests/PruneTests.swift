import Foundation
import Testing
import TestSupport

/// `treeforge prune`: commits, objects and build details go; kept refs and
/// their history stay intact; the repository stays consistent.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct PruneTests {
    func prune(_ harness: ComposeHarness, _ arguments: [String]) throws -> Command.Result {
        try Command.run([Fixtures.treeforgeExecutable.path, "prune", "--repo", harness.repo.path, "--ref", harness.ref] + arguments)
    }

    @Test func keepLastDropsOlderCommitsAndTheirBuildDetails() throws {
        let harness = try ComposeHarness("prune")
        let small = try harness.treefile(["fixture-oldtool"], in: "small")
        let big = try harness.treefile(Fixtures.defaultRequest, in: "big")
        let commits = try [big, small, small, small].map { try harness.composeOK($0, ["--force-nocache"]) }
        // A file only the first (big) tree has: its object must go with that commit.
        let listing = try Oracle.ostree(harness.repo, ["ls", "-C", commits[0], "/usr/bin/fixture-app"])
        let onlyInFirst = try #require(listing.split(separator: " ").first { $0.count == 64 }.map(String.init))
        let objectFile = harness.repo.appendingPathComponent("objects/\(onlyInFirst.prefix(2))/\(onlyInFirst.dropFirst(2)).filez")
        #expect(FileManager.default.fileExists(atPath: objectFile.path))
        // Another ref on the second commit: its history must survive.
        try Oracle.ostree(harness.repo, ["refs", "--create=keeper/ref", commits[1]])

        let result = try prune(harness, ["--keep-last", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Kept 2 commits of \(harness.ref); deleted 0"), "commit 2 is protected by keeper/ref, and so is 1")

        try Oracle.ostree(harness.repo, ["refs", "--delete", "keeper/ref"])
        let again = try prune(harness, ["--keep-last", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("deleted 2"))
        let log = try Oracle.ostree(harness.repo, ["log", harness.ref])
        #expect(log.contains(commits[3]) && log.contains(commits[2]))
        #expect(!log.contains("commit \(commits[1])") && !log.contains("commit \(commits[0])"))
        try Oracle.ostree(harness.repo, ["fsck"])
        #expect(!FileManager.default.fileExists(atPath: objectFile.path), "an object only a deleted commit used is pruned")
        #expect(!again.stdout.contains("Objects removed: 0 "))
        #expect(FileManager.default.fileExists(atPath: harness.repo.appendingPathComponent("summary").path))

        let rows = try harness.buildRows()
        #expect(rows.count == 4)
        let list = try Command.check([Fixtures.treeforgeExecutable.path, "builds", "list", "--repo", harness.repo.path])
        #expect(list.components(separatedBy: "pruned").count - 1 == 2)
        let show = try Command.check([Fixtures.treeforgeExecutable.path, "builds", "show", "1", "--repo", harness.repo.path])
        #expect(show.contains("Pruned:") && !show.contains("Packages ("))
        #expect(try Command.check([Fixtures.treeforgeExecutable.path, "builds", "show", "4", "--repo", harness.repo.path]).contains("Packages (1):"))
    }

    @Test func keepYoungerThanAlwaysKeepsTheHead() throws {
        let harness = try ComposeHarness("prune-age")
        let treefile = try harness.treefile(["fixture-oldtool"])
        try harness.composeOK(treefile)
        let head = try harness.composeOK(treefile, ["--force-nocache"])
        let result = try prune(harness, ["--keep-younger-than", "0s"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Kept 1 commit of \(harness.ref); deleted 1"))
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == head)
        try Oracle.ostree(harness.repo, ["fsck"])
    }

    @Test func badArguments() throws {
        let harness = try ComposeHarness("prune-args")
        #expect(try prune(harness, []).status != 0)
        #expect(try prune(harness, ["--keep-last", "0"]).stderr.contains("at least 1"))
        #expect(try prune(harness, ["--keep-younger-than", "soon"]).stderr.contains("not an age"))
        let missing = try prune(harness, ["--keep-last", "1"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("error: publish: \(harness.repo.path): no OSTree repository here"))
    }
}
