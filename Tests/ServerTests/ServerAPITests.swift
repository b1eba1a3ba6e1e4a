import Foundation
import Testing
import TestSupport

/// The compose server as its clients use it: scripts over the JSON API, the
/// stock `ostree` client over `/repo/`, with real composes of the fixtures.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct ServerAPITests {
    @Test func aComposeSubmittedOverTheAPIRunsIsPublishedAndPulls() throws {
        let server = try ServerHarness("server-api")
        try server.start()

        // Refused before anything is queued: no token, a revoked one, one without the scope, one for other refs.
        let body = ["treefile": "fixture/treefile.yaml"]
        for (token, status, code) in [(nil, 401, "unauthorized"), ("secret-unknown", 401, "unauthorized"), ("revoked", 401, "unauthorized"),
                                      ("reader", 403, "missing_scope"), ("elsewhere", 403, "ref_not_allowed")] as [(String?, Int, String)] {
            let reply = try server.request("POST", "/api/v1/composes", token: token, json: body)
            #expect(reply.status == status && reply.errorCode == code, "\(token ?? "no token"): \(reply.status) \(reply.text)")
        }
        #expect(try server.sql("select count(*) from build") == ["0"])

        let id = try server.submit(key: "nightly-2026-12-02")
        #expect(try server.submit(key: "nightly-2026-12-02") == id, "a retry with the same Idempotency-Key is the same build")
        let build = try server.waitFor(id, ["succeeded", "failed"])
        #expect(build["status"] as? String == "succeeded", "\(build)\n\(server.log)")
        let commit = try #require(build["commit"] as? String)
        #expect(build["submittedBy"] as? String == "nightly" && build["treefile"] as? String == "fixture/treefile.yaml")
        #expect(build["ref"] as? String == server.ref && build["version"] != nil && build["composeId"] != nil)
        #expect((build["stageSeconds"] as? [String: Double])?["commit"] != nil, "\(build)")
        #expect((build["eventCounts"] as? [String: Int])?["outcome"] == 1, "\(build)")
        // Published means pulled: the stock client fetched it from the server's /repo/ before it counted.
        let check = try #require(build["pullCheck"] as? String)
        #expect(check.contains("pulled \(server.ref) at \(commit) from \(server.base!.absoluteString)repo/"), "\(check)")

        let events = try #require(try JSONSerialization.jsonObject(with: try server.get("/api/v1/builds/\(id)/events").body) as? [[String: Any]])
        #expect(events.first?["type"] as? String == "stageStarted" && events.last?["type"] as? String == "outcome", "\(events)")
        #expect(events.contains { $0["type"] as? String == "buildStarted" && $0["build"] as? Int == id })

        let refs = try #require(try server.get("/api/v1/refs").json["refs"] as? [[String: Any]])
        #expect(refs.count == 1 && refs[0]["head"] as? String == commit && refs[0]["published"] as? Bool == true, "\(refs)")

        // The stock client pulls from /repo/.
        let client = server.dir.path("client")
        _ = try Command.check(["ostree", "--repo=\(client.path)", "init", "--mode=bare-user"])
        _ = try Command.check(["ostree", "--repo=\(client.path)", "remote", "add", "--no-gpg-verify", "server",
                               server.base!.appendingPathComponent("repo/").absoluteString])
        _ = try Command.check(["ostree", "--repo=\(client.path)", "pull", "server", server.ref])
        #expect(try Oracle.ostreeRev(client, server.ref) == commit)

        // A second version arrives as a static delta.
        let second = try server.submit(force: true)
        #expect(second != id)
        let next = try server.waitFor(second, ["succeeded", "failed"])
        #expect(next["status"] as? String == "succeeded" && next["parent"] as? String == commit, "\(next)")
        #expect((next["deltas"] as? [[String: Any]])?.contains { $0["from"] as? String == commit } == true, "\(next)")
        _ = try Command.check(["ostree", "--repo=\(client.path)", "pull", "--require-static-deltas", "server", server.ref])
        #expect(try Oracle.ostreeRev(client, server.ref) == next["commit"] as? String)
        _ = try Command.check(["ostree", "--repo=\(client.path)", "fsck"])

        let diff = try server.get("/api/v1/builds/\(id)/diff/\(second)")
        #expect(diff.status == 200 && diff.json["from"] as? Int == id && diff.json["to"] as? Int == second, "\(diff.text)")
        let listed = try #require(try server.get("/api/v1/builds?ref=\(server.ref)&limit=1").json["builds"] as? [[String: Any]])
        #expect(listed.count == 1 && listed[0]["id"] as? Int == second)

        // A finished build cannot be cancelled.
        let cancel = try server.request("POST", "/api/v1/builds/\(id)/cancel", token: "nightly")
        #expect(cancel.status == 409 && cancel.errorCode == "build_finished", "\(cancel.text)")

        // Every decision is in the audit log, and the log refuses changes.
        let audit = try server.sql("select coalesce(token, '-') || ' ' || action || ' ' || result from audit order by id")
        #expect(audit.contains("nightly submit ok") && audit.contains("reader submit missing_scope")
                && audit.contains("elsewhere submit ref_not_allowed") && audit.contains("nightly cancel build_finished"), "\(audit)")
        #expect(throws: (any Error).self) { try server.sql("delete from audit") }

        let metrics = try server.get("/metrics").text
        #expect(metrics.contains("treeforge_builds{status=\"succeeded\"} 2"), "\(metrics)")
        #expect(metrics.contains("treeforge_stage_duration_seconds_count{stage=\"commit\"} 2"), "\(metrics)")
        #expect(!metrics.contains("treeforge_repo_requests_total 0\n"), "\(metrics)")
        let health = try server.get("/health")
        #expect(health.status == 200 && health.json["status"] as? String == "ok", "\(health.text)")

        #expect(try server.stop() == 0, "\(server.log)")
    }

    @Test func badInputIsAClearErrorAndChangesNothing() throws {
        let server = try ServerHarness("server-bad-input")
        let outside = try server.dir.write("outside.yaml", "ref: stolen/ref\n")
        try FileManager.default.createSymbolicLink(at: server.treefiles.appendingPathComponent("escape.yaml"), withDestinationURL: outside)
        try server.start()
        let post = { (json: Any?, body: Data?) in
            try server.request("POST", "/api/v1/composes", token: "admin", json: json, body: body)
        }
        let cases: [(String, ServerHarness.Reply, Int, String)] = [
            ("malformed JSON", try post(nil, Data("{\"treefile\": ".utf8)), 400, "malformed_json"),
            ("no treefile", try post(["force": true], nil), 400, "malformed_json"),
            ("unknown treefile", try post(["treefile": "nope/none.yaml"], nil), 404, "not_found"),
            ("climbing out", try post(["treefile": "../outside.yaml"], nil), 400, "bad_treefile_name"),
            ("absolute", try post(["treefile": server.dir.path("outside.yaml").path], nil), 400, "bad_treefile_name"),
            ("symlink out", try post(["treefile": "escape.yaml"], nil), 400, "bad_treefile_name"),
            ("not a treefile", try post(["treefile": "fixture/fixtures.repo"], nil), 400, "bad_treefile_name"),
            ("oversized", try post(nil, Data(("{\"treefile\": \"" + String(repeating: "a", count: 100_000) + "\"}").utf8)), 413, "body_too_large"),
            ("unknown build", try server.get("/api/v1/builds/999"), 404, "not_found"),
            ("bad build id", try server.get("/api/v1/builds/abc"), 400, "bad_build_id"),
            ("bad filter", try server.get("/api/v1/builds?status=done"), 400, "bad_filter"),
            ("unknown route", try server.get("/api/v1/nothing"), 404, "not_found"),
            ("wrong method", try server.request("DELETE", "/api/v1/refs", token: "admin"), 405, "method_not_allowed"),
            ("wrong method on /repo/", try server.request("PUT", "/repo/config", token: "admin"), 405, "method_not_allowed"),
            ("no token, unknown treefile", try server.request("POST", "/api/v1/composes", json: ["treefile": "nope/none.yaml"]), 401, "unauthorized"),
            ("no token, malformed body", try server.request("POST", "/api/v1/composes", body: Data("{".utf8)), 401, "unauthorized"),
            ("no token, bad build id", try server.request("POST", "/api/v1/builds/abc/cancel"), 401, "unauthorized"),
            ("no scope, unknown build", try server.request("POST", "/api/v1/builds/999/cancel", token: "reader"), 403, "missing_scope"),
            ("cancel unknown", try server.request("POST", "/api/v1/builds/999/cancel", token: "admin"), 404, "not_found"),
            ("bad cron", try server.request("POST", "/api/v1/schedules", token: "admin",
                                                  json: ["name": "n", "treefile": "fixture/treefile.yaml", "cron": "61 * * * *"]), 422, "bad_cron"),
            ("bad time zone", try server.request("POST", "/api/v1/schedules", token: "admin",
                                                       json: ["name": "n", "treefile": "fixture/treefile.yaml", "cron": "0 * * * *",
                                                              "timeZone": "Mars/Olympus"]), 422, "bad_time_zone"),
        ]
        #expect(cases.first { $0.0 == "wrong method" }?.1.header("Allow") == "GET")
        for (what, reply, status, code) in cases {
            #expect(reply.status == status && reply.errorCode == code, "\(what): \(reply.status) \(reply.text)")
            #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true, "\(what)")
        }
        #expect(try server.sql("select count(*) from build") == ["0"])
        #expect(try server.sql("select count(*) from schedule") == ["0"])

        // A second server on the same repository refuses to start.
        let second = try Command.run([Fixtures.treeforgeExecutable.path, "serve", "--listen", "127.0.0.1:0", "--repo", server.repo.path,
                                      "--treefiles", server.treefiles.path])
        #expect(second.status == 2 && second.stderr.contains("another treeforge serve owns"), "\(second.stderr)")
        // A config file with a bad schedule, an unknown key, or an unreadable tokens file: a refusal to start, saying which.
        for (config, says) in [("schedules:\n  - {name: n, treefile: fixture/treefile.yaml, cron: \"0 25 * * *\"}\n", "schedule n: cron `0 25 * * *`: hour"),
                               ("schedules:\n  - {name: n, treefile: fixture/treefile.yaml, cron: \"@daily\", time-zone: Nowhere/Land}\n", "Nowhere/Land is not a time zone"),
                               ("colour: blue\n", "unknown setting `colour`"),
                               ("tokens: missing.yaml\n", "cannot read the tokens file")] {
            let file = try server.dir.write("bad-\(UUID().uuidString).yaml", config)
            let refused = try Command.run([Fixtures.treeforgeExecutable.path, "serve", "--config", file.path, "--listen", "127.0.0.1:0",
                                           "--repo", server.dir.path("other-repo").path])
            #expect(refused.status == 2 && refused.stderr.contains(says), "\(config): \(refused.stderr)")
        }
        #expect(try server.stop() == 0)
    }

    @Test func theRepositoryIsServedReadOnlyAndNothingOutsideIt() throws {
        let server = try ServerHarness("server-repo")
        try server.start()
        let id = try server.submit()
        #expect(try server.waitFor(id, ["succeeded", "failed"])["status"] as? String == "succeeded")
        // Symlinks that lead out of the repository, planted in it.
        try FileManager.default.createSymbolicLink(at: server.repo.appendingPathComponent("escape"), withDestinationURL: server.tokensFile)
        try FileManager.default.createSymbolicLink(at: server.repo.appendingPathComponent("refs/heads/escape"),
                                                   withDestinationURL: server.tokensFile)
        for line in ["GET /repo/../tokens.yaml", "GET /repo/%2e%2e/tokens.yaml", "GET /repo/%2E%2E/tokens.yaml",
                     "GET /repo/refs/..%2f..%2f..%2ftokens.yaml", "GET /repo/escape", "GET /repo/refs/heads/escape",
                     "GET /repo/.treeforge/locks/server.lock", "GET /repo/objects", "GET /repo/", "GET /repo/summary%00"] {
            #expect(try server.rawStatus(line) == 404, "\(line)")
        }
        #expect(try server.rawStatus("GET /repo/config") == 200)

        let size = try #require(try FileManager.default.attributesOfItem(atPath: server.repo.appendingPathComponent("summary").path)[.size] as? Int)
        let head = try server.request("HEAD", "/repo/summary")
        #expect(head.status == 200 && head.body.isEmpty && head.header("Content-Length") == String(size))
        #expect(head.header("Content-Type") == "application/octet-stream" && head.header("Last-Modified") != nil)
        let etag = try #require(head.header("ETag"))
        let unchanged = try server.request("GET", "/repo/summary", headers: ["If-None-Match": etag])
        #expect(unchanged.status == 304 && unchanged.body.isEmpty)
        let notModified = try server.request("GET", "/repo/summary", headers: ["If-Modified-Since": try #require(head.header("Last-Modified"))])
        #expect(notModified.status == 304)
        let modified = try server.request("GET", "/repo/summary", headers: ["If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"])
        #expect(modified.status == 200 && modified.body.count == size)
        let part = try server.request("GET", "/repo/summary", headers: ["Range": "bytes=0-9"])
        #expect(part.status == 206 && part.body.count == 10 && part.header("Content-Range") == "bytes 0-9/\(size)")
        let whole = try server.get("/repo/summary")
        let summary = try Data(contentsOf: server.repo.appendingPathComponent("summary"))
        #expect(whole.status == 200 && whole.body == summary)
        #expect(part.body == whole.body.prefix(10))
        let beyond = try server.request("GET", "/repo/summary", headers: ["Range": "bytes=\(size + 10)-"])
        #expect(beyond.status == 416 && beyond.header("Content-Range") == "bytes */\(size)")
        for method in ["PUT", "DELETE", "POST"] {
            #expect(try server.request(method, "/repo/config").status >= 400)
        }
        #expect(try server.stop() == 0)
    }
}
