import Foundation
import Testing
import TestSupport
import TreeforgeCore
@testable import TreeforgeServer

@Suite struct CronExpressionTests {
    let utc = TimeZone(identifier: "UTC")!

    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func nextRuns() throws {
        let now = date("2026-12-02T10:07:30Z")
        let cases: [(String, String)] = [
            ("*/15 * * * *", "2026-12-02T10:15:00Z"),
            ("0 2 * * *", "2026-12-03T02:00:00Z"),
            ("30 1 * * 1-5", "2026-12-03T01:30:00Z"),  // Wednesday → Thursday
            ("0 0 * * sat", "2026-12-05T00:00:00Z"),
            ("0 0 1 jan *", "2027-01-01T00:00:00Z"),
            ("@daily", "2026-12-03T00:00:00Z"),
            ("@hourly", "2026-12-02T11:00:00Z"),
            ("8 10 * * *", "2026-12-02T10:08:00Z"),
            // Both day fields restricted: either matches (the 15th, or a Sunday).
            ("0 12 15 * 0", "2026-12-06T12:00:00Z"),
            ("0 0 29 2 *", "2028-02-29T00:00:00Z"),
        ]
        for (expression, expected) in cases {
            let next = try CronExpression(expression).nextRun(after: now, in: utc)
            #expect(next == date(expected), "\(expression): \(next.map { "\($0)" } ?? "none")")
        }
        #expect(try CronExpression("0 0 30 2 *").nextRun(after: now, in: utc) == nil)
    }

    @Test func aNamedTimeZone() throws {
        // 02:30 in Berlin is 01:30 UTC in winter.
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        #expect(try CronExpression("30 2 * * *").nextRun(after: date("2026-12-02T10:00:00Z"), in: berlin) == date("2026-12-03T01:30:00Z"))
    }

    @Test func badExpressionsSayWhy() {
        let cases = [("* * * *", "five fields"), ("60 * * * *", "minute"), ("* 24 * * *", "hour"), ("* * 0 * *", "day of month"),
                     ("* * * 13 *", "month"), ("* * * * 8", "day of week"), ("*/0 * * * *", "step"), ("5-1 * * * *", "backwards"),
                     ("a * * * *", "minute"), ("1,,2 * * * *", "empty")]
        for (expression, reason) in cases {
            #expect {
                _ = try CronExpression(expression)
            } throws: { error in
                "\(error)".contains(reason)
            }
        }
    }
}

/// The scheduler against the real store, with a clock of the test's choosing.
@Suite struct SchedulerTests {
    struct Setup {
        let dir: TemporaryDirectory
        let store: SQLiteServerStore
        let queue: ComposeQueue
    }

    func setup() throws -> Setup {
        let dir = try TemporaryDirectory("scheduler")
        let treefiles = dir.path("treefiles")
        try FixtureTreefile.write(packages: ["fixture-oldtool"], ref: "fixture/x86_64/test", repository: dir.path("rpms"),
                                  in: treefiles.appendingPathComponent("fixture"))
        let store = SQLiteServerStore(builds: try BuildStore(repoPath: dir.path("repo")))
        return Setup(dir: dir, store: store, queue: ComposeQueue(catalog: TreefileCatalog(folder: treefiles), store: store))
    }

    func schedule(_ setup: Setup, _ name: String, missed: ScheduleDefinition.MissedRuns, nextRunAt: Date) throws {
        var definition = ScheduleDefinition(name: name, treefile: "fixture/treefile.yaml", cron: "0 2 * * *")
        definition.missedRuns = missed
        #expect(try setup.store.createSchedule(ScheduleRecord(definition: definition, origin: .api, nextRunAt: nextRunAt)))
    }

