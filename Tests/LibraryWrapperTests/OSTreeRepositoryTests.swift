import Foundation
import LibOSTree
import Testing
import TestSupport

/// libostree through the wrapper, checked with the ostree CLI.
@Suite struct OSTreeRepositoryTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("ostree") }

    func makeTree() throws -> URL {
        try dir.write("root/usr/bin/tool", "#!/bin/sh\necho hi\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path("root/usr/bin/tool").path)
        try FileManager.default.createSymbolicLink(atPath: dir.path("root/usr/bin/alias").path, withDestinationPath: "tool")
        return dir.path("root")
    }

    @Test func commitsAndMovesTheRef() throws {
        let repoPath = dir.path("repo")
        let repo = try OSTreeRepository.openOrCreate(path: repoPath.path, mode: .archive)
        #expect(try repo.resolve(ref: "test/ref") == nil)
        let first = try repo.commit(CommitRequest(
            rootDirectory: try makeTree().path, ref: "test/ref", subject: "first",
            metadata: ["version": .string("1.0"), "list": .strings(["a", "b"]), "n": .uint64(7), "flag": .bool(true)],
            parent: nil))
        #expect(try repo.resolve(ref: "test/ref") == first)
        let info = try repo.commitInfo(first)
        #expect(info.parent == nil)
        #expect(info.metadata["version"] == .string("1.0"))
        #expect(info.metadata["list"] == .strings(["a", "b"]))
        #expect(info.metadata["n"] == .uint64(7))
        #expect(info.metadata["flag"] == .bool(true))

        let second = try repo.commit(CommitRequest(
            rootDirectory: dir.path("root").path, ref: "test/ref", subject: "second",
            metadata: ["version": .string("1.1")], parent: first))
        #expect(try repo.commitInfo(second).parent == first)

        // The stock client agrees.
        #expect(try Oracle.ostree(repoPath, ["rev-parse", "test/ref"]).contains(second))
        #expect(try Oracle.ostree(repoPath, ["log", "test/ref"]).contains("Version: 1.1"))
        let listing = try Oracle.ostree(repoPath, ["ls", "test/ref", "/usr/bin"])
        #expect(listing.contains("-00755") && listing.contains("/usr/bin/tool"))
        #expect(listing.contains("/usr/bin/alias -> tool"))
        try Oracle.ostree(repoPath, ["fsck"])
        #expect(try String(contentsOf: repoPath.appendingPathComponent("config"), encoding: .utf8).contains("mode=archive-z2"))
    }

    @Test func readsAFileOfACommit() throws {
        let repoPath = dir.path("repo")
        let repo = try OSTreeRepository.openOrCreate(path: repoPath.path, mode: .archive)
        let commit = try repo.commit(CommitRequest(rootDirectory: try makeTree().path, ref: "r", subject: "s", metadata: [:], parent: nil))
        let expected = try Oracle.ostree(repoPath, ["cat", commit, "/usr/bin/tool"])
        #expect(try repo.fileContents(commit: commit, path: "/usr/bin/tool") == Data(expected.utf8))
        #expect(try repo.fileContents(commit: commit, path: "usr/bin/alias") == Data(expected.utf8), "a symlink inside the tree is followed")
        #expect(try repo.fileContents(commit: commit, path: "/usr/bin/missing") == nil)
        #expect(throws: OSTreeError.self) { try repo.fileContents(commit: String(repeating: "0", count: 64), path: "/usr/bin/tool") }
    }

    @Test func failedCommitLeavesTheRefAlone() throws {
        let repo = try OSTreeRepository.openOrCreate(path: dir.path("repo").path)
        let first = try repo.commit(CommitRequest(
            rootDirectory: try makeTree().path, ref: "r", subject: "s", metadata: [:], parent: nil))
        let error = try #require(throws: OSTreeError.self) {
            try repo.commit(CommitRequest(rootDirectory: dir.path("missing").path, ref: "r", subject: "s", metadata: [:], parent: first))
        }
        #expect(error.message.contains("No such file or directory") && error.message.contains("missing"), "\(error)")
        #expect(try repo.resolve(ref: "r") == first)
    }

    @Test func openingANonRepositoryFails() throws {
        let error = try #require(throws: OSTreeError.self) { try OSTreeRepository.open(path: dir.url.path) }
        #expect(error.function == "ostree_repo_open")
        #expect(!error.message.isEmpty)
    }
}

