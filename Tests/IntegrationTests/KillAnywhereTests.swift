import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// SIGKILL inside the install, commit and publish stages — at the N-th
/// package, the N-th tree entry, between deltas and summary or after the
/// summary (fault hooks), and at random moments (timing) — with the repository
/// and build database carried from one kill to the next. After each kill
/// the repository passes `ostree fsck` and the record tells the truth;
/// the next compose of the same inputs finishes what the killed one left
/// and publishes the head. CrashRecoveryTests kills as each stage starts.
///
/// The plan is drawn from a seeded generator: the seed is printed, and
/// `TREEFORGE_KILL_SEED=SEED` replays it.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct KillAnywhereTests {
    @Test func killedInsideInstallCommitAndPublish() throws {
        let seed = ProcessInfo.processInfo.environment["TREEFORGE_KILL_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("KillAnywhereTests: seed \(seed) (replay with TREEFORGE_KILL_SEED=\(seed))")
        var random = SplitMix64(seed: seed)
        var chain = try KillChain(seed: seed)
        let plan = KillPoint.plan(packages: Fixtures.defaultSet.count, treeEntries: chain.commitWalkLength, using: &random)
        print("KillAnywhereTests: \(plan.count) kills (the commit walks \(chain.commitWalkLength) entries): \(plan.map(\.description).joined(separator: ", "))")
        for (index, point) in plan.enumerated() {
            let report = try chain.killAndRecover(run: index + 1, at: point)
            print("KillAnywhereTests: run \(index + 1)/\(plan.count): \(report)")
        }
        // The next run's kill is checked by fsck first; the last run's next compose here.
        try Oracle.ostree(chain.harness.repo, ["fsck"])
        // Timing kills may come after a fast publish ended; the fault hooks always kill.
        #expect(chain.kills >= 20, "seed \(seed): only \(chain.kills) of \(plan.count) runs were killed")
    }
}

/// Where a run's compose is killed.
enum KillPoint: CustomStringConvertible {
    /// `TREEFORGE_FAULT_KILL_AT`: the compose kills itself there.
    case fault(String)
    /// The test sends SIGKILL after the stage started, `fraction` of that
    /// stage's last measured duration later.
    case timed(stage: Stage, fraction: Double)

    var description: String {
        switch self {
        case .fault(let point): point
        case .timed(let stage, let fraction): "\(stage)+\(Int(fraction * 100))%"
        }
    }

    /// Whether the commit has moved the ref when the kill comes: known for
    /// the fault hooks, nil for timing kills.
    var afterTheRefMoved: Bool? {
        guard case .fault(let point) = self else { return nil }
        return point.hasPrefix("publish")
    }

    /// 24 kills, shuffled: install at the first, the last and three other
    /// packages; commit at a few entries, in each quarter of the tree and at
    /// its last entry; publish after the deltas and after the summary (twice
    /// each, at different depths of history); three timing kills per stage.
    static func plan(packages: Int, treeEntries: Int, using random: inout SplitMix64) -> [KillPoint] {
        var installs = [1, packages]
        while installs.count < 5 {
            let n = Int.random(in: 2..<packages, using: &random)
            if !installs.contains(n) { installs.append(n) }
        }
        let quarters: [ClosedRange<Double>] = [0.05...0.25, 0.25...0.5, 0.5...0.75, 0.75...0.99]
        let commits = [Int.random(in: 1...5, using: &random)]
            + quarters.map { Int(Double(treeEntries) * Double.random(in: $0, using: &random)) } + [treeEntries]
        let timed = [Stage.install, .commit, .publish].flatMap { stage in
            (0..<3).map { _ in KillPoint.timed(stage: stage, fraction: Double.random(in: 0..<0.75, using: &random)) }
        }
        let points = installs.map { fault("install:\($0)") } + commits.map { fault("commit:\($0)") }
            + ["publish:1", "publish:2", "publish:1", "publish:2"].map(fault) + timed
        return points.shuffled(using: &random)
    }
}

/// One repository through a chain of kills: each run composes a treefile
/// new to it (its inputs differ from the head's), kills that compose, checks
/// what it left, then composes the same treefile again and checks that
/// this finished the work and published the head.
struct KillChain {
    let harness: ComposeHarness
    let seed: UInt64
    /// The fixture RPM repository.
    let fixtures: URL
    /// How many steps the commit's writer counts for the fixture tree (one
    /// per name and folder, the root included): the last `commit:N` that kills.
    private(set) var commitWalkLength = 0
    /// Each stage's duration in the last compose that ran it, for timing kills.
    private var stageSeconds: [Stage: Double] = [:]
    private(set) var kills = 0

