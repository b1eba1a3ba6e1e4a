import Foundation
import Testing
import TestSupport

/// The pages in a real browser (headless Chromium) against a real server
/// composing the fixtures: they follow a build live without a reload, show
/// the package diff, let a signed-in user cancel and refuse anyone else,
/// report no errors in the console, and fit a phone. Screenshots of each
/// page at desktop and phone width go to `.build/test-artifacts/browser/`.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"),
       .enabled(if: Browser.isInstalled, "needs Debian's chromium (scripts/setup-host installs it)"))
struct BrowserTests {
    static let desktop = (width: 1280, height: 900)
    static let phone = (width: 390, height: 844)

    @Test func thePagesFollowABuildLiveShowItsDiffAndCancelForASignedInUser() throws {
        let server = try ServerHarness("browser")
        let resume = server.dir.path("resume")
        // Every compose waits at its first package until the test says go (the file exists).
        try server.start(environment: ["TREEFORGE_FAULT_PAUSE_AT": "install:1", "TREEFORGE_FAULT_RESUME_FILE": resume.path])
        let base = try #require(server.base)
        let treefile = try server.treefile("browser", packages: ["fixture-lib = 1.0"])
        let browser = try Browser()
        let artifacts = try Fixtures.artifacts("browser")

        // The home page, loaded before the build exists, shows it running and then its result.
        let home = try browser.newPage()
        try home.open(base)
        #expect(try home.text("#running-builds").contains("Nothing is running."))
        try home.evaluate("window.notReloaded = true")
        let first = try server.submit(treefile)
        try home.waitUntil("the home page shows build #\(first) running, in install") {
            "(document.querySelector(\"#running-builds tr[data-build='\(first)'] [data-progress]\")?.textContent ?? '').startsWith('install')"
        }
        #expect(try home.evaluate("document.querySelector(\"#running-builds tr.empty\").hidden") as? Bool == true)

        // Its build page receives the log live: lines while it waits, the rest once it goes on.
        let log = try browser.newPage()
        try log.open(base.appendingPathComponent("builds/\(first)"))
        try log.evaluate("window.notReloaded = true")
        try log.waitUntil("build #\(first)'s page shows the install stage starting") {
            "document.getElementById('build-log').textContent.includes('\\u25b6 install')"
        }
        #expect(!(try log.text("#build-log").contains("outcome:")))
        try Data().write(to: resume)
        try log.waitUntil("build #\(first)'s page shows its outcome") {
            "document.getElementById('build-log').textContent.includes('outcome: committed')"
        }
        try log.waitUntil("build #\(first)'s status becomes succeeded") { "document.querySelector('dl.facts [data-status]').textContent === 'succeeded'" }
        #expect(try log.text("#build-log").contains("[1/1] fixture-lib-1.0-1.noarch"))
        try home.waitUntil("the home page shows build #\(first) succeeded") {
            "(document.querySelector(\"#recent-builds tr[data-build='\(first)'] [data-status]\")?.textContent ?? '') === 'succeeded'"
        }
        try home.waitUntil("build #\(first) leaves the running table") {
            "!document.querySelector(\"#running-builds tr[data-build='\(first)']\")"
        }
        #expect(try home.evaluate("window.notReloaded") as? Bool == true, "the home page followed the build without a reload")
        #expect(try log.evaluate("window.notReloaded") as? Bool == true, "the build page followed the build without a reload")

        // An upgrade: the build page and the diff page name the package.
        try server.treefile("browser", packages: ["fixture-lib"])
        let second = try server.submit(treefile)
        #expect(try server.waitFor(second, ["succeeded", "failed"])["status"] as? String == "succeeded")
        let build = try browser.newPage()
        try build.open(base.appendingPathComponent("builds/\(second)"))
        #expect(try build.text("section[aria-labelledby=diff]").contains("upgraded fixture-lib 1.0-1 → 2.0-1"))
        let lockfile = try build.text("details[data-input=lockfile] pre")
        #expect(lockfile.contains("\"evra\": \"2.0-1.noarch\""), "\(lockfile)")
        #expect(try build.text("section[aria-labelledby=metadata]").contains("treeforge.input-hash"))
        try build.navigating("document.querySelector('input[name=other]').value = '\(first)'; document.querySelector('form[action$=diff]').submit()")
        #expect(try build.evaluate("location.pathname + location.search") as? String == "/builds/\(second)/diff?other=\(first)")
        #expect(try build.text("main").contains("upgraded fixture-lib 1.0-1 → 2.0-1"))

        // Cancel: refused without signing in, done from the page once signed in.
        try FileManager.default.removeItem(at: resume)
        let third = try server.submit(treefile, force: true)
        try server.waitUntil("build #\(third) running") { try server.build(third)["status"] as? String == "running" }
        let cancel = try browser.newPage()
        try cancel.open(base.appendingPathComponent("builds/\(third)"))
        #expect(try cancel.evaluate("document.querySelector('form[action$=cancel]') === null") as? Bool == true)
        #expect(try cancel.text("main").contains("Sign in to cancel it."))
        let forged = try cancel.evaluate("""
            fetch('/builds/\(third)/cancel', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                                             body: 'csrf=forged'}).then(function (r) { return r.status; })
            """)
        #expect(forged as? Int == 401)
        #expect(try server.build(third)["status"] as? String == "running", "a refused cancel changes nothing")
        try cancel.navigating("document.querySelector('main a[href^=\"/signin\"]').click()")
        try cancel.navigating("document.querySelector('input[name=token]').value = '\(ServerHarness.secrets["nightly"]!)'; document.querySelector('main form').submit()")
        #expect(try cancel.evaluate("location.pathname") as? String == "/builds/\(third)")
        #expect(try cancel.text("header").contains("Signed in as nightly"))
        try cancel.navigating("document.querySelector('form[action$=cancel] button').click()")
        try cancel.waitUntil("build #\(third)'s page shows it cancelled") { "document.querySelector('dl.facts [data-status]').textContent === 'cancelled'" }
        #expect(try server.build(third)["status"] as? String == "cancelled")

        // Every page at desktop and phone width: screenshots kept, nothing wider than a phone.
        let pages = [("home", ""), ("build", "builds/\(second)"), ("diff", "builds/\(second)/diff?other=\(first)"),
                     ("ref", "refs/\(server.ref)"), ("schedules", "schedules"), ("signin", "signin")]
        let shots = try browser.newPage()
        for (name, path) in pages {
            try shots.open(try #require(URL(string: base.absoluteString + path)))
            for (size, viewport) in [("desktop", Self.desktop), ("phone", Self.phone)] {
                let png = try shots.screenshot(width: viewport.width, height: viewport.height, mobile: size == "phone")
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 5_000, "\(name) at \(size) width")
                try png.write(to: artifacts.appendingPathComponent("\(name)-\(size).png"))
                if name == "ref", size == "desktop" {
                    #expect(try shots.evaluate("document.querySelector('svg[aria-label=\"Tree size per build\"] circle') !== null") as? Bool == true,
                            "the ref page charts tree size")
                }
                if size == "phone" {
                    let width = try shots.evaluate("document.documentElement.scrollWidth") as? Int ?? 0
                    #expect(width <= viewport.width, "\(name) is \(width) px wide on a \(viewport.width) px phone")
                }
            }
        }

        // No page logged an error, but for the forged cancel's refusal.
        for (name, page) in [("home", home), ("log", log), ("build", build), ("screenshots", shots)] {
            #expect(page.errors.isEmpty, "\(name): \(page.errors)")
        }
        #expect(cancel.errors.filter { !$0.contains("401") } == [], "\(cancel.errors)")
        #expect(try server.stop() == 0)
    }
}
