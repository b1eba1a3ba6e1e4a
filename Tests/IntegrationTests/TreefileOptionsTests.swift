import Foundation
import Testing
import TestSupport

/// Treefile settings the pipeline acts on, and `--print-only`, through the
/// treeforge executable.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct TreefileOptionsTests {
    @Test func recommendsFalseLeavesOutWeakDependencies() throws {
        let harness = try ComposeHarness("recommends")
        try harness.composeOK(try harness.treefile(Fixtures.defaultRequest, extra: "recommends: false\n"))
        let checkout = harness.dir.path("checkout")
        try Oracle.ostree(harness.repo, ["checkout", "-U", harness.ref, checkout.path])
        let installed = try Oracle.rpmQueryAll(root: checkout)
        #expect(!installed.contains("fixture-extras-1.0-1.noarch"))
        #expect(installed == (try Oracle.dnfResolve(Fixtures.defaultRequest, repository: Fixtures.repository(), weakDependencies: false)))
    }

    @Test func documentationFalseLeavesOutDocFiles() throws {
        let harness = try ComposeHarness("docs")
        try harness.composeOK(try harness.treefile(["fixture-app"], extra: "documentation: false\n"))
        let listing = try Oracle.ostree(harness.repo, ["ls", "-R", harness.ref, "/usr/share"])
        #expect(!listing.contains("/usr/share/doc/fixture-app/README"))
        #expect(listing.contains("/usr/share/fixture-app/data/README"))

        let withDocs = try ComposeHarness("docs")
        try withDocs.composeOK(try withDocs.treefile(["fixture-app"]))
        #expect(try Oracle.ostree(withDocs.repo, ["ls", "-R", withDocs.ref, "/usr/share"]).contains("/usr/share/doc/fixture-app/README"))
    }

    /// librpm's `%_install_langs` = "de": the German and the unmarked file
    /// are installed, the French one is not (rpm records it as not installed).
    @Test func installLangsKeepsOnlyTheListedLanguages() throws {
        let harness = try ComposeHarness("langs")
        try harness.composeOK(try harness.treefile(["fixture-langs"], extra: "install-langs:\n  - de\n"))
        let listing = try Oracle.ostree(harness.repo, ["ls", "-R", harness.ref, "/usr/share/fixture-langs"])
        #expect(listing.contains("/usr/share/fixture-langs/neutral"))
        #expect(listing.contains("/usr/share/fixture-langs/greeting.de"))
        #expect(!listing.contains("/usr/share/fixture-langs/greeting.fr"), "\(listing)")
        let checkout = harness.dir.path("checkout")
        try Oracle.ostree(harness.repo, ["checkout", "-U", harness.ref, checkout.path])
        let states = try Command.check(["rpm", "--root", checkout.path, "--dbpath", "/usr/lib/sysimage/rpm", "-q", "--qf",
                                        "[%{FILESTATES:fstate} %{FILENAMES}\n]", "fixture-langs"])
        #expect(states.contains("not installed /usr/share/fixture-langs/greeting.fr"), "\(states)")

        let allLanguages = try ComposeHarness("langs")
        try allLanguages.composeOK(try allLanguages.treefile(["fixture-langs"]))
        #expect(try Oracle.ostree(allLanguages.repo, ["ls", "-R", allLanguages.ref, "/usr/share/fixture-langs"])
            .contains("/usr/share/fixture-langs/greeting.fr"))
    }

    @Test func settingsNotActedOnStopTheCompose() throws {
        let harness = try ComposeHarness("unsupported")
        try harness.composeOK(try harness.treefile(["fixture-oldtool"], in: "good"))
        try harness.expectFailure(try harness.treefile(["fixture-app"], extra: "ostree-layers: [extra-layer]\n"), stage: "load",
                                  mentions: ["does not act on these settings yet", "`ostree-layers`", "treefile.yaml:"])
    }

    @Test func printOnlyPrintsTheFlattenedTreefile() throws {
        let folder = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/treefiles/coreos-like")
        let result = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "tree", "--print-only", "--arch", "s390x",
                                      folder.appendingPathComponent("manifest.yaml").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (try String(contentsOf: folder.appendingPathComponent("expected-s390x.json"), encoding: .utf8)))

        let overridden = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "tree", "--print-only", "--canonical",
                                          "--var", "stream=stable", folder.appendingPathComponent("manifest.yaml").path])
        #expect(overridden.stdout.contains(#""ref":"fedora/x86_64/coreos/stable""#))
        #expect(!overridden.stdout.contains("composefs"), "next.yaml is only for testing-devel")
    }

    @Test func printOnlyErrorsExitNonZero() throws {
        let dir = try TemporaryDirectory("print-only")
        let file = try dir.write("t.yaml", "ref: r\nconditional-include:\n  - if: nope == 1\n    include: x.yaml\n")
        let result = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "tree", "--print-only", file.path])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("error: load: \(file.path):3:9: condition `nope == 1`: undefined variable `nope`"))
        let badVar = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "tree", "--print-only", "--var", "basearch=s390x", file.path])
        #expect(badVar.status != 0)
        #expect(badVar.stderr.contains("reserved variable basearch"))
    }
}

/// A compose from a repository served over HTTP, then one from the cache alone.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct RemoteComposeTests {
    @Test func composesFromHTTPThenFromTheCacheAlone() throws {
        let server = try StaticHTTPServer(serving: try Fixtures.repository())
        let harness = try ComposeHarness("remote")
        let folder = harness.dir.path("tf")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "[fixtures]\nbaseurl=\(server.url.absoluteString)\n".write(to: folder.appendingPathComponent("remote.repo"), atomically: true, encoding: .utf8)
        let treefile = folder.appendingPathComponent("treefile.yaml")
        try "ref: \(harness.ref)\nrepos: [fixtures]\npackages: [fixture-app, fixture-oldtool]\n".write(to: treefile, atomically: true, encoding: .utf8)
        let cache = harness.dir.path("cache")

        let fetched = try harness.compose(treefile, ["--cachedir", cache.path, "--download-only"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(fetched.stdout.contains("Downloaded 8 packages for \(harness.ref) into the cache"))
        #expect(!FileManager.default.fileExists(atPath: harness.repo.path), "--download-only composes nothing")

        let first = try harness.compose(treefile, ["--cachedir", cache.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("download "))
        #expect(FileManager.default.fileExists(atPath: cache.appendingPathComponent("repos/fixtures/Packages/fixture-sh-1.0-1.x86_64.rpm").path))

        server.stop()
        let offline = try harness.compose(treefile, ["--cachedir", cache.path, "--cache-only", "--force-nocache"])
        #expect(offline.status == 0, "\(offline.stderr)")
        let checkout = harness.dir.path("checkout")
        try Oracle.ostree(harness.repo, ["checkout", "-U", harness.ref, checkout.path])
        #expect(try Oracle.rpmQueryAll(root: checkout) == Fixtures.defaultSet)

        let unreachable = try harness.compose(treefile, ["--cachedir", harness.dir.path("empty").path, "--http-timeout", "2"])
        #expect(unreachable.status != 0)
        #expect(unreachable.stderr.contains("error: resolve: repo fixtures: cannot fetch \(server.url.absoluteString)repodata/repomd.xml"))
    }
}
