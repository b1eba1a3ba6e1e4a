import Foundation
import Testing
import TestSupport

/// No build is left `running` with nothing running it: a compose child
/// killed outright, a server killed outright, a server stopped with SIGTERM
/// (its composes cancelled and queued again once), and a queue that
/// survives a restart.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct ServerSupervisionTests {
    /// Every compose the server starts waits at the start of its install
    /// (up to a minute, or until cancelled): time for a test to act mid-compose.
    static let pauseAtInstall = ["TREEFORGE_FAULT_PAUSE_AT": "install"]

    /// Waits until the build's compose waits at the start of its install; its pid.
    func runningPid(_ server: ServerHarness, _ id: Int) throws -> Int32 {
        var pid: Int32 = 0
        try server.waitUntil("build #\(id) composing") {
            let build = try server.build(id)
            pid = Int32(build["pid"] as? Int ?? 0)
            if let status = build["status"] as? String, !["queued", "running"].contains(status) {
                throw FixtureError("build #\(id) ended \(status) before its install: \(build)\n\(server.log)")
            }
            // The install stage's start waits (the fault): the download before it has finished.
            let events = try server.get("/api/v1/builds/\(id)/events").text
            let last = events.split(separator: "\n").last ?? ""
            return build["status"] as? String == "running" && pid > 0 && last.contains(#""stage":"download""#) && last.contains("stageFinished")
        }
        return pid
    }

    @Test func aKilledComposeAndAKilledServerLeaveNoBuildRunning() throws {
        let server = try ServerHarness("server-kill")
        try server.start(environment: Self.pauseAtInstall)
        let first = try server.submit()
        let child = try runningPid(server, first)
        kill(child, SIGKILL)
        let killed = try server.waitFor(first, ["interrupted"],
                                              timeout: 15)
        #expect(killed["pid"] == nil || killed["pid"] is NSNull, "\(killed)")

        // A server killed mid-compose: its child dies with it; a build queued behind it survives.
        let second = try server.submit()
        let secondChild = try runningPid(server, second)
        let other = try server.treefile("other")
        let queued = try server.submit(other)
        #expect(queued != second)
        #expect(try server.build(queued)["status"] as? String == "queued", "one compose per ref: it waits")
        try server.stop(SIGKILL)
        try server.waitUntil("the compose child to die with the server", timeout: 10) { kill(secondChild, 0) != 0 }
        #expect(try server.sql("select status from build where id = \(second)") == ["running"], "nothing has settled it yet")

        try server.start()
        let settled = try server.waitFor(second, ["interrupted"], timeout: 15)
        #expect(settled["status"] as? String == "interrupted")
        let ran = try server.waitFor(queued, ["succeeded", "failed"])
        #expect(ran["status"] as? String == "succeeded", "the queued build survived the restart: \(ran)")
        #expect(try server.sql("select count(*) from build where status = 'running'") == ["0"])
        #expect(try server.stop() == 0)
    }

    @Test func sigtermCancelsTheRunningComposesAndQueuesThemAgainOnce() throws {
        let server = try ServerHarness("server-drain")
        try server.start(environment: Self.pauseAtInstall)
        let id = try server.submit()
        let child = try runningPid(server, id)
        #expect(try server.stop(SIGTERM, timeout: 60) == 0, "\(server.log)")
        #expect(kill(child, 0) != 0, "the compose ended before the server")
        let cancelled = try server.sql("select status from build where id = \(id)")
        #expect(cancelled == ["cancelled"], "\(server.log)")

        try server.start()
        var again = 0
        try server.waitUntil("the cancelled build to be queued again") {
            again = try server.build(id)["requeuedAs"] as? Int ?? 0
            return again > 0
        }
        let rerun = try server.waitFor(again, ["succeeded", "failed"])
        #expect(rerun["status"] as? String == "succeeded" && rerun["trigger"] as? String == "requeued", "\(rerun)")
        // Once: a second restart queues nothing more.
        #expect(try server.stop() == 0)
        try server.start()
        sleep(1)
        #expect(try server.sql("select count(*) from build") == ["2"])
        #expect(try server.stop() == 0)
    }

    @Test func cancellingAQueuedAndARunningBuild() throws {
        let server = try ServerHarness("server-cancel")
        try server.start(environment: Self.pauseAtInstall)
        let running = try server.submit()
        _ = try runningPid(server, running)
        let queued = try server.submit(try server.treefile("other"))
        let refused = try server.request("POST", "/api/v1/builds/\(queued)/cancel", token: "elsewhere")
        #expect(refused.status == 403 && refused.errorCode == "ref_not_allowed")
        let now = try server.request("POST", "/api/v1/builds/\(queued)/cancel", token: "nightly")
        #expect(now.status == 202 && now.json["status"] as? String == "cancelled", "\(now.text)")
        let stopping = try server.request("POST", "/api/v1/builds/\(running)/cancel", token: "nightly")
        #expect(stopping.status == 202 && stopping.json["status"] as? String == "cancelling", "\(stopping.text)")
        #expect(try server.waitFor(running, ["cancelled"], timeout: 30)["status"] as? String == "cancelled")
        #expect(try server.build(queued)["status"] as? String == "cancelled")
        #expect(try server.stop() == 0)
    }
}