    @Test func aScheduleFiresOnTimeAndMovesToItsNextRun() throws {
        let setup = try setup()
        let due = ISO8601DateFormatter().date(from: "2026-12-02T02:00:00Z")!
        try schedule(setup, "nightly", missed: .runOnce, nextRunAt: due)
        #expect(try Scheduler.runDue(store: setup.store, queue: setup.queue, now: due.addingTimeInterval(-1), lateness: 120).isEmpty)
        let lines = try Scheduler.runDue(store: setup.store, queue: setup.queue, now: due.addingTimeInterval(1), lateness: 120)
        #expect(lines.count == 1 && lines[0].contains("queued build #1"), "\(lines)")
        let build = try #require(try setup.store.builds.build(1))
        #expect(build.status == .queued && build.trigger == "schedule:nightly" && build.ref == "fixture/x86_64/test")
        let record = try #require(try setup.store.schedule("nightly"))
        #expect(record.lastBuildId == 1 && record.nextRunAt == due.addingTimeInterval(86400))
        // Not again until then.
        #expect(try Scheduler.runDue(store: setup.store, queue: setup.queue, now: due.addingTimeInterval(60), lateness: 120).isEmpty)
    }

    @Test func missedRunsFollowTheirPolicy() throws {
        let setup = try setup()
        // The server was down for three days: three nightly runs missed.
        let due = ISO8601DateFormatter().date(from: "2026-11-29T02:00:00Z")!
        let now = ISO8601DateFormatter().date(from: "2026-12-02T09:00:00Z")!
        try schedule(setup, "catch-up", missed: .runOnce, nextRunAt: due)
        try schedule(setup, "skipper", missed: .skip, nextRunAt: due)
        let lines = try Scheduler.runDue(store: setup.store, queue: setup.queue, now: now, lateness: 120)
        #expect(lines.count == 2, "\(lines)")
        #expect(try setup.store.builds(BuildFilter()).count == 1, "run-once: one compose for all the runs missed; skip: none")
        #expect(try setup.store.schedule("catch-up")?.lastBuildId == 1)
        let skipped = try #require(try setup.store.schedule("skipper"))
        #expect(skipped.lastBuildId == nil && skipped.lastRunAt == nil)
        let next = ISO8601DateFormatter().date(from: "2026-12-03T02:00:00Z")!
        let caughtUp = try setup.store.schedule("catch-up")
        #expect(skipped.nextRunAt == next && caughtUp?.nextRunAt == next)
    }

    @Test func aPausedScheduleDoesNotFire() throws {
        let setup = try setup()
        var definition = ScheduleDefinition(name: "paused", treefile: "fixture/treefile.yaml", cron: "* * * * *")
        definition.paused = true
        _ = try setup.store.createSchedule(ScheduleRecord(definition: definition, origin: .api, nextRunAt: Date(timeIntervalSince1970: 0)))
        #expect(try Scheduler.runDue(store: setup.store, queue: setup.queue, now: Date(), lateness: 120).isEmpty)
    }
}

/// The queue's rules, in the store itself.
@Suite struct ServerStoreTests {
    /// The store, and the folder it lives in (kept as long as the test holds it).
    func store() throws -> (TemporaryDirectory, SQLiteServerStore) {
        let dir = try TemporaryDirectory("server-store")
        return (dir, SQLiteServerStore(builds: try BuildStore(repoPath: dir.path("repo"))))
    }

    func submission(_ ref: String, force: Bool = false, key: String? = nil) -> Submission {
        var request = ComposeRequest(treefile: "/treefiles/\(ref).yaml")
        request.force = force
        return Submission(treefileName: "\(ref).yaml", ref: ref, request: request, submittedBy: "test", trigger: "api", idempotencyKey: key)
    }

