import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// `compose tree --build-id N` runs as a build another process (the
/// server) queued, instead of inserting a row of its own.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct BuildAdoptionTests {
    @Test func aQueuedBuildIsAdoptedNotDuplicated() throws {
        let harness = try ComposeHarness("adopt")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let queued = try BuildStore(repoPath: harness.repo).enqueue(treefilePath: treefile.path, trigger: "server")
        #expect(try harness.buildColumns(Int(queued), ["status", "pid"]) == ["queued", ""])

        let result = try harness.compose(treefile, ["--build-id", String(queued), "--progress", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        #expect(try harness.buildRows().map(\.id) == [Int(queued)], "no row besides the queued one")
        #expect(try harness.buildColumns(Int(queued), ["status", "commit", "pid", "trigger"]) == ["succeeded", head, "", "server"])
        let events = try EventStream(result.stdout).events
        #expect(events.contains { if case .buildStarted(queued, _, harness.ref, _) = $0 { return true } else { return false } })
        #expect(events.last == .outcome(ComposeResult(status: .committed, build: queued, ref: harness.ref, commit: head,
                                                      version: try harness.history().first?.version, exitStatus: 0)))
    }

    /// A build that does not exist, or that already ran, cannot be adopted:
    /// the compose stops before anything is built or recorded.
    @Test(arguments: [
        (99, "build #99: no such build in "),
        (1, "build #1: is succeeded, not queued: --build-id adopts only a queued build (each build runs once)"),
    ])
    func buildIDOfABuildThatIsNotQueuedIsRefused(id: Int, message: String) throws {
        let harness = try ComposeHarness("adopt-refused")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let head = try harness.composeOK(treefile)
        let commits = harness.commitObjects()
        let before = try harness.buildColumns(1, ["status", "commit", "finishedAt"])

        let result = try harness.compose(treefile, ["--force-nocache", "--build-id", String(id)])
        #expect(result.status == 1)
        let errorLine = result.stderr.split(separator: "\n").first { $0.hasPrefix("error: ") }.map(String.init) ?? ""
        #expect(errorLine.hasPrefix("error: record: \(message)"), "\(result.stderr)")
        #expect(errorLine.hasSuffix("; queue a new build for it to adopt, or run without --build-id"), "\(errorLine)")
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == head)
        #expect(harness.commitObjects() == commits)
        #expect(try harness.buildRows().map(\.id) == [1], "no row added")
        #expect(try harness.buildColumns(1, ["status", "commit", "finishedAt"]) == before, "the finished build is left as it was")
    }
}
