import Foundation
import Testing
import TestSupport

/// Bad input: each gives a clear message naming the stage and the subject, a
/// non-zero exit, no new commit, the ref unchanged and the build recorded as
/// failed with its error. Each test first composes a good tree on the ref.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct ComposeFailureTests {
    let harness: ComposeHarness

    init() throws {
        harness = try ComposeHarness("failure")
        try harness.composeOK(try harness.treefile(["fixture-oldtool"], in: "good"))
    }

    @Test func missingTreefile() throws {
        try harness.expectFailure(harness.dir.path("absent.yaml"), stage: "load",
                                  mentions: ["absent.yaml", "treefile not found"])
    }

    @Test func yamlSyntaxError() throws {
        let treefile = try harness.dir.write("bad/treefile.yaml", "ref: r\npackages: [a, b\nrepos: [x]\n")
        try harness.expectFailure(treefile, stage: "load", mentions: ["bad/treefile.yaml:3:", "YAML syntax error"])
    }

    @Test func jsonSyntaxError() throws {
        let treefile = try harness.dir.write("bad/treefile.json", "{\n  \"ref\": \"r\",\n  \"packages\": [\"a\" \"b\"]\n}\n")
        try harness.expectFailure(treefile, stage: "load", mentions: ["bad/treefile.json:3:", "JSON syntax error"])
    }

    @Test func unknownPackage() throws {
        try harness.expectFailure(try harness.treefile(["fixture-app", "fixture-nonexistent"]), stage: "resolve",
                                  mentions: ["`fixture-nonexistent`"])
    }

    @Test func unsatisfiableDependency() throws {
        try harness.expectFailure(try harness.treefile(["fixture-unsatisfiable"]), stage: "resolve",
                                  mentions: ["nothing provides fixture-does-not-exist >= 9 needed by fixture-unsatisfiable-1.0-1.noarch"])
    }

    @Test func repoFileMissing() throws {
        let treefile = try harness.treefile(["fixture-app"])
        try FileManager.default.removeItem(at: treefile.deletingLastPathComponent().appendingPathComponent("fixtures.repo"))
        try harness.expectFailure(treefile, stage: "resolve", mentions: ["repo fixtures", "no `.repo` file"])
    }

    @Test func repoDirectoryMissing() throws {
        try harness.expectFailure(try harness.treefile(["fixture-app"], repository: harness.dir.path("no-such-repo")),
                                  stage: "resolve", mentions: ["repo fixtures", "no-such-repo does not exist"])
    }

    @Test func repodataChecksumMismatch() throws {
        let copy = try copyOfFixtures()
        let repodata = copy.appendingPathComponent("repodata")
        let primary = try #require(try FileManager.default.contentsOfDirectory(atPath: repodata.path).first { $0.hasSuffix("primary.xml.gz") })
        try corrupt(repodata.appendingPathComponent(primary))
        try harness.expectFailure(try harness.treefile(["fixture-app"], repository: copy), stage: "resolve",
                                  mentions: ["repo fixtures", "does not match repomd.xml"])
    }

    /// A payload corrupted and the repodata regenerated: only librpm's own
    /// payload digest can tell.
    @Test func corruptPayloadCaughtByLibrpm() throws {
        let copy = try copyOfFixtures()
        try corrupt(copy.appendingPathComponent("Packages/fixture-app-1.0-1.noarch.rpm"))
        try Command.check(["createrepo_c", "-q", copy.path])
        try harness.expectFailure(try harness.treefile(["fixture-app"], repository: copy), stage: "install",
                                  mentions: ["fixture-app-1.0-1.noarch", "Payload SHA256", "BAD"])
    }

    /// A payload that no longer matches the repository's checksum for it.
    @Test func corruptPackageCaughtBeforeInstall() throws {
        let copy = try copyOfFixtures()
        try corrupt(copy.appendingPathComponent("Packages/fixture-app-1.0-1.noarch.rpm"))
        try harness.expectFailure(try harness.treefile(["fixture-app"], repository: copy), stage: "install",
                                  mentions: ["fixture-app-1.0-1.noarch", "does not match repo fixtures's metadata"])
    }

    @Test func failingPostScriptlet() throws {
        try harness.expectFailure(try harness.treefile(["fixture-app", "fixture-failing-scriptlet"]), stage: "install",
                                  mentions: ["fixture-failing-scriptlet-1.0-1.noarch", "the %post scriptlet failed (exit status 3)",
                                             "%post failing on purpose"])
    }

    @Test func failingPreScriptlet() throws {
        try harness.expectFailure(try harness.treefile(["fixture-app", "fixture-failing-pre"]), stage: "install",
                                  mentions: ["fixture-failing-pre-1.0-1.noarch", "the %pre scriptlet failed", "%pre failing on purpose"])
    }

    func copyOfFixtures() throws -> URL {
        let copy = harness.dir.path("fixtures-copy")
        try FileManager.default.copyItem(at: try Fixtures.repository(), to: copy)
        return copy
    }

    /// Flips bytes near the end of the file (inside an RPM's compressed payload).
    func corrupt(_ file: URL) throws {
        var bytes = try Data(contentsOf: file)
        let end = bytes.count - 100
        for i in (end - 100)..<end { bytes[i] ^= 0xff }
        try bytes.write(to: file)
    }
}
