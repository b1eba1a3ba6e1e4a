import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// The resolver on the fixture repository (Tests/Fixtures/README.md tells
/// the story of each package). The expected sets are dnf's answers.
@Suite struct ResolverTests {
    let repository: URL
    let dir: TemporaryDirectory

    init() throws {
        repository = try Fixtures.repository()
        dir = try TemporaryDirectory("resolve")
    }

    func resolve(_ packages: [String], repository: URL? = nil) throws -> ResolvedSet {
        let treefile = try FixtureTreefile.write(packages: packages, repository: repository ?? self.repository, in: dir.url)
        return try Resolver(basearch: "x86_64").resolve(TreefileLoader().load(treefile))
    }

    @Test func defaultRequest() throws {
        let set = try resolve(Fixtures.defaultRequest)
        #expect(set.nevras == Fixtures.defaultSet)
        #expect(set.repos.map(\.id) == ["fixtures"])
        #expect(set.repos[0].revision == "1700000000")
        for package in set.packages {
            #expect(FileManager.default.fileExists(atPath: package.path))
            #expect(package.checksumType == "sha256")
            #expect(package.downloadSize > 0)
        }
    }

    @Test func newestVersionWins() throws {
        #expect(try resolve(["fixture-lib"]).nevras.contains("fixture-lib-2.0-1.noarch"))
    }

    @Test func versionedRequirementPicksTheOlderWhenItMust() throws {
        let set = try resolve(["fixture-app", "fixture-legacy"]).nevras
        #expect(set.contains("fixture-lib-1.0-1.noarch"))
        #expect(!set.contains("fixture-lib-2.0-1.noarch"))
    }

    @Test func obsoletedNameGivesTheObsoleter() throws {
        #expect(try resolve(["fixture-oldtool"]).nevras == ["fixture-newtool-2.0-1.noarch"])
    }

    @Test func richDependencyTakesTheRequestedAlternative() throws {
        let set = try resolve(["fixture-app", "fixture-editor-b"]).nevras
        #expect(set.contains("fixture-editor-b-1.0-1.noarch"))
        #expect(!set.contains("fixture-editor-a-1.0-1.noarch"))
    }

    @Test func versionQueryAndProvide() throws {
        #expect(try resolve(["fixture-lib < 2.0"]).nevras == ["fixture-lib-1.0-1.noarch"])
        #expect(try resolve(["fixture-mail-transport"]).nevras == ["fixture-mta-1.0-1.noarch"])
    }

    @Test func unknownPackagesAreNamed() throws {
        let error = try #require(throws: ComposeError.self) { try resolve(["fixture-app", "no-such-package", "nor-this"]) }
        #expect(error.stage == .resolve)
        #expect(error.message.contains("`no-such-package`"))
        #expect(error.message.contains("`nor-this`"))
    }

    @Test func unsatisfiableDependencyQuotesLibsolv() throws {
        let error = try #require(throws: ComposeError.self) { try resolve(["fixture-unsatisfiable"]) }
        let text = error.description
        #expect(text.contains("nothing provides fixture-does-not-exist >= 9 needed by fixture-unsatisfiable-1.0-1.noarch"))
    }

    @Test func conflictIsExplained() throws {
        let error = try #require(throws: ComposeError.self) { try resolve(["fixture-app", "fixture-conflicting"]) }
        #expect(error.description.contains("fixture-conflicting"))
        #expect(error.description.contains("conflicts with"))
        #expect(error.description.contains("solution 1:"))
    }

    @Test func repoNotDefined() throws {
        try dir.write("fixtures.repo", "[other]\nbaseurl=file:///nonexistent\n")
        try dir.write("treefile.yaml", "ref: r\nrepos: [fixtures]\npackages: [a]\n")
        let error = try #require(throws: ComposeError.self) {
            try Resolver().resolve(TreefileLoader().load(dir.path("treefile.yaml")))
        }
        #expect(error.subject == "repo fixtures")
        #expect(error.message.contains("no `.repo` file"))
        #expect(error.message.contains("defined: other"))
    }

    @Test func repoDirectoryMissing() throws {
        let error = try #require(throws: ComposeError.self) {
            try resolve(["a"], repository: URL(fileURLWithPath: "/nonexistent/treeforge-repo"))
        }
        #expect(error.subject == "repo fixtures")
        #expect(error.message.contains("/nonexistent/treeforge-repo does not exist"))
    }

    @Test func metadataChecksumMismatch() throws {
        let copy = dir.path("copy")
        try FileManager.default.copyItem(at: repository, to: copy)
        let repodata = copy.appendingPathComponent("repodata")
        let primary = try #require(try FileManager.default.contentsOfDirectory(atPath: repodata.path).first { $0.hasSuffix("primary.xml.gz") })
        let handle = try FileHandle(forWritingTo: repodata.appendingPathComponent(primary))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("tampered".utf8))
        try handle.close()
        let error = try #require(throws: ComposeError.self) { try resolve(["fixture-app"], repository: copy) }
        #expect(error.message.contains("does not match repomd.xml"))
        #expect(error.message.contains(primary))
    }

    @Test func solvCacheGivesTheSameAnswer() throws {
        let treefile = try TreefileLoader().load(
            FixtureTreefile.write(packages: Fixtures.defaultRequest, repository: repository, in: dir.url))
        let resolver = Resolver(basearch: "x86_64", cachedir: dir.path("cache"))
        let cold = try resolver.resolve(treefile)
        let cached = try FileManager.default.contentsOfDirectory(atPath: dir.path("cache/solv").path)
        #expect(cached.count == 1)
        #expect(cached[0].hasPrefix("fixtures-") && cached[0].hasSuffix(".solv"))
        let warm = try resolver.resolve(treefile)
        #expect(warm.packages == cold.packages)
        #expect(warm.repos == cold.repos)
    }
}

@Suite struct ResolverWhyTests {
    func explain(_ package: String) throws -> [String] {
        let dir = try TemporaryDirectory("why")
        let treefile = try FixtureTreefile.write(packages: Fixtures.defaultRequest, repository: Fixtures.repository(), in: dir.url)
        return try Resolver(basearch: "x86_64").explain(TreefileLoader(basearch: "x86_64").load(treefile), package: package)
    }

    @Test func chainOfRequirements() throws {
        #expect(try explain("fixture-sh") == [
            "fixture-sh-1.0-1.x86_64 is in the tree because:",
            "  fixture-sh-1.0-1.x86_64 provides `/bin/sh`, which fixture-app-1.0-1.noarch requires",
            "  fixture-app-1.0-1.noarch is asked for by the treefile (`fixture-app`)",
        ])
    }

    @Test func weakDependencyAndObsoleter() throws {
        #expect(try explain("fixture-extras")[1] == "  fixture-extras-1.0-1.noarch is recommended by fixture-app-1.0-1.noarch (`fixture-extras`)")
        #expect(try explain("fixture-newtool-2.0-1.noarch") == [
            "fixture-newtool-2.0-1.noarch is in the tree because:",
            "  fixture-newtool-2.0-1.noarch is asked for by the treefile (`fixture-oldtool`)",
        ])
    }

    @Test func notInTheTree() throws {
        let available = try #require(throws: ComposeError.self) { try explain("fixture-editor-b") }
        #expect(available.message.contains("is available but not in the tree"))
        let unknown = try #require(throws: ComposeError.self) { try explain("no-such-thing") }
        #expect(unknown.message.contains("no package of that name"))
    }
}
