import Foundation
import Testing
import TestSupport

/// Schedules through the API and the config file, with scopes and prefixes;
/// tokens reloaded on SIGHUP.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct ScheduleAPITests {
    @Test func schedulesAreObjectsOfTheAPI() throws {
        let server = try ServerHarness("server-schedules")
        let config = try server.dir.write("server.yaml", """
            max-parallel: 1
            schedules:
              - name: from-config
                treefile: fixture/treefile.yaml
                cron: "0 3 * * *"
                time-zone: Europe/Berlin
                missed-runs: skip
            """)
        try server.start(["--config", config.path])
        let definition: [String: Any] = ["name": "nightly", "treefile": "fixture/treefile.yaml", "cron": "0 2 * * *"]
        #expect(try server.request("POST", "/api/v1/schedules", json: definition).status == 401)
        #expect(try server.request("POST", "/api/v1/schedules", token: "reader", json: definition).errorCode == "missing_scope")
        #expect(try server.request("POST", "/api/v1/schedules", token: "elsewhere", json: definition).errorCode == "ref_not_allowed")
        let created = try server.request("POST", "/api/v1/schedules", token: "nightly", json: definition)
        #expect(created.status == 201 && created.json["nextRunAt"] is String && created.json["origin"] as? String == "api", "\(created.text)")
        let again = try server.request("POST", "/api/v1/schedules", token: "nightly", json: definition)
        #expect(again.status == 409 && again.errorCode == "schedule_exists")

        let list = try #require(try server.get("/api/v1/schedules").json["schedules"] as? [[String: Any]])
        #expect(list.map { $0["name"] as? String } == ["from-config", "nightly"], "\(list)")
        let configured = try #require(list.first)
        #expect(configured["origin"] as? String == "config" && configured["timeZone"] as? String == "Europe/Berlin"
                && configured["missedRuns"] as? String == "skip")

        // A token for other refs cannot take the schedule over by pointing it at a treefile of its own.
        try server.treefile("fedora", ref: "fedora/x86_64/base")
        let takeover = try server.request("PATCH", "/api/v1/schedules/nightly", token: "elsewhere",
                                          json: ["treefile": "fedora/treefile.yaml", "paused": true])
        #expect(takeover.status == 403 && takeover.errorCode == "ref_not_allowed", "\(takeover.text)")
        let paused = try server.request("PATCH", "/api/v1/schedules/nightly", token: "nightly", json: ["paused": true])
        #expect(paused.status == 200 && paused.json["paused"] as? Bool == true, "\(paused.text)")
        let badCron = try server.request("PATCH", "/api/v1/schedules/nightly", token: "nightly", json: ["cron": "every night"])
        #expect(badCron.status == 422 && badCron.errorCode == "bad_cron")
        #expect(try server.request("PATCH", "/api/v1/schedules/from-config", token: "admin", json: ["cron": "0 4 * * *"]).errorCode
                == "defined_in_config")
        #expect(try server.request("PATCH", "/api/v1/schedules/from-config", token: "admin", json: ["paused": true]).status == 200)
        #expect(try server.request("DELETE", "/api/v1/schedules/from-config", token: "admin").errorCode == "defined_in_config")

        let run = try server.request("POST", "/api/v1/schedules/nightly/run", token: "nightly")
        #expect(run.status == 202, "\(run.text)")
        let id = try #require(run.json["id"] as? Int)
        let build = try server.waitFor(id, ["succeeded", "failed"])
        #expect(build["status"] as? String == "succeeded" && build["trigger"] as? String == "schedule:nightly", "\(build)")
        #expect(try server.get("/api/v1/schedules/nightly").json["lastBuildStatus"] as? String == "succeeded")

        #expect(try server.request("DELETE", "/api/v1/schedules/nightly", token: "nightly").status == 204)
        #expect(try server.get("/api/v1/schedules/nightly").status == 404)

        // Schedules survive a restart, the config's pause included.
        #expect(try server.stop() == 0)
        try server.start(["--config", config.path])
        let restarted = try #require(try server.get("/api/v1/schedules").json["schedules"] as? [[String: Any]])
        #expect(restarted.count == 1 && restarted[0]["paused"] as? Bool == true, "\(restarted)")

        // A token added to the file works after SIGHUP, without a restart.
        let late = "secret-late"
        try server.writeTokens(extra: """
              - name: late
                sha256: "\(try ServerHarness.digest(late))"
                scopes: [schedule]
            """)
        #expect(try server.request("PATCH", "/api/v1/schedules/from-config", token: late, json: ["paused": false]).status == 401)
        kill(try #require(server.process).processIdentifier, SIGHUP)
        try server.waitUntil("the tokens to reload") { server.log.contains("SIGHUP: 6 tokens loaded") }
        #expect(try server.request("PATCH", "/api/v1/schedules/from-config", token: late, json: ["paused": false]).status == 200)
        #expect(try server.stop() == 0)
    }
}
