import Foundation
import Testing
import TestSupport

/// Damaged caches under `--cachedir`, made for real between two composes:
/// the compose recovers (re-parses, re-downloads) with the same answer, or
/// fails naming the file and what to do, with nothing committed.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct CacheDamageTests {
    /// Regression: a truncated `.solv` file made treeforge die of SIGSEGV
    /// inside libsolv (repo_add_solv), and some truncations silently lost
    /// packages. Each damage now composes the packages of an uncached compose.
    @Test(arguments: SolvCacheDamage.allCases)
    func aDamagedSolvCacheFileComposesTheSamePackages(_ damage: SolvCacheDamage) throws {
        let harness = try ComposeHarness("solv-\(damage)")
        let cache = harness.dir.path("cache")
        let treefile = try harness.treefile(Fixtures.defaultRequest)
        try harness.composeOK(treefile)
        let uncached = try harness.lastBuild().packages
        #expect(uncached.contains("fixture-extras-1.0-1.noarch"))

        // Another repository's cache file, to rename in place of the fixtures' one.
        let small = try SolvCacheDamage.smallRepository(in: harness.dir.path("small-repo"))
        let other = try FixtureTreefile.write(packages: ["fixture-sh"], repository: small, repoID: "other", in: harness.dir.path("other"))
        let dryRun = try harness.compose(other, ["--cachedir", cache.path, "--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")

        try harness.composeOK(treefile, ["--cachedir", cache.path, "--force-nocache"])
        let file = try SolvCacheDamage.cacheFile(of: "fixtures", in: cache)
        let good = try Data(contentsOf: file)
        try damage.apply(to: file, other: try SolvCacheDamage.cacheFile(of: "other", in: cache))

        let result = try harness.compose(treefile, ["--cachedir", cache.path, "--force-nocache"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("warning: repo fixtures: discarded a damaged metadata cache file \(file.path)"), "\(result.stderr)")
        #expect(try harness.lastBuild().status == "succeeded")
        #expect(try harness.lastBuild().packages == uncached)
        #expect(try Data(contentsOf: file) == good, "the cache file is written again, whole")
    }

    /// A local repository's RPM cut short: the install stage names the
    /// package, the repository and the file before librpm sees it.
    @Test func aTruncatedRPMInALocalRepositoryIsAnInstallError() throws {
        let harness = try ComposeHarness("local-truncated")
        let copy = harness.dir.path("fixtures-copy")
        try FileManager.default.copyItem(at: try Fixtures.repository(), to: copy)
        let rpm = copy.appendingPathComponent("Packages/fixture-app-1.0-1.noarch.rpm")
        let bytes = try Data(contentsOf: rpm)
        try bytes.prefix(1000).write(to: rpm)
        try harness.expectFailure(try harness.treefile(["fixture-app"], repository: copy), stage: "install",
                                  mentions: ["fixture-app-1.0-1.noarch: \(rpm.path) does not match repo fixtures's metadata",
                                             "it is 1000 bytes, expected \(bytes.count): truncated",
                                             "rerun createrepo_c"])
    }

    /// An RPM cut short in the http cache: fetched again with the network,
    /// a download error naming the file and what to do with --cache-only.
    @Test func aTruncatedRPMInTheHTTPCache() throws {
        let harness = try ComposeHarness("http-truncated")
        let server = try StaticHTTPServer(serving: try Fixtures.repository())
        let cache = harness.dir.path("cache")
        let treefile = try harness.treefile(Fixtures.defaultRequest)
        try "[fixtures]\nbaseurl=\(server.url.absoluteString)\ngpgcheck=0\n"
            .write(to: treefile.deletingLastPathComponent().appendingPathComponent("fixtures.repo"), atomically: true, encoding: .utf8)
        let filled = try harness.compose(treefile, ["--cachedir", cache.path, "--download-only"])
        #expect(filled.status == 0, "\(filled.stderr)")
        let rpm = cache.appendingPathComponent("repos/fixtures/Packages/fixture-sh-1.0-1.x86_64.rpm")
        let good = try Data(contentsOf: rpm)
        try good.prefix(4096).write(to: rpm)

        try harness.expectFailure(treefile, ["--cachedir", cache.path, "--cache-only"], stage: "download",
                                  mentions: ["fixture-sh-1.0-1.x86_64: --cache-only: the cached copy \(rpm.path) of repo fixtures is damaged (it is 4096 bytes, expected \(good.count): truncated); run without --cache-only to fetch it again, or refill the cache with --download-only"])

        try harness.composeOK(treefile, ["--cachedir", cache.path])
        #expect(try Data(contentsOf: rpm) == good)
        #expect(try harness.lastBuild().packages.contains("fixture-sh-1.0-1.x86_64"))
    }
}
