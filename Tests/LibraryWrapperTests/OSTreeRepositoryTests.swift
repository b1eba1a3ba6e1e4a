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
        #expect(error.function == "ostree_repo_write_directory_to_mtree")
        #expect(error.message.contains("No such file or directory"))
        #expect(try repo.resolve(ref: "r") == first)
    }

    @Test func openingANonRepositoryFails() throws {
        let error = try #require(throws: OSTreeError.self) { try OSTreeRepository.open(path: dir.url.path) }
        #expect(error.function == "ostree_repo_open")
        #expect(!error.message.isEmpty)
    }
}
