import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// A compose killed after its commit moved the ref and before it published
/// once left the new head unpublished for good: reconciled as `succeeded`,
/// the summary still listing the old commit, no delta, and the next compose
/// of the same inputs saying "No changes". Now the next compose, or
/// `treeforge publish`, publishes that head first.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct UnpublishedHeadTests {
    /// A published first commit, then the same inputs composed again
    /// (`--force-nocache`) and killed as the publish stage starts: the ref
    /// has moved, nothing of the new head is published.
    struct KilledBeforePublishing {
        let harness: ComposeHarness
        let treefile: URL
        let first: String
        let head: String

        init(_ label: String) throws {
            harness = try ComposeHarness(label)
            treefile = try harness.treefile(Fixtures.defaultRequest)
            first = try harness.composeOK(treefile)
            let killed = try harness.compose(treefile, ["--force-nocache"], environment: ["TREEFORGE_FAULT_KILL_AT": "publish"])
            #expect(killed.status == SIGKILL, "\(killed.stderr)")
            head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
            // The defect's starting point.
            #expect(head != first)
            #expect(try harness.parent(of: head) == first)
            #expect(try harness.summaryCommit() == first)
            #expect(try !harness.staticDeltas().contains { $0.hasSuffix(head) })
            #expect(try harness.buildRow(2).status == "publishing")
        }

        /// The head is published now, and build #2 that made it says so.
        func expectHeadPublished(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            #expect(try harness.summaryCommit() == head, sourceLocation: sourceLocation)
            #expect(try harness.staticDeltas().contains("\(first)-\(head)"), sourceLocation: sourceLocation)
            #expect(throws: Never.self, sourceLocation: sourceLocation) { try harness.applyDelta(from: first, to: head) }
            let row = try harness.buildRow(2)
            #expect(row.status == "succeeded" && row.commit == head && !row.publishedAt.isEmpty, "\(row)", sourceLocation: sourceLocation)
            #expect(throws: Never.self, sourceLocation: sourceLocation) { try Oracle.ostree(harness.repo, ["fsck"]) }
        }

        /// A compose of the same inputs that has nothing left to do: "No
        /// changes", exit 3, nothing published first, the ref where it was.
        func expectNothingLeftToDo(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            let again = try harness.compose(treefile)
            #expect(again.status == 3, "\(again.stderr)", sourceLocation: sourceLocation)
            #expect(again.stdout.contains("No changes: the inputs of \(harness.ref) are those of its head \(head)"), sourceLocation: sourceLocation)
            #expect(!again.stderr.contains("publishing it first"), "\(again.stderr)", sourceLocation: sourceLocation)
            #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == head, sourceLocation: sourceLocation)
        }
    }

    @Test func theNextComposePublishesTheHeadThenSaysNoChanges() throws {
        let killed = try KilledBeforePublishing("unpublished-compose")
        let commits = killed.harness.commitObjectCount()
        let next = try killed.harness.compose(killed.treefile, ["--progress=json"])
        #expect(next.status == 3, "\(next.stderr)")
        let events = try ComposeEvents(stdout: next.stdout)
        let missing = ["the summary does not list \(killed.harness.ref) at \(killed.head)",
                       "static delta \(killed.first.prefix(12)) → \(killed.head.prefix(12))"]
        let resumed = ComposeEvent.publishResumed(ref: killed.harness.ref, commit: killed.head, build: 2, missing: missing)
        let unchanged = ComposeEvent.outcome(ComposeResult(status: .unchanged, build: 3, ref: killed.harness.ref, commit: killed.head,
                                                           exitStatus: ComposeResult.unchangedExitStatus))
        // Published first, "No changes" only after (the outcome ends the events); nothing installed or committed.
        #expect(events.events.contains(resumed), "\(events.events)")
        #expect(events.events.last == unchanged, "\(events.events)")
        #expect(!events.stagesStarted.contains(.install) && !events.stagesStarted.contains(.commit), "\(events.stagesStarted)")
        #expect(killed.harness.commitObjectCount() == commits)
        try killed.expectHeadPublished()
        #expect(try killed.harness.buildRow(3).status == "unchanged")
        try killed.expectNothingLeftToDo()
    }

    @Test func treeforgePublishPublishesTheHeadThenReportsItPublished() throws {
        let killed = try KilledBeforePublishing("unpublished-publish")
        let treeforge = Fixtures.treeforgeExecutable.path
        let repo = killed.harness.repo.path, ref = killed.harness.ref
        let publish = try Command.run([treeforge, "publish", "--repo", repo, "--ref", ref])
        #expect(publish.status == 0, "\(publish.stderr)")
        #expect(publish.stdout.contains("Published \(ref) at \(killed.head) (build #2) (was missing: "), "\(publish.stdout)")
        try killed.expectHeadPublished()
        // Every ref this time: nothing left to publish.
        let again = try Command.run([treeforge, "publish", "--repo", repo])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == "\(ref) is published at \(killed.head)\n")
        try killed.expectNothingLeftToDo()
    }

    /// Signing, killed after the summary and before its signature
    /// (`publish:2`): the summary lists the head, but a client that verifies
    /// summaries refuses it, so the head is not published. The build is
    /// reconciled `publishing`, and the next compose signs the summary.
    @Test func aSummaryLeftUnsignedIsSignedByTheNextCompose() throws {
        let key = try ThrowawayGPGKey()
        let signing = ["--gpg-sign", key.keyID, "--gpg-homedir", key.home.url.path]
        let harness = try ComposeHarness("unsigned-summary")
        let treefile = try harness.treefile(Fixtures.defaultRequest)
        try harness.composeOK(treefile, signing)
        let killed = try harness.compose(treefile, ["--force-nocache"] + signing, environment: ["TREEFORGE_FAULT_KILL_AT": "publish:2"])
        #expect(killed.status == SIGKILL, "\(killed.stderr)")
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        #expect(try harness.summaryCommit() == head)
        let client = harness.dir.path("client")
        try Oracle.ostree(client, ["init", "--mode=bare-user"])
        try Oracle.ostree(client, ["remote", "add", "--set=gpg-verify=true", "--set=gpg-verify-summary=true",
                                   "--gpg-import=\(key.publicKey.path)", "origin", "file://\(harness.repo.path)"])
        let refused = try Command.run(["ostree", "--repo=\(client.path)", "remote", "refs", "origin"])
        #expect(refused.status != 0 && refused.stderr.contains("summary"), "\(refused.stdout)\(refused.stderr)")

        let next = try harness.compose(treefile, ["--progress=json"] + signing)
        #expect(next.status == 3, "\(next.stderr)")
        let events = try ComposeEvents(stdout: next.stdout)
        let warnings = events.warnings
        #expect(warnings.contains { $0.hasPrefix("reconciled: build #2:") && $0.hasSuffix("its publish unfinished; recorded as publishing") }, "\(warnings)")
        #expect(events.publishResumed.map(\.missing) == [["the summary's signature"]])
        let row = try harness.buildRow(2)
        #expect(row.status == "succeeded" && !row.publishedAt.isEmpty, "\(row)")
        try Oracle.ostree(client, ["pull", "origin", harness.ref])
        #expect(try Oracle.ostreeRev(client, harness.ref) == head)
    }
}
