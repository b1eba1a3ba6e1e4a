import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// One compose per ref: composes of one ref wait for each other and each
/// builds on the commit before it; `--no-wait` fails naming the holder;
/// composes of different refs run side by side.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct RefLockTests {
    /// The defect this guards against: three composes started together all
    /// said `succeeded` with one version, each commit's parent the old head,
    /// two of the three commits orphaned.
    @Test func threeComposesOfOneRefCommitOneAfterAnother() throws {
        let harness = try ComposeHarness("ref-race")
        let treefile = try harness.treefile(["fixture-oldtool"])
        // A fixed epoch fixes the versions' date (no midnight roll-over mid-test).
        let environment = ["SOURCE_DATE_EPOCH": "1700000000"]
        let result = try harness.compose(treefile, environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let first = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))

        // The test holds the ref until all three wait for it, so all three
        // have resolved and read the old head before any may commit; then
        // they race for it among themselves.
        let lock = RepositoryLock.ref(harness.ref, in: harness.repo)
        try lock.acquire(as: .init(build: nil), wait: false, stage: .lock)
        let composes = try (0..<3).map { _ in try harness.start(treefile, ["--force-nocache"], environment: environment) }
        let waitingLine = "waiting: \(harness.ref) is being worked on by pid \(getpid()), since "
        for compose in composes {
            try compose.waitUntil("the waiting line") { compose.stderr.contains(waitingLine) }
        }
        lock.release()
        let finished = try composes.map { try $0.finish() }
        for run in finished {
            #expect(run.status == 0, "\(run.stderr)")
        }

        // One chain: each commit's parent is the one before, every commit
        // object is on it, and the versions count up one by one.
        let history = try harness.history()
        #expect(history.map(\.version) == ["20231114.3", "20231114.2", "20231114.1", "20231114.0"], "\(history)")
        #expect(history.last?.commit == first)
        #expect(harness.commitObjects() == Set(history.map(\.commit)), "a commit outside the ref's history")
        for (newer, older) in zip(history, history.dropFirst()) {
            #expect(try Oracle.ostree(harness.repo, ["rev-parse", "\(newer.commit)^"]).trimmingCharacters(in: .newlines) == older.commit)
        }
        // Each compose reports the commit it made, a different one each.
        let reported = finished.compactMap { run in
            run.stdout.split(separator: "\n").first { $0.hasPrefix("  commit:   ") }.map { String($0.dropFirst("  commit:   ".count)) }
        }
        #expect(Set(reported) == Set(history.dropLast().map(\.commit)), "\(reported)")
        // The build rows say the same: four, succeeded, each with its own commit, its parent and its version.
        #expect(try harness.buildRows().map(\.status) == ["succeeded", "succeeded", "succeeded", "succeeded"])
        let position = Dictionary(uniqueKeysWithValues: history.enumerated().map { ($1.commit, $0) })
        var recorded: Set<String> = []
        for id in 1...4 {
            let row = try harness.buildColumns(id, ["commit", "parent", "version"])
            recorded.insert(row[0])
            let index = try #require(position[row[0]], "build #\(id)'s commit \(row[0]) is not on the ref")
            #expect(row[2] == history[index].version)
            #expect(row[1] == (index + 1 < history.count ? history[index + 1].commit : ""), "build #\(id)'s parent")
        }
        #expect(recorded.count == 4, "two builds recorded one commit")
        try Oracle.ostree(harness.repo, ["fsck"])
    }

    /// A compose holding the ref (paused once the lock is taken): `--no-wait`
    /// fails at once naming it, another ref composes meanwhile, and a
    /// compose that waits goes on once the holder is gone.
    @Test func aHeldRefMakesOthersWaitOrFailButNotOtherRefs() throws {
        let harness = try ComposeHarness("ref-held")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let first = try harness.composeOK(treefile)

        let holder = try harness.start(treefile, ["--force-nocache", "--progress", "json"],
                                       environment: ["TREEFORGE_FAULT_PAUSE_AT": "download"])
        defer { holder.send(SIGKILL) }
        try holder.waitForEvent("the lock taken") {
            if case .stageFinished(.lock, _, _) = $0 { return true } else { return false }
        }
        let holderBuild = try #require(try holder.events().compactMap { event -> Int64? in
            if case .buildStarted(let build, _, _, _) = event { return build } else { return nil }
        }.first)
        let holderName = "build #\(holderBuild) (pid \(holder.pid))"

        // --no-wait: fails at once, naming the holder and what to do; nothing changes.
        let commitsBefore = harness.commitObjects()
        let refused = try harness.compose(treefile, ["--force-nocache", "--no-wait"])
        #expect(refused.status == 1)
        let errorLine = refused.stderr.split(separator: "\n").first { $0.hasPrefix("error: ") }.map(String.init) ?? ""
        #expect(errorLine.hasPrefix("error: lock: ref \(harness.ref): is being worked on by \(holderName), since "), "\(refused.stderr)")
        #expect(errorLine.hasSuffix("(--no-wait given); wait for it to finish or run again without --no-wait"), "\(errorLine)")
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == first)
        #expect(harness.commitObjects() == commitsBefore)
        let refusedRow = try harness.buildColumns(Int(holderBuild) + 1, ["status", "failedStage", "error"])
        #expect(refusedRow[0] == "failed" && refusedRow[1] == "lock", "\(refusedRow)")
        #expect(refusedRow[2].contains("is being worked on by \(holderName)"))

        // Another ref of the same repository composes while the holder waits.
        let otherRef = "fixture/x86_64/other"
        let other = try FixtureTreefile.write(packages: ["fixture-oldtool"], ref: otherRef, repository: try Fixtures.repository(),
                                              in: harness.dir.path("other"))
        let otherRun = try harness.compose(other)
        #expect(otherRun.status == 0, "\(otherRun.stderr)")
        #expect(try Oracle.ostreeRev(harness.repo, otherRef) != nil)
        #expect(holder.isRunning, "the holder must still hold its ref")

        // A compose that may wait says for whom, and commits once the holder is cancelled.
        let waiter = try harness.start(treefile, ["--force-nocache"])
        try waiter.waitUntil("the waiting line") {
            waiter.stderr.contains("waiting: \(harness.ref) is being worked on by \(holderName), since ")
        }
        holder.send(SIGTERM)
        #expect(try holder.finish().status == 128 + SIGTERM)
        #expect(try harness.buildColumns(Int(holderBuild), ["status"]) == ["cancelled"])
        let waited = try waiter.finish()
        #expect(waited.status == 0, "\(waited.stderr)")
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        #expect(try Oracle.ostree(harness.repo, ["rev-parse", "\(head)^"]).trimmingCharacters(in: .newlines) == first)
    }
}
