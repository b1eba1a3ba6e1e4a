import Foundation
import Testing
import TestSupport

/// `treeforge prune` takes a delta to a deleted commit out of the summary,
/// and the server still serves it for the grace period, then removes it.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct RetiredDeltaTests {
    /// `deltas/XX/REST/superblock` of the delta FROM → TO (hex checksums).
    static func superblockPath(from: String, to: String) -> String {
        func encoded(_ hex: String) -> String {
            var bytes = Data()
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16)!)
                index = next
            }
            return bytes.base64EncodedString().replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let name = "\(encoded(from))-\(encoded(to))"
        return "deltas/\(name.prefix(2))/\(name.dropFirst(2))/superblock"
    }

    @Test func aPrunedDeltaIsServedForTheGracePeriodOnly() throws {
        let server = try ServerHarness("retired-deltas")
        let config = try server.dir.write("server.yaml", "delta-grace-period: 4s\n")
        try server.start(["--config", config.path])
        var commits: [String] = []
        for force in [false, true, true] {
            let id = try server.submit(force: force)
            let build = try server.waitFor(id, ["succeeded", "failed"])
            commits.append(try #require(build["commit"] as? String, "\(build)"))
        }
        let retiring = Self.superblockPath(from: commits[0], to: commits[1])
        #expect(FileManager.default.fileExists(atPath: server.repo.appendingPathComponent(retiring).path))

        let prune = try Command.run([Fixtures.treeforgeExecutable.path, "prune", "--ref", server.ref, "--keep-last", "1",
                                     "--repo", server.repo.path])
        #expect(prune.status == 0 && prune.stdout.contains("Deltas to deleted commits: 1"), "\(prune.stdout)\(prune.stderr)")
        // Out of the summary (and of deltas/), still served.
        #expect(!FileManager.default.fileExists(atPath: server.repo.appendingPathComponent(retiring).path))
        let deltas = try Oracle.ostree(server.repo, ["static-delta", "list"])
        #expect(!deltas.contains("\(commits[0])-\(commits[1])") && deltas.contains("\(commits[1])-\(commits[2])"), "\(deltas)")
        let served = try server.get("/repo/" + retiring)
        #expect(served.status == 200 && !served.body.isEmpty)
        #expect(try server.get("/repo/" + Self.superblockPath(from: commits[1], to: commits[2])).status == 200)

        // After the grace period: gone from disk and from /repo/.
        try server.waitUntil("the grace period to end", timeout: 20) {
            try server.get("/repo/" + retiring).status == 404
        }
        try server.waitUntil("the retired delta to be removed", timeout: 20) {
            let folder = server.repo.appendingPathComponent(".treeforge/retired-deltas").path
            return ((try? FileManager.default.subpathsOfDirectory(atPath: folder)) ?? []).allSatisfy { !$0.contains("/") }
        }
        #expect(try server.stop() == 0)
    }
}

/// `prune-keep-last`: the server's lane prunes a ref after each commit.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct PruneLaneTests {
    @Test func eachCommitIsFollowedByAPruneOfItsRef() throws {
        let server = try ServerHarness("prune-lane")
        let config = try server.dir.write("server.yaml", "prune-keep-last: 2\n")
        try server.start(["--config", config.path])
        for force in [false, true, true] {
            let id = try server.submit(force: force)
            #expect(try server.waitFor(id, ["succeeded", "failed"])["status"] as? String == "succeeded")
        }
        try server.waitUntil("the lane to prune the ref to two commits", timeout: 30) {
            try Oracle.ostree(server.repo, ["log", server.ref]).components(separatedBy: "\ncommit ").count == 2
        }
        #expect(try server.stop() == 0)
        #expect(server.log.contains("lane: pruning \(server.ref) to its last 2 commits"), "\(server.log)")
    }
}
