import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// Where publishing meets other refs, other policies and the edges of a
/// compose: what a second reading of the job engine found, kept as tests.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct PublishEdgeTests {
    /// A compose of another ref reconciles a dead, unpublished build of this
    /// ref; under its own policy (no deltas) the head looked published. It
    /// must not be recorded `succeeded`: the next compose of this ref still
    /// publishes it, with the delta from its parent.
    @Test func anotherRefsComposeDoesNotSettleThisRefsPublish() throws {
        let harness = try ComposeHarness("cross-ref")
        let treefile = try harness.treefile(["fixture-oldtool"])
        try harness.composeOK(treefile)
        let killed = try harness.compose(treefile, ["--force-nocache"], environment: ["TREEFORGE_FAULT_KILL_AT": "publish"])
        #expect(killed.status == SIGKILL)
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        let parent = try #require(try harness.parent(of: head))

        let other = try FixtureTreefile.write(packages: ["fixture-sh"], ref: "fixture/x86_64/other", repository: try Fixtures.repository(),
                                              in: harness.dir.path("other"))
        for _ in 0..<2 {
            let result = try harness.compose(other, ["--static-delta-depth", "0", "--force-nocache"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try harness.summaryCommit() == head, "the other ref's summary lists this head too")
        #expect(try harness.buildRow(2).status == "publishing", "not succeeded: its delta is not written")
        #expect(try harness.succeededButUnpublishedRows() == [])

        let next = try harness.compose(treefile, ["--progress", "json"])
        #expect(next.status == 3, "\(next.stderr)")
        let events = try EventStream(next.stdout).events
        #expect(events.contains { if case .publishResumed(harness.ref, head, 2, _) = $0 { true } else { false } }, "\(events)")
        #expect(try harness.staticDeltas().contains("\(parent)-\(head)"))
        #expect(try harness.buildRow(2).status == "succeeded")
    }

    /// A negative delta depth is refused before anything runs (it trapped
    /// after the ref moved, and then in every later compose).
    @Test func aNegativeDeltaDepthIsRefused() throws {
        let harness = try ComposeHarness("negative-depth")
        let result = try harness.compose(try harness.treefile(["fixture-oldtool"]), ["--static-delta-depth=-1"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--static-delta-depth must be 0 (no deltas) or more"), "\(result.stderr)")
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == nil)
    }

    /// `--write-commitid-to` writes a commit and leaves the ref: nothing to
    /// publish, so no summary lists it and the build does not claim it was published.
    @Test func aCommitThatDoesNotMoveTheRefIsNotPublished() throws {
        let harness = try ComposeHarness("commitid")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let first = try harness.composeOK(treefile)
        let idFile = harness.dir.path("commit-id")
        let result = try harness.compose(treefile, ["--force-nocache", "--write-commitid-to", idFile.path, "--progress", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let written = try String(contentsOf: idFile, encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == first)
        #expect(try harness.summaryCommit() == first)
        #expect(!(try harness.staticDeltas()).contains { $0.hasSuffix("-\(written)") })
        let row = try harness.buildRow(2)
        #expect(row.status == "succeeded" && row.commit == written && row.publishedAt.isEmpty, "\(row)")
        let outcome = try #require(try EventStream(result.stdout).events.last)
        guard case .outcome(let ended) = outcome else { Issue.record("no outcome last"); return }
        #expect(ended.status == .committed && ended.commit == written && ended.parent == first)
    }

    /// A signal that comes once the summary is written finds nothing left
    /// to cancel: the compose records its published commit and succeeds.
    @Test func aSignalAfterTheSummaryIsTooLateToCancel() throws {
        let harness = try ComposeHarness("late-signal")
        let treefile = try harness.treefile(["fixture-oldtool"])
        try harness.composeOK(treefile)
        let compose = try harness.start(treefile, ["--force-nocache", "--progress", "json"],
                                        environment: ["TREEFORGE_FAULT_PAUSE_AT": "publish:2"])
        try compose.waitForEvent("the publish stage") { $0 == .stageStarted(.publish) }
        try compose.waitUntil("the summary") { try harness.summaryCommit() == (try Oracle.ostreeRev(harness.repo, harness.ref)) }
        compose.send(SIGTERM)
        let run = try compose.finish(timeout: 30)
        #expect(run.status == 0, "\(run.stderr)")
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        #expect(try harness.buildRow(2).status == "succeeded" && harness.buildRow(2).commit == head)
    }

    /// With `--progress=json` every way a command ends is told on stdout,
    /// also a failure before the engine ran, and `treeforge publish`'s.
    @Test func everyEndOfTheStreamHasAnOutcome() throws {
        let harness = try ComposeHarness("stream-ends")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let badOption = try harness.compose(treefile, ["--progress", "json", "--add-metadata-from-json", harness.dir.path("missing.json").path])
        #expect(badOption.status == 1, "\(badOption.stderr)")
        let told = try EventStream(badOption.stdout).events
        #expect(told.count == 2, "\(told)")
        if case .error = told.first {} else { Issue.record("an error first: \(told)") }
        #expect(told.last == .outcome(ComposeResult(status: .failed, exitStatus: 1)))

        try harness.composeOK(treefile)
        let publish = try Command.run([Fixtures.treeforgeExecutable.path, "publish", "--repo", harness.repo.path, "--progress", "json"])
        #expect(publish.status == 0, "\(publish.stderr)")
        #expect(try EventStream(publish.stdout).events.last == .outcome(ComposeResult(status: .published, exitStatus: 0)))

        let adopted = try harness.compose(treefile, ["--build-id", "1", "--dry-run"])
        #expect(adopted.status == 64 && adopted.stderr.contains("--build-id runs a queued build as a compose"), "\(adopted.stderr)")
    }
}
