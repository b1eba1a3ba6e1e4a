import Foundation
import Testing
import TestSupport

/// The published repository is a plain archive repository that any static
/// HTTP server can serve: the stock ostree client pulls it, with static
/// deltas into a bare-user repository, and mirrors it.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct MirrorPullTests {
    @Test func clientsPullWithDeltasAndMirrorsMirror() throws {
        let harness = try ComposeHarness("mirror")
        let first = try harness.composeOK(try harness.treefile(["fixture-oldtool"], in: "one"), ["--static-delta-from-scratch"])
        let server = try StaticHTTPServer(serving: harness.repo)
        #expect(try Oracle.ostree(harness.repo, ["static-delta", "list"]).contains(first))

        // A fresh client, through the from-scratch delta.
        let client = harness.dir.path("client")
        try Oracle.ostree(client, ["init", "--mode=bare-user"])
        try Oracle.ostree(client, ["remote", "add", "--no-gpg-verify", "origin", server.url.absoluteString])
        try Oracle.ostree(client, ["pull", "--require-static-deltas", "origin", harness.ref])
        #expect(try Oracle.ostreeRev(client, harness.ref) == first)

        // An update through the first → second delta.
        let second = try harness.composeOK(try harness.treefile(Fixtures.defaultRequest, in: "two"))
        let deltas = try Oracle.ostree(harness.repo, ["static-delta", "list"])
        #expect(deltas.contains("\(first)-\(second)"))
        try Oracle.ostree(client, ["pull", "--require-static-deltas", "origin", harness.ref])
        #expect(try Oracle.ostreeRev(client, harness.ref) == second)
        try Oracle.ostree(client, ["fsck"])
        try Oracle.ostree(harness.repo, ["fsck"])

        // A mirror of the whole repository.
        let mirror = harness.dir.path("mirror")
        try Oracle.ostree(mirror, ["init", "--mode=archive"])
        try Oracle.ostree(mirror, ["remote", "add", "--no-gpg-verify", "origin", server.url.absoluteString])
        try Oracle.ostree(mirror, ["pull", "--mirror", "origin", harness.ref])
        #expect(try Oracle.ostreeRev(mirror, harness.ref) == second)
        try Oracle.ostree(mirror, ["fsck"])

        // The summary lists the ref and indexes the deltas.
        let summary = try Oracle.ostree(harness.repo, ["summary", "--view"])
        #expect(summary.contains(harness.ref))
        #expect(summary.contains("ostree.summary.indexed-deltas: true"))
        // The build records the deltas it published.
        let rows = try Command.check(["sqlite3", harness.database.path, "select buildId, coalesce(fromCommit, 'scratch'), parts from buildDelta order by rowid"])
        #expect(rows.contains("1|scratch|") && rows.contains("2|\(first)|"))
    }
}

/// GPG-signed commits and summaries, verified by the stock client.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct SigningTests {
    @Test func clientsVerifySignedCommitsAndSummary() throws {
        let key = try ThrowawayGPGKey()
        let harness = try ComposeHarness("signed")
        let commit = try harness.composeOK(try harness.treefile(["fixture-oldtool"]),
                                           ["--gpg-sign", key.keyID, "--gpg-homedir", key.home.url.path])
        #expect(FileManager.default.fileExists(atPath: harness.repo.appendingPathComponent("summary.sig").path))
        let server = try StaticHTTPServer(serving: harness.repo)
        let client = harness.dir.path("client")
        try Oracle.ostree(client, ["init", "--mode=bare-user"])
        try Oracle.ostree(client, ["remote", "add", "--set=gpg-verify=true", "--set=gpg-verify-summary=true",
                                   "--gpg-import=\(key.publicKey.path)", "origin", server.url.absoluteString])
        try Oracle.ostree(client, ["pull", "origin", harness.ref])
        #expect(try Oracle.ostreeRev(client, harness.ref) == commit)
        try Oracle.ostree(client, ["fsck"])
    }

    @Test func aMissingKeyFailsBeforeTheRefMoves() throws {
        let key = try ThrowawayGPGKey()
        let harness = try ComposeHarness("badkey")
        let treefile = try harness.treefile(["fixture-oldtool"])
        try harness.composeOK(treefile)
        let head = try Oracle.ostreeRev(harness.repo, harness.ref)
        let result = try harness.compose(treefile, ["--force-nocache", "--gpg-sign", "0000DEADBEEF0000", "--gpg-homedir", key.home.url.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\nerror: commit: "), "\(result.stderr)")
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == head)
        try Oracle.ostree(harness.repo, ["fsck"])
        #expect(try harness.lastBuild().status == "failed")
    }
}

/// A disk that fills while a static delta is written: the compose fails in
/// `publish`, the summary never lists the half-written delta, and clients
/// still get the previous commit, intact.
@Suite(.serialized, .enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
struct DiskFullTests {
    @Test func fullDiskDuringDeltaGeneration() throws {
        let harness = try ComposeHarness("diskfull")
        let disk = harness.dir.path("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        // 3200 KiB: room for the small tree and the big tree's commit (with
        // ostree's 3 % reserve), not for its from-scratch delta.
        try Command.check(["mount", "-t", "tmpfs", "-o", "size=3200k", "tmpfs", disk.path])
        defer { _ = try? Command.run(["umount", disk.path]) }
        let repo = disk.appendingPathComponent("repo")
        func compose(_ treefile: URL, _ extra: [String] = []) throws -> Command.Result {
            try Command.run([Fixtures.treeforgeExecutable.path, "compose", "tree", treefile.path, "--repo", repo.path,
                             "--workdir", harness.dir.path("work-\(UUID().uuidString)").path] + extra)
        }
        let small = try compose(try harness.treefile(["fixture-oldtool"], in: "small"))
        #expect(small.status == 0, "\(small.stderr)")
        let served = try #require(try Oracle.ostreeRev(repo, harness.ref))

        let big = try compose(try harness.treefile(Fixtures.defaultRequest, in: "big"), ["--static-delta-from-scratch"])
        #expect(big.status != 0)
        #expect(big.stderr.contains("\nerror: publish: delta (scratch)"), "\(big.stderr)")
        #expect(big.stderr.contains("No space left on device"))

        let summary = try Oracle.ostree(repo, ["summary", "--view"])
        #expect(summary.contains(served))
        #expect(!summary.contains("Static Deltas"))
        if let moved = try Oracle.ostreeRev(repo, harness.ref), moved != served {
            #expect(!summary.contains(moved), "the summary still describes the previous state")
        }
        try Oracle.ostree(repo, ["fsck"])
        // A client reading the summary gets the previous commit, complete.
        let server = try StaticHTTPServer(serving: repo)
        let client = harness.dir.path("client")
        try Oracle.ostree(client, ["init", "--mode=bare-user"])
        try Oracle.ostree(client, ["remote", "add", "--no-gpg-verify", "origin", server.url.absoluteString])
        try Oracle.ostree(client, ["pull", "origin", harness.ref])
        #expect(try Oracle.ostreeRev(client, harness.ref) == served)
        try Oracle.ostree(client, ["fsck"])
    }
}
