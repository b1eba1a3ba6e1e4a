import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// SIGTERM and SIGINT cancel a compose in whatever stage it is: the exit
/// status is 128 + the signal, the build is recorded `cancelled` (or stays
/// `publishing` once its commit is on the ref), nothing else is committed,
/// and nothing it started keeps running.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct CancelledComposeTests {
    @Test func sigtermDuringAHangingScriptletStopsEveryProcessAndRemovesTheWorkdir() throws {
        let harness = try ComposeHarness("cancel-hang")
        let first = try harness.composeOK(try harness.treefile(["fixture-oldtool"]))
        let commits = harness.commitObjects()
        let compose = try harness.start(try harness.treefile(["fixture-hang"], in: "hang"), ["--progress", "json"],
                                        treeforgeMakesWorkdir: true)
        try compose.waitForEvent("the hanging %post") { $0 == .scriptletStarted(package: "fixture-hang-1.0-1.noarch", scriptlet: "%post") }
        // What runs for the compose now: the rpm child (under bwrap, when it
        // runs here) and the scriptlet, found by the workdir treeforge made.
        var started: [Int32] = []
        try compose.waitUntil("the scriptlet's process") {
            started = ProcessTree.descendants(of: compose.pid)
            return started.contains { ProcessTree.commandLine($0).contains("/var/tmp/rpm-tmp.") }
        }
        let workdir = try #require(started.lazy.compactMap { Self.treeforgeWorkdir(in: ProcessTree.commandLine($0)) }.first)
        defer {
            // Never leave a busy loop behind, whatever the outcome.
            for line in LeftoverProcesses.touching(workdir) {
                if let pid = Int32(line.prefix { $0 != ":" }) { kill(pid, SIGKILL) }
            }
        }

        compose.send(SIGTERM)
        let run = try compose.finish(timeout: 30)
        #expect(run.status == 128 + SIGTERM, "\(run.stderr)")
        #expect(run.stderr.contains("cancelled: SIGTERM during install; nothing was committed"), "\(run.stderr)")
        try expectNothingCommitted(harness, head: first, commits: commits, build: 2, stage: "install")
        try expectOutcomeLast(run, status: .cancelled, exitStatus: 128 + SIGTERM)
        // Nothing it started outlives it (a moment's grace for the kernel to reap the last of them).
        let deadline = Date().addingTimeInterval(3)
        while started.contains(where: ProcessTree.isAlive), Date() < deadline { usleep(50_000) }
        #expect(!started.contains(where: ProcessTree.isAlive), "still running: \(started.filter(ProcessTree.isAlive).map(ProcessTree.commandLine))")
        #expect(LeftoverProcesses.touching(workdir).isEmpty, "\(LeftoverProcesses.touching(workdir))")
        #expect(!FileManager.default.fileExists(atPath: workdir.path), "the workdir treeforge made is removed")
        // What the hung scriptlet printed is what the release engineer needs after a cancel: the
        // install log keeps it, with the note of the cancel after it.
        let log = try Command.check([Fixtures.treeforgeExecutable.path, "builds", "log", "2", "--stage", "install", "--repo", harness.repo.path])
        #expect(log.contains("%post hanging on purpose") && log.contains("cancelled (SIGTERM) during install"), "\(log)")
    }

    @Test func sigtermDuringTheCommitWritesNoCommit() throws {
        let harness = try ComposeHarness("cancel-commit")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let first = try harness.composeOK(treefile)
        let commits = harness.commitObjects()
        let workdir = harness.dir.path("work")
        let compose = try harness.start(treefile, ["--force-nocache", "--progress", "json", "--workdir", workdir.path],
                                        environment: ["TREEFORGE_FAULT_PAUSE_AT": "commit:3"])
        try compose.waitForEvent("the commit stage") { $0 == .stageStarted(.commit) }
        // libostree's transaction is open once its staging folder exists; it then pauses at its third file.
        try compose.waitUntil("libostree's transaction") {
            let tmp = (try? FileManager.default.contentsOfDirectory(atPath: harness.repo.appendingPathComponent("tmp").path)) ?? []
            return tmp.contains { $0.hasPrefix("staging-") }
        }
        compose.send(SIGTERM)
        let run = try compose.finish(timeout: 30)
        #expect(run.status == 128 + SIGTERM, "\(run.stderr)")
        #expect(run.stderr.contains("cancelled: SIGTERM during commit; nothing was committed"), "\(run.stderr)")
        try expectNothingCommitted(harness, head: first, commits: commits, build: 2, stage: "commit")
        try expectOutcomeLast(run, status: .cancelled, exitStatus: 128 + SIGTERM)
        // A given workdir stays, emptied of what the compose put in it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: workdir.path) == [])
    }

    @Test func sigintDuringTheInstallExits130() throws {
        let harness = try ComposeHarness("cancel-int")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let first = try harness.composeOK(treefile)
        let commits = harness.commitObjects()
        let workdir = harness.dir.path("work")
        let compose = try harness.start(treefile, ["--force-nocache", "--workdir", workdir.path],
                                        environment: ["TREEFORGE_FAULT_PAUSE_AT": "install:1"])
        try compose.waitUntil("the first package") { compose.stderr.contains("install [1/1] ") }
        compose.send(SIGINT)
        let run = try compose.finish(timeout: 30)
        #expect(run.status == 128 + SIGINT, "\(run.stderr)")
        #expect(run.stderr.contains("cancelled: SIGINT during install; nothing was committed"), "\(run.stderr)")
        try expectNothingCommitted(harness, head: first, commits: commits, build: 2, stage: "install")
        #expect(try FileManager.default.contentsOfDirectory(atPath: workdir.path) == [], "a given workdir is kept, emptied")
    }

    /// Cancelled after its ref moved, a compose leaves its commit to publish:
    /// the build stays `publishing` and the next compose of the ref finishes it.
    @Test func sigtermDuringThePublishLeavesItToTheNextCompose() throws {
        let harness = try ComposeHarness("cancel-publish")
        let treefile = try harness.treefile(["fixture-oldtool"])
        let first = try harness.composeOK(treefile)
        let compose = try harness.start(treefile, ["--force-nocache", "--progress", "json"],
                                        environment: ["TREEFORGE_FAULT_PAUSE_AT": "publish:1"])
        try compose.waitForEvent("the publish stage") { $0 == .stageStarted(.publish) }
        // Paused after the delta from the first commit, before the summary.
        try compose.waitUntil("the static delta") {
            let deltas = harness.repo.appendingPathComponent("deltas").path
            return (FileManager.default.enumerator(atPath: deltas)?.allObjects as? [String] ?? []).contains { $0.hasSuffix("/superblock") }
        }
        compose.send(SIGTERM)
        let run = try compose.finish(timeout: 30)
        #expect(run.status == 128 + SIGTERM, "\(run.stderr)")
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        #expect(head != first, "the ref moved before the publish")
        #expect(run.stderr.contains("cancelled: SIGTERM during publish; its commit \(head) is on the ref, left to publish"), "\(run.stderr)")
        try expectOutcomeLast(run, status: .cancelled, exitStatus: 128 + SIGTERM, commit: head)
        #expect(try harness.buildColumns(2, ["status", "commit"]) == ["publishing", head])
        #expect(!(try Oracle.ostree(harness.repo, ["summary", "--view"]).contains(head)), "the summary must not list it yet")

        // The next compose of the ref publishes it first; its inputs are then the head's.
        let next = try harness.compose(treefile)
        #expect(next.status == 3, "\(next.stderr)")
        #expect(next.stderr.contains("publish: \(harness.ref) head \(head) (build #2) is not published"), "\(next.stderr)")
        #expect(try Oracle.ostree(harness.repo, ["summary", "--view"]).contains(head))
        #expect(try harness.buildColumns(2, ["status"]) == ["succeeded"])
        try Oracle.ostree(harness.repo, ["fsck"])
    }

    /// The ref and the commit objects are as before, the repository is
    /// sound, and the build is recorded cancelled in `stage`.
    private func expectNothingCommitted(_ harness: ComposeHarness, head: String, commits: Set<String>, build: Int, stage: String,
                                        sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == head, sourceLocation: sourceLocation)
        #expect(harness.commitObjects() == commits, sourceLocation: sourceLocation)
        try Oracle.ostree(harness.repo, ["fsck"])
        let row = try harness.buildColumns(build, ["status", "failedStage", "pid"])
        #expect(row == ["cancelled", stage, ""], sourceLocation: sourceLocation)
    }

    /// `--progress json` ends with the outcome, whatever else came before.
    private func expectOutcomeLast(_ run: RunningCompose.Finished, status: ComposeResult.Status, exitStatus: Int32, commit: String? = nil,
                                   sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let last = try #require(run.stdout.split(separator: "\n").last, sourceLocation: sourceLocation)
        let line = try ComposeEventLine.decoder().decode(ComposeEventLine.self, from: Data(last.utf8))
        guard case .outcome(let result) = line.event else {
            Issue.record("the last event is not the outcome: \(last)", sourceLocation: sourceLocation)
            return
        }
        #expect(result.status == status && result.exitStatus == exitStatus && result.commit == commit, "\(result)",
                sourceLocation: sourceLocation)
    }

    /// The workdir treeforge made (`/dev/shm/treeforge-compose-XXXXXX` or
    /// `/var/tmp/…`), as a command line names it.
    private static func treeforgeWorkdir(in commandLine: String) -> URL? {
        guard let range = commandLine.range(of: #"/(var/tmp|dev/shm)/treeforge-compose-[A-Za-z0-9]+"#, options: .regularExpression) else { return nil }
        return URL(fileURLWithPath: String(commandLine[range]))
    }
}
