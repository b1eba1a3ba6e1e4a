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
        #expect(try harness.lastBuild().status == "succeeded")
        #expect(try harness.lastBuild().packages == uncached)
        #expect(try Data(contentsOf: file) == good, "the cache file is written again, whole")
    }
}