    init(seed: UInt64) throws {
        self.seed = seed
        harness = try ComposeHarness("kill-anywhere")
        // Asked for once: each ask runs the fixture build script's cache check.
        fixtures = try Fixtures.repository()
        let first = try harness.compose(try treefile(run: 0), ["--progress=json"])
        guard first.status == 0 else { throw FixtureError("the first compose failed (\(first.status)): \(first.stderr)") }
        stageSeconds = try ComposeEvents(stdout: first.stdout).stageSeconds
        let entries = try Oracle.ostree(harness.repo, ["ls", "-R", harness.ref]).split(separator: "\n")
        // The parallel writer reports each name as it reads it, then each
        // folder (the root too) as it writes the folder's objects.
        commitWalkLength = entries.count
    }

    /// The default request, with commit metadata that makes run `run`'s
    /// inputs its own.
    func treefile(run: Int) throws -> URL {
        try harness.treefile(Fixtures.defaultRequest, repository: fixtures,
                             extra: "add-commit-metadata:\n  treeforge-test.kill-run: \"\(run)\"\n", in: "run-\(run)")
    }

    /// Kills run `run`'s compose at `point`, checks the state it left, composes
    /// again and checks the recovery. Returns a line saying what happened.
    mutating func killAndRecover(run: Int, at point: KillPoint) throws -> String {
        let context = "seed \(seed), run \(run), kill at \(point)"
        let treefile = try treefile(run: run)
        let before = try #require(try Oracle.ostreeRev(harness.repo, harness.ref), "\(context)")
        let kill = try kill(treefile, at: point, run: run)
        if kill.killed { kills += 1 }
        if case .fault = point { #expect(kill.killed, "\(context): the compose was not killed there: \(kill.stderr)") }
        let left = try checkWhatTheKillLeft(kill, at: point, before: before, context: context)
        let next = try harness.compose(treefile, ["--progress=json"])
        try checkTheNextCompose(next, after: left, killedAt: point, before: before, context: context)
        if !left.refMoved { stageSeconds.merge(try ComposeEvents(stdout: next.stdout).stageSeconds) { $1 } }

        let delay = kill.delay.map { " after \(Int($0 * 1000)) ms" } ?? ""
        let outcome = kill.killed ? "killed\(delay) \(kill.events.whereItStopped)" : "finished before the signal\(delay)"
        let published = left.refMoved ? " (\(left.deltas) deltas, summary \(left.listed ? "written" : "not written"))" : ""
        return "\(point): \(outcome), ref \(left.refMoved ? "moved" : "unchanged")\(published); "
            + "build #\(left.build) \(try harness.buildRow(left.build).status); next compose exit \(next.status)"
    }

    /// What a killed compose left, as the stock tools see it before anything reconciles it.
    struct Left {
        var build: Int
        var head: String
        var refMoved: Bool
        /// Whether the summary lists the head.
        var listed: Bool
        /// How many static deltas to the head are complete.
        var deltas: Int
        var status: String
    }

    /// The repository passes fsck; the killed build's row says `running`
    /// (nothing committed) or `publishing` (the ref moved); no build says
    /// `succeeded` of an unpublished head.
    private func checkWhatTheKillLeft(_ kill: Kill, at point: KillPoint, before: String, context: String) throws -> Left {
        let build = try #require(kill.events.build, "\(context): no build started")
        #expect(throws: Never.self, "\(context): ostree fsck after the kill") { try Oracle.ostree(harness.repo, ["fsck"]) }
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref), "\(context)")
        let refMoved = head != before
        if let expected = point.afterTheRefMoved { #expect(refMoved == expected, "\(context)") }
        if refMoved { #expect(try harness.parent(of: head) == before, "\(context)") }
        let row = try harness.buildRow(build)
        switch (refMoved, point.afterTheRefMoved) {
        case (false, _):
            #expect(row.status == "running" && row.commit.isEmpty, "\(context): \(row)")
        case (true, true?):
            #expect(row.status == "publishing" && row.commit == head, "\(context): \(row)")
        case (true, _):
            // A timing kill may land between the ref's move and its record
            // (still `running`), or after the record (`succeeded`, published).
            #expect(["running", "publishing", "succeeded"].contains(row.status), "\(context): \(row)")
        }
        #expect(try harness.succeededButUnpublishedRows() == [], "\(context): right after the kill")
        return Left(build: build, head: head, refMoved: refMoved, listed: try harness.summaryCommit() == head,
                    deltas: try harness.staticDeltas().filter { $0.hasSuffix("-\(head)") }.count, status: row.status)
    }

    /// The next compose of the same inputs: it reconciled the killed build
    /// from the repository, then either only published the moved head (exit
    /// 3) or composed a new one (exit 0); either way the ref's head is
    /// published now, and no build is left `running` or `publishing`.
    private func checkTheNextCompose(_ next: Command.Result, after left: Left, killedAt point: KillPoint, before: String,
                                     context: String) throws {
        let events = try ComposeEvents(stdout: next.stdout)
        #expect(next.status == (left.refMoved ? 3 : 0), "\(context): the next compose: \(next.stderr)")
        let verdicts = events.warnings.filter { $0.hasPrefix("reconciled: build #\(left.build):") || $0.hasPrefix("reconciled: build #\(left.build) ") }
        let verdict = !left.refMoved ? "was interrupted"
            : left.status == "succeeded" ? nil
            : "its publish unfinished; recorded as publishing"
        #expect(verdicts.count == (verdict == nil ? 0 : 1) && verdicts.allSatisfy { $0.hasSuffix(verdict ?? "") }, "\(context): \(verdicts)")
        let rows = try harness.buildRows()
        #expect(!rows.contains { $0.status == "running" || $0.status == "publishing" }, "\(context): \(rows)")
        let killed = try harness.buildRow(left.build)
        let head = try #require(try Oracle.ostreeRev(harness.repo, harness.ref), "\(context)")
        if left.refMoved {
            #expect(killed.status == "succeeded" && killed.commit == left.head && !killed.publishedAt.isEmpty, "\(context): \(killed)")
            #expect(head == left.head, "\(context): the next compose committed again")
            // The reconciler leaves every unfinished publish to the compose of the ref, which holds its lock.
            #expect(events.publishResumed.map(\.commit) == (left.status == "succeeded" ? [] : [left.head]), "\(context): \(events.events)")
        } else {
            #expect(killed.status == "interrupted" && killed.commit.isEmpty, "\(context): \(killed)")
            #expect(try harness.parent(of: head) == before, "\(context)")
        }
        // Published: listed by the summary, with its deltas from the previous two commits.
        #expect(try harness.summaryCommit() == head, "\(context)")
        let deltas = try harness.staticDeltas()
        let parent = try #require(try harness.parent(of: head), "\(context)")
        #expect(deltas.contains("\(parent)-\(head)"), "\(context): \(deltas)")
        if let grandparent = try harness.parent(of: parent) {
            #expect(deltas.contains("\(grandparent)-\(head)"), "\(context): \(deltas)")
        }
        if left.refMoved && !left.listed, case .timed = point {
            // Killed at a random moment before the summary: it may have
            // written some of the deltas, or half of one. They must apply.
            #expect(throws: Never.self, "\(context): the delta from the parent") { try harness.applyDelta(from: parent, to: head) }
        }
        #expect(try harness.succeededButUnpublishedRows() == [], "\(context): after the next compose")
    }

    /// What killing a compose gave.
    struct Kill {
        /// Whether SIGKILL ended it (a timing kill may come after it exited).
        var killed: Bool
        /// The events it wrote until then.
        var events: ComposeEvents
        var stderr: String
        /// A timing kill's delay after its stage started, in seconds.
        var delay: Double?
    }

    /// Runs the compose and kills it at `point`.
    private func kill(_ treefile: URL, at point: KillPoint, run: Int) throws -> Kill {
        switch point {
        case .fault(let hook):
            let result = try harness.compose(treefile, ["--progress=json"], environment: ["TREEFORGE_FAULT_KILL_AT": hook])
            return Kill(killed: result.status == SIGKILL, events: try ComposeEvents(stdout: result.stdout), stderr: result.stderr)
        case .timed(let stage, let fraction):
            let compose = try harness.start(treefile, ["--progress=json"])
            // Looked for every 2 ms (RunningCompose.waitForEvent looks every
            // 50): the kill point counts from the stage's start.
            let deadline = Date().addingTimeInterval(120)
            while !(try compose.events().contains(.stageStarted(stage))) {
                guard compose.isRunning, Date() < deadline else {
                    throw FixtureError("seed \(seed), run \(run): \(stage) never started: \(compose.stderr)")
                }
                usleep(2_000)
            }
            let delay = fraction * (stageSeconds[stage] ?? 0.1)
            // The pause is the random kill point itself, not a wait for anything.
            usleep(UInt32(delay * 1_000_000))
            compose.send(SIGKILL)
            let finished = try compose.finish()
            return Kill(killed: finished.status == SIGKILL, events: try ComposeEvents(stdout: finished.stdout),
                        stderr: finished.stderr, delay: delay)
        }
    }
}

/// SplitMix64: a small seeded generator, so that a run's plan can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
