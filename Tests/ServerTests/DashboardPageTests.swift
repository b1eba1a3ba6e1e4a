import Foundation
import Testing
import TestSupport

/// The server-rendered pages: what they show after real composes, that they
/// are valid HTML (Debian's `tidy`), and that a missing build or ref is a
/// clear error page.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct DashboardPageTests {
    /// tidy's complaints about a page (errors and warnings), none expected.
    static func tidy(_ html: String, in dir: TemporaryDirectory) throws -> String {
        let file = try dir.write("page-\(UUID().uuidString).html", html)
        let result = try Command.run(["tidy", "-q", "-e", "--drop-empty-elements", "no", file.path])
        return result.status == 0 ? "" : result.stderr
    }

    @Test func thePagesShowTheBuildsAndAreValidHTML() throws {
        let server = try ServerHarness("dashboard")
        try server.start()
        let first = try server.submit()
        #expect(try server.waitFor(first, ["succeeded", "failed"])["status"] as? String == "succeeded")
        let second = try server.submit(force: true)
        let build = try server.waitFor(second, ["succeeded", "failed"])
        let commit = try #require(build["commit"] as? String)

        // What the build was made from, and its tree, through the API.
        #expect((build["treeSize"] as? Int ?? 0) > 0 && (build["treeFiles"] as? Int ?? 0) > 0)
        #expect(build["inputs"] as? [String: String] == ["treefile": "/api/v1/builds/\(second)/treefile",
                                                         "lockfile": "/api/v1/builds/\(second)/lockfile"])
        let treefile = try server.get("/api/v1/builds/\(second)/treefile")
        #expect(treefile.status == 200 && treefile.json["ref"] as? String == server.ref)
        let lockfile = try server.get("/api/v1/builds/\(second)/lockfile")
        let locked = lockfile.json["packages"] as? [String: Any]
        #expect(lockfile.status == 200 && locked?["fixture-newtool"] != nil, "\(lockfile.text)")
        for path in ["/api/v1/builds/999/lockfile", "/api/v1/builds/x/treefile"] {
            let missing = try server.get(path)
            #expect([400, 404].contains(missing.status) && missing.errorCode != nil, "\(path): \(missing.status)")
        }

        let home = try server.get("/")
        #expect(home.status == 200 && home.header("Content-Type") == "text/html; charset=utf-8")
        #expect(home.text.contains("href=\"/builds/\(second)\"") && home.text.contains(server.ref) && home.text.contains("status-succeeded"))
        #expect(home.text.contains("Nothing is running.") && home.text.contains("The queue is empty."))
        let page = try server.get("/builds/\(second)")
        #expect(page.status == 200 && page.text.contains(commit) && page.text.contains("Against <a href=\"/builds/\(first)\">build #\(first)</a>"))
        #expect(page.text.contains("ostree pull compose \(server.ref)") && page.text.contains("data-log=\"/api/v1/builds/\(second)/log\""))
        let ref = try server.get("/refs/\(server.ref)")
        #expect(ref.status == 200 && ref.text.contains("<svg class=\"chart\"") && ref.text.contains("Compose duration by stage"))
        #expect(ref.text.contains("aria-label=\"Tree size per build\""))
        #expect(page.text.contains("<details data-input=\"lockfile\">") && page.text.contains("<code>treeforge.input-hash</code>"))
        let diff = try server.get("/builds/\(second)/diff?other=\(first)")
        #expect(diff.status == 200 && diff.text.contains("The same packages."))
        let schedules = try server.get("/schedules")
        #expect(schedules.status == 200 && schedules.text.contains("No schedules."))
        for (path, reply) in [("/", home), ("/builds/\(second)", page), ("/refs/…", ref), ("/diff", diff), ("/schedules", schedules)] {
            let complaints = try Self.tidy(reply.text, in: server.dir)
            #expect(complaints == "", "\(path) is not valid HTML: \(complaints)")
        }

        let css = try server.get("/assets/app.css")
        let script = try server.get("/assets/live.js")
        #expect(css.status == 200 && css.header("Content-Type")?.hasPrefix("text/css") == true)
        #expect(script.status == 200 && script.text.contains("EventSource"))

        for path in ["/builds/999", "/refs/no/such/ref", "/builds/abc", "/builds/\(second)/diff?other=x"] {
            let missing = try server.get(path)
            #expect((400...404).contains(missing.status) && missing.header("Content-Type") == "text/html; charset=utf-8", "\(path): \(missing.status)")
            #expect(missing.text.contains("role=\"alert\""), "\(path)")
            #expect(try Self.tidy(missing.text, in: server.dir) == "", "\(path)'s error page is not valid HTML")
        }
        #expect(try server.stop() == 0)
    }
}