/// What treeforge reads to tell whether a head is published, and the
/// cancellable its long calls take.
@Suite struct OSTreePublicationTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("ostree-publication") }

    func commit(_ repo: OSTreeRepository, ref: String, parent: String? = nil, file: String = "a") throws -> String {
        try dir.write("root-\(file)/usr/share/\(file)", "\(file)\n")
        return try repo.commit(CommitRequest(rootDirectory: dir.path("root-\(file)").path, ref: ref, subject: file, metadata: [:], parent: parent))
    }

    @Test func summaryRefsAreWhatTheStockToolWrote() throws {
        let repoPath = dir.path("repo")
        let repo = try OSTreeRepository.openOrCreate(path: repoPath.path)
        #expect(try repo.summaryRefs() == nil, "no summary yet")
        let a = try commit(repo, ref: "os/a")
        let b = try commit(repo, ref: "os/b", file: "b")
        try Oracle.ostree(repoPath, ["summary", "-u"])
        #expect(try repo.summaryRefs() == ["os/a": a, "os/b": b])
        let a2 = try commit(repo, ref: "os/a", parent: a, file: "c")
        #expect(try repo.summaryRefs()?["os/a"] == a, "the summary tells what mirrors see until it is regenerated")
        try repo.regenerateSummary()
        #expect(try repo.summaryRefs()?["os/a"] == a2)
        #expect(!repo.summaryIsSigned)
    }

    @Test func aDamagedSummaryIsAnErrorNotACrash() throws {
        let repoPath = dir.path("repo")
        let repo = try OSTreeRepository.openOrCreate(path: repoPath.path)
        _ = try commit(repo, ref: "os/a")
        try repo.regenerateSummary()
        let summary = repoPath.appendingPathComponent("summary")
        let bytes = try Data(contentsOf: summary)
        try bytes.prefix(bytes.count / 2).write(to: summary)
        // GVariant reads a truncated serialization as default values, never out of bounds.
        #expect(try repo.summaryRefs()?["os/a"] == nil)
    }

    @Test func deltasCountOnlyOnceTheirSuperblockIsWritten() throws {
        let repo = try OSTreeRepository.openOrCreate(path: dir.path("repo").path)
        let a = try commit(repo, ref: "os/a")
        let b = try commit(repo, ref: "os/a", parent: a, file: "b")
        #expect(!repo.hasStaticDelta(from: a, to: b))
        try repo.generateStaticDelta(from: a, to: b)
        #expect(repo.hasStaticDelta(from: a, to: b))
        try FileManager.default.removeItem(at: repo.staticDeltaDirectory(from: a, to: b).appendingPathComponent("superblock"))
        #expect(!repo.hasStaticDelta(from: a, to: b))
    }

    @Test func aCancelledCommitAbortsAndLeavesTheRef() throws {
        let repoPath = dir.path("repo")
        let repo = try OSTreeRepository.openOrCreate(path: repoPath.path)
        let first = try commit(repo, ref: "os/a")
        let cancellable = OSTreeCancellable()
        try dir.write("big/usr/share/one", "1")
        var request = CommitRequest(rootDirectory: dir.path("big").path, ref: "os/a", subject: "cancelled", metadata: [:], parent: first)
        // Cancelled as libostree reaches the first entry, as a signal would.
        request.onEntry = { _ in cancellable.cancel() }
        let error = try #require(throws: OSTreeError.self) { try repo.commitWithStats(request, cancellable: cancellable) }
        #expect(error.isCancellation, "\(error)")
        #expect(try repo.resolve(ref: "os/a") == first)
        try Oracle.ostree(repoPath, ["fsck"])
    }

    @Test func theEntryCallbackSeesEveryFileAndFolder() throws {
        let repo = try OSTreeRepository.openOrCreate(path: dir.path("repo").path)
        try dir.write("tree/usr/bin/x", "x")
        try dir.write("tree/usr/share/y", "y")
        let seen = Paths()
        var request = CommitRequest(rootDirectory: dir.path("tree").path, ref: "r", subject: "s", metadata: [:], parent: nil)
        request.onEntry = { seen.add($0) }
        _ = try repo.commit(request)
        #expect(Set(seen.all).isSuperset(of: ["/usr", "/usr/bin", "/usr/bin/x", "/usr/share", "/usr/share/y"]), "\(seen.all)")
    }
}

/// Paths gathered from libostree's callback.
private final class Paths: @unchecked Sendable {
    private let lock = NSLock()
    private var paths: [String] = []
    func add(_ path: String) { lock.withLock { paths.append(path) } }
    var all: [String] { lock.withLock { paths } }
}