    @Test func submissionsForAQueuedRefCoalesceAndKeysReplay() throws {
        let (dir, store) = try store()
        defer { withExtendedLifetime(dir) {} }
        let first = try store.submit(submission("a"))
        let joined = try store.submit(submission("a", force: true))
        #expect(joined.id == first.id && joined.coalesced)
        #expect(try store.queued().first?.request.force == true, "a forced submission makes the queued build forced")
        let other = try store.submit(submission("b", key: "k1"))
        #expect(other.id != first.id && !other.coalesced)
        let replay = try store.submit(submission("c", key: "k1"))
        #expect(replay.id == other.id && replay.replayed)
        #expect(try store.queued().map(\.ref) == ["a", "b"])
        // A key given to a submission that joined a queued build replays that build.
        #expect(try store.submit(submission("a", key: "k2")).id == first.id)
        #expect(try store.submit(submission("z", key: "k2")).id == first.id)
        // Another treefile of the same ref does not join; a build a child has taken up is not joined either.
        var sameRef = submission("a")
        sameRef.treefileName = "other.yaml"
        #expect(try store.submit(sameRef).id != first.id)
        try store.started(first.id, at: Date())
        #expect(try store.submit(submission("a")).id != first.id)
    }

    @Test func aQueuedBuildIsCancelledAtOnceAndAFinishedOneIsNot() throws {
        let (dir, store) = try store()
        defer { withExtendedLifetime(dir) {} }
        let queued = try store.submit(submission("a"))
        #expect(try store.requestCancel(queued.id, at: Date()) == .cancelledWhileQueued)
        #expect(try store.builds.build(queued.id)?.status == .cancelled)
        #expect(try store.requestCancel(queued.id, at: Date()) == .alreadyFinished(.cancelled))
        #expect(try store.requestCancel(999, at: Date()) == .notFound)
        #expect(try store.submit(submission("a")).id != queued.id, "a cancelled build is not joined")
    }

    @Test func theAuditLogIsAppendOnly() throws {
        let (dir, store) = try store()
        defer { withExtendedLifetime(dir) {} }
        try store.audit(AuditEntry(token: "t", action: "submit", target: "x", result: "ok"))
        #expect(try store.auditLog(limit: 10).map(\.action) == ["submit"])
        #expect(throws: (any Error).self) { try store.buildStore.database.write { try $0.execute(sql: "UPDATE audit SET result = 'forged'") } }
        #expect(throws: (any Error).self) { try store.buildStore.database.write { try $0.execute(sql: "DELETE FROM audit") } }
    }

    @Test func configuredSchedulesKeepTheirStateAcrossStarts() throws {
        let (dir, store) = try store()
        defer { withExtendedLifetime(dir) {} }
        var nightly = ScheduleDefinition(name: "nightly", treefile: "a.yaml", cron: "0 2 * * *")
        let next = Date(timeIntervalSince1970: 1_000_000)
        try store.syncConfiguredSchedules([nightly, ScheduleDefinition(name: "gone", treefile: "b.yaml", cron: "@daily")],
                                          nextRun: { _ in next }, at: Date())
        var record = try #require(try store.schedule("nightly"))
        record.definition.paused = true
        _ = try store.updateSchedule(record)
        try store.recordScheduleRun("nightly", ranAt: Date(), buildId: 7, nextRunAt: next.addingTimeInterval(86400), keepNextRun: false)
        // The next start: the file changed one schedule's treefile and dropped the other.
        nightly.treefile = "c.yaml"
        try store.syncConfiguredSchedules([nightly], nextRun: { _ in next }, at: Date())
        let after = try #require(try store.schedule("nightly"))
        #expect(after.definition.treefile == "c.yaml" && after.definition.paused, "the pause given through the API stays")
        #expect(after.lastBuildId == 7 && after.nextRunAt == next.addingTimeInterval(86400), "the cron did not change: nor does the next run")
        #expect(try store.schedule("gone") == nil)
        // The file pausing it, then resuming it: the file wins each time it changes.
        nightly.paused = true
        try store.syncConfiguredSchedules([nightly], nextRun: { _ in next }, at: Date())
        nightly.paused = false
        try store.syncConfiguredSchedules([nightly], nextRun: { _ in next }, at: Date())
        #expect(try store.schedule("nightly")?.definition.paused == false, "resumed by the file")
    }
}
