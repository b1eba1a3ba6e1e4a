import Foundation
import Testing
import TestSupport

/// Actions on the pages need a signed-in token with the right scope and
/// ref prefix, and a CSRF token on every form; anything less changes nothing.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct SignInTests {
    @Test func cancellingFromThePageNeedsASignedInTokenAndItsCSRFToken() throws {
        let server = try ServerHarness("signin-cancel")
        try server.start(environment: ["TREEFORGE_FAULT_PAUSE_AT": "install"])
        let form = try server.get("/signin")
        #expect(form.status == 200 && form.text.contains("type=\"password\" name=\"token\""))
        #expect(try DashboardPageTests.tidy(form.text, in: server.dir) == "")

        let wrong = try server.raw("POST", "/signin", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "token=nope")
        #expect(wrong.status == 401 && wrong.header("Set-Cookie") == nil && wrong.text.contains("unknown or revoked"))
        let signIn = try server.raw("POST", "/signin", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                    body: "token=\(ServerHarness.secrets["nightly"]!)&next=https%3A%2F%2Felsewhere.example%2F")
        let setCookie = try #require(signIn.header("Set-Cookie"))
        #expect(signIn.status == 303 && signIn.header("Location") == "/", "never a redirect to another site")
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.hasPrefix("treeforge_session="))

        let id = try server.submit()
        try server.waitUntil("build #\(id) running") { try server.build(id)["status"] as? String == "running" }
        let anonymous = try server.raw("GET", "/builds/\(id)")
        #expect(anonymous.text.contains("Sign in</a> to cancel it.") && !anonymous.text.contains("Cancel build"))

        let cookie = try server.signIn("nightly")
        let csrf = try server.csrf("/builds/\(id)", cookie: cookie)
        let page = try server.raw("GET", "/builds/\(id)", headers: ["Cookie": cookie])
        #expect(page.text.contains("Signed in as nightly") && page.text.contains("Cancel build #\(id)"))
        #expect(try DashboardPageTests.tidy(page.text, in: server.dir) == "")

        let post = { (headers: [String: String], body: String) in
            try server.raw("POST", "/builds/\(id)/cancel", headers: headers.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 },
                           body: body)
        }
        let tampered = cookie.dropLast(2) + (cookie.hasSuffix("00") ? "11" : "00")
        for (what, reply, status) in [("no session", try post([:], "csrf=\(csrf)"), 401),
                                      ("a tampered cookie", try post(["Cookie": String(tampered)], "csrf=\(csrf)"), 401),
                                      ("no CSRF token", try post(["Cookie": cookie], ""), 403),
                                      ("a wrong CSRF token", try post(["Cookie": cookie], "csrf=\(String(repeating: "0", count: 64))"), 403)] {
            #expect(reply.status == status && reply.header("Content-Type") == "text/html; charset=utf-8", "\(what): \(reply.status)")
            #expect(reply.text.contains("role=\"alert\""), "\(what)")
            #expect(try server.build(id)["status"] as? String == "running", "\(what): nothing changed")
        }
        let cancelled = try post(["Cookie": cookie], "csrf=\(csrf)")
        #expect(cancelled.status == 303 && cancelled.header("Location") == "/builds/\(id)", "\(cancelled.status) \(cancelled.text)")
        #expect(try server.waitFor(id, ["cancelled"], timeout: 30)["status"] as? String == "cancelled")
        #expect(try server.sql("select token || ' ' || action || ' ' || result from audit where action = 'cancel'") == ["nightly cancel ok"])

        let signedOut = try server.raw("POST", "/signout", headers: ["Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"],
                                       body: "csrf=\(csrf)")
        #expect(signedOut.status == 303 && signedOut.header("Set-Cookie")?.contains("Max-Age=0") == true)
        #expect(try server.stop() == 0)
    }

    @Test func scheduleActionsFollowTheTokensScopeAndRefs() throws {
        let server = try ServerHarness("signin-schedules")
        try server.start()
        let created = try server.request("POST", "/api/v1/schedules", token: "nightly",
                                         json: ["name": "nightly", "treefile": "fixture/treefile.yaml", "cron": "0 2 * * *"])
        #expect(created.status == 201)
        let form = ["Content-Type": "application/x-www-form-urlencoded"]

        let elsewhere = try server.signIn("elsewhere")
        let refused = try server.raw("POST", "/schedules/nightly/pause", headers: form.merging(["Cookie": elsewhere]) { $1 },
                                     body: "csrf=\(try server.csrf("/schedules", cookie: elsewhere))")
        #expect(refused.status == 403 && refused.text.contains("may not touch fixture/x86_64/test"), "\(refused.text)")
        #expect(try server.get("/api/v1/schedules/nightly").json["paused"] as? Bool == false)

        let nightly = try server.signIn("nightly")
        let csrf = try server.csrf("/schedules", cookie: nightly)
        let paused = try server.raw("POST", "/schedules/nightly/pause", headers: form.merging(["Cookie": nightly]) { $1 }, body: "csrf=\(csrf)")
        #expect(paused.status == 303 && paused.header("Location") == "/schedules")
        #expect(try server.get("/api/v1/schedules/nightly").json["paused"] as? Bool == true)
        let page = try server.raw("GET", "/schedules", headers: ["Cookie": nightly])
        let complaints = try DashboardPageTests.tidy(page.text, in: server.dir)
        #expect(page.text.contains(">Resume</button>") && complaints == "", "\(complaints)")
        let run = try server.raw("POST", "/schedules/nightly/run", headers: form.merging(["Cookie": nightly]) { $1 }, body: "csrf=\(csrf)")
        #expect(run.status == 303 && run.header("Location")?.hasPrefix("/builds/") == true, "\(run.status) \(run.text)")
        #expect(try server.stop() == 0)
    }
}
