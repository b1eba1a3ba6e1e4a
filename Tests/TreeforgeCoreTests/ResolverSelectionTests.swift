import Foundation
import LibSolv
import Testing
import TestSupport
@testable import TreeforgeCore

/// What narrows or steers the resolver: excludes, pins, priorities,
/// lockfiles, file lists, remote repositories.
@Suite struct ResolverSelectionTests {
    let repository: URL
    let dir: TemporaryDirectory

    init() throws {
        repository = try Fixtures.repository()
        dir = try TemporaryDirectory("selection")
    }

    /// A treefile over two repositories (`fixtures` and a copy, `second`).
    func twoRepoTreefile(_ packages: [String], extra: String = "", repoOptions: String = "", secondOptions: String = "") throws -> Treefile {
        let second = dir.path("second-repo")
        if !FileManager.default.fileExists(atPath: second.path) {
            try FileManager.default.copyItem(at: repository, to: second)
        }
        try dir.write("tf/repos.repo", """
            [fixtures]
            baseurl=file://\(repository.path)
            \(repoOptions)
            [second]
            baseurl=file://\(second.path)
            \(secondOptions)
            """)
        try dir.write("tf/treefile.yaml", "ref: r\nrepos: [fixtures, second]\npackages: [\(packages.joined(separator: ", "))]\n\(extra)")
        return try TreefileLoader(basearch: "x86_64").load(dir.path("tf/treefile.yaml"))
    }

    func resolve(_ treefile: Treefile, lockfile: Lockfile? = nil, strict: Bool = false,
                 access: RepositoryAccess = RepositoryAccess()) throws -> ResolvedSet {
        var resolver = Resolver(basearch: "x86_64", access: access)
        resolver.lockfile = lockfile
        resolver.lockfileStrict = strict
        return try resolver.resolve(treefile)
    }

    func repoOf(_ name: String, in set: ResolvedSet) -> String? {
        set.packages.first { $0.name == name }?.repository
    }

    @Test func excludingAWeakDependencyDropsIt() throws {
        let treefile = try twoRepoTreefile(["fixture-app"], extra: "exclude-packages: [fixture-extras]\n")
        #expect(!(try resolve(treefile).nevras.contains("fixture-extras-1.0-1.noarch")))
    }

    @Test func excludingAHardDependencyNamesTheChain() throws {
        let treefile = try twoRepoTreefile(["fixture-app"], extra: "exclude-packages: ['fixture-mt*']\n")
        let error = try #require(throws: ComposeError.self) { try resolve(treefile) }
        #expect(error.description.contains("nothing provides fixture-mail-transport needed by fixture-app-1.0-1.noarch"))
        #expect(error.details.contains("fixture-mta is excluded (it provides fixture-mail-transport): exclude-packages"))
    }

    @Test func excludedPackageAskedForByName() throws {
        let treefile = try twoRepoTreefile(["fixture-oldtool"], extra: "exclude-packages: [fixture-newtool, fixture-oldtool]\n")
        let error = try #require(throws: ComposeError.self) { try resolve(treefile) }
        #expect(error.message.contains("`fixture-oldtool`"))
        #expect(error.details.contains("fixture-oldtool is excluded: exclude-packages"))
    }

    @Test func anUnknownSpecOfBackticksBesideExcludes() throws {
        // The spec was once cut back out of its quoted form: "`" left nothing and trapped.
        let treefile = try twoRepoTreefile(["'`'", "fixture-oldtool"], extra: "exclude-packages: [fixture-newtool, fixture-oldtool]\n")
        let error = try #require(throws: ComposeError.self) { try resolve(treefile) }
        #expect(error.message.contains("matches ```, `fixture-oldtool` (after excludes)"), "\(error)")
        #expect(error.details == ["fixture-oldtool is excluded: exclude-packages"])
    }

    @Test func priorityAndCostChooseTheRepository() throws {
        #expect(repoOf("fixture-app", in: try resolve(try twoRepoTreefile(["fixture-app"], secondOptions: "priority=10"))) == "second")
        #expect(repoOf("fixture-app", in: try resolve(try twoRepoTreefile(["fixture-app"], repoOptions: "cost=2000"))) == "second")
        #expect(repoOf("fixture-app", in: try resolve(try twoRepoTreefile(["fixture-app"], repoOptions: "priority=10"))) == "fixtures")
    }

    @Test func repositoryExcludesAndIncludes() throws {
        let excluded = try resolve(try twoRepoTreefile(["fixture-app"], repoOptions: "excludepkgs=fixture-lib*"))
        #expect(repoOf("fixture-lib", in: excluded) == "second")
        let included = try resolve(try twoRepoTreefile(["fixture-app"], secondOptions: "includepkgs=fixture-mta"))
        #expect(Set(included.packages.filter { $0.repository == "second" }.map(\.name)).isSubset(of: ["fixture-mta"]))
    }

    @Test func repoPackagesPinTheRepository() throws {
        let treefile = try twoRepoTreefile(["fixture-app"], extra: """
            repo-packages:
              - repo: second
                packages: [fixture-lib, fixture-mta]
            """)
        let set = try resolve(treefile)
        #expect(repoOf("fixture-lib", in: set) == "second")
        #expect(repoOf("fixture-mta", in: set) == "second")
        #expect(repoOf("fixture-app", in: set) != nil)
    }

    @Test func lockfilePinsVersions() throws {
        let lockfile = Lockfile(packages: ["fixture-lib": .init(version: .evra(evr: "1.0-1", arch: "noarch"), digest: nil, metadata: nil)],
                                metadata: nil)
        let set = try resolve(try twoRepoTreefile(["fixture-app"]), lockfile: lockfile)
        #expect(set.nevras.contains("fixture-lib-1.0-1.noarch"))
        #expect(!set.nevras.contains("fixture-lib-2.0-1.noarch"))
    }

    @Test func lockfileNamingAPackageNoRepoHas() throws {
        let lockfile = Lockfile(packages: ["fixture-lib": .init(version: .evr("9.9-1"), digest: nil, metadata: nil)], metadata: nil)
        let error = try #require(throws: ComposeError.self) { try resolve(try twoRepoTreefile(["fixture-app"]), lockfile: lockfile) }
        #expect(error.subject == "lockfile package fixture-lib")
        #expect(error.message.contains("no repository has fixture-lib 9.9-1"))
    }

    @Test func lockfileDigestMustMatch() throws {
        let lockfile = Lockfile(packages: ["fixture-lib": .init(version: .evr("2.0-1"), digest: "sha256:00", metadata: nil)], metadata: nil)
        #expect(throws: ComposeError.self) { try resolve(try twoRepoTreefile(["fixture-app"]), lockfile: lockfile) }
    }

    @Test func writtenLockfileReproducesTheSet() throws {
        let treefile = try twoRepoTreefile(Fixtures.defaultRequest)
        let set = try resolve(treefile)
        let file = dir.path("out.lock.json")
        try Lockfile.write(set, to: file, now: Date(timeIntervalSince1970: 1_800_000_000))
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains(#""evra": "2.0-1.noarch""#))
        #expect(text.contains(#""digest": "sha256:"#))
        #expect(text.contains(#""generated": "2027-01-15T00:00:00Z""#))
        #expect(text.contains(#""fixtures": {"#) && text.contains(#""generated": "2023-11-14T22:13:20Z""#))
        let lockfile = try Lockfile.load([file])
        #expect(lockfile.packages.count == set.packages.count)
        #expect(try resolve(treefile, lockfile: lockfile, strict: true).nevras == set.nevras)
    }

    @Test func strictLockfileAllowsNothingElse() throws {
        let lockfile = Lockfile(packages: ["fixture-oldtool": .init(version: .evr("1.0-1"), digest: nil, metadata: nil)], metadata: nil)
        let set = try resolve(try twoRepoTreefile(["fixture-oldtool"]), lockfile: lockfile, strict: true)
        #expect(set.nevras == ["fixture-oldtool-1.0-1.noarch"])
        let error = try #require(throws: ComposeError.self) {
            try resolve(try twoRepoTreefile(["fixture-app"]), lockfile: lockfile, strict: true)
        }
        #expect(error.details.contains { $0.contains("not in the lockfile (--ex-lockfile-strict)") })
    }

    @Test func lockfileReposServeOnlyLockedPackages() throws {
        try dir.write("tf/repos.repo", """
            [main]
            baseurl=file://\(repository.path)
            includepkgs=fixture-app fixture-mta fixture-editor-a fixture-filesystem fixture-sh fixture-extras
            [locked]
            baseurl=file://\(repository.path)
            """)
        try dir.write("tf/treefile.yaml", "ref: r\nrepos: [main]\nlockfile-repos: [locked]\npackages: [fixture-app]\n")
        let treefile = try TreefileLoader(basearch: "x86_64").load(dir.path("tf/treefile.yaml"))
        let lockfile = Lockfile(packages: ["fixture-lib": .init(version: .evr("1.0-1"), digest: nil, metadata: nil)], metadata: nil)
        let set = try resolve(treefile, lockfile: lockfile)
        #expect(set.packages.first { $0.name == "fixture-lib" }?.repository == "locked")
        #expect(set.nevras.contains("fixture-lib-1.0-1.noarch"))
        // Without a lockfile the lockfile repo is not used at all.
        #expect(throws: ComposeError.self) { try resolve(treefile) }
    }

    @Test func fileListsAreLoadedOnlyWhenNeeded() throws {
        let cache = dir.path("cache")
        let access = RepositoryAccess(cachedir: cache)
        _ = try resolve(try twoRepoTreefile(["fixture-app"]), access: access)

        let set = try resolve(try twoRepoTreefile(["fixture-data-reader"]), access: access)
        #expect(set.nevras.contains("fixture-app-1.0-1.noarch"))
        let path = try resolve(try twoRepoTreefile(["/usr/share/fixture-app/data/README"]), access: access)
        #expect(path.nevras.contains("fixture-app-1.0-1.noarch"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("solv").path).count == 2)
    }

    @Test func truncatedGzipIsACorruptRepository() throws {
        let copy = dir.path("truncated")
        try FileManager.default.copyItem(at: repository, to: copy)
        let repodata = copy.appendingPathComponent("repodata")
        let primary = try #require(try FileManager.default.contentsOfDirectory(atPath: repodata.path).first { $0.hasSuffix("primary.xml.gz") })
        let file = repodata.appendingPathComponent(primary)
        let original = try Data(contentsOf: file)
        let oldSum = Checksum.sha256.hex(of: original)
        let truncated = original.prefix(original.count / 2)
        try truncated.write(to: file)
        // Make repomd.xml agree (checksum and size), so only the gzip stream is wrong.
        let repomd = repodata.appendingPathComponent("repomd.xml")
        let text = try String(contentsOf: repomd, encoding: .utf8)
        try text.replacingOccurrences(of: ">\(oldSum)</checksum>", with: ">\(Checksum.sha256.hex(of: truncated))</checksum>")
            .replacingOccurrences(of: "<size>\(original.count)</size>", with: "<size>\(truncated.count)</size>")
            .write(to: repomd, atomically: true, encoding: .utf8)
        let treefile = try FixtureTreefile.write(packages: ["fixture-app"], repository: copy, in: dir.path("trunc-tf"))
        let error = try #require(throws: ComposeError.self) { try Resolver(basearch: "x86_64").resolve(TreefileLoader().load(treefile)) }
        #expect(error.subject == "repo fixtures")
        #expect(error.message.contains("cannot parse primary metadata"))
    }
}

/// Repositories served over HTTP on loopback.
@Suite(.serialized) struct RemoteRepositoryTests {
    let repository: URL
    let dir: TemporaryDirectory

    init() throws {
        repository = try Fixtures.repository()
        dir = try TemporaryDirectory("remote")
    }

    func treefile(baseurl: String) throws -> Treefile {
        try dir.write("tf/remote.repo", "[fixtures]\nbaseurl=\(baseurl)\n")
        try dir.write("tf/treefile.yaml", "ref: r\nrepos: [fixtures]\npackages: [fixture-app, fixture-oldtool]\n")
        return try TreefileLoader(basearch: "x86_64").load(dir.path("tf/treefile.yaml"))
    }

    @Test func resolvesFetchesAndThenWorksFromTheCacheAlone() throws {
        let server = try StaticHTTPServer(serving: repository)
        let cache = dir.path("cache")
        let treefile = try treefile(baseurl: server.url.absoluteString)
        let set = try Resolver(basearch: "x86_64", access: RepositoryAccess(cachedir: cache)).resolve(treefile)
        #expect(set.nevras == Fixtures.defaultSet)
        let app = try #require(set.packages.first { $0.name == "fixture-app" })
        #expect(app.url == server.url.absoluteString + "Packages/fixture-app-1.0-1.noarch.rpm")
        #expect(app.path == cache.path + "/repos/fixtures/Packages/fixture-app-1.0-1.noarch.rpm")
        _ = try PackageFetcher(access: RepositoryAccess(cachedir: cache)).run(set, in: .quiet)
        #expect(try Checksum.sha256.hex(ofFileAt: app.path) == app.checksum)

        server.stop()
        let offline = RepositoryAccess(cachedir: cache, cacheOnly: true)
        let again = try Resolver(basearch: "x86_64", access: offline).resolve(treefile)
        #expect(again.nevras == set.nevras)
        _ = try PackageFetcher(access: offline).run(again, in: .quiet)
    }

    @Test func cacheOnlyWithAnEmptyCache() throws {
        let treefile = try treefile(baseurl: "http://127.0.0.1:9/")
        let error = try #require(throws: ComposeError.self) {
            try Resolver(basearch: "x86_64", access: RepositoryAccess(cachedir: dir.path("empty"), cacheOnly: true)).resolve(treefile)
        }
        #expect(error.message.contains("--cache-only: no cached repodata"))
    }

    @Test func aServerThatDoesNotAnswerIsRetriedThenNamed() throws {
        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        let treefile = try treefile(baseurl: "http://127.0.0.1:9/repo/")
        let start = Date()
        let error = try #require(throws: ComposeError.self) {
            try Resolver(basearch: "x86_64", access: RepositoryAccess(cachedir: dir.path("c"), timeout: 2)).resolve(treefile)
        }
        #expect(error.subject == "repo fixtures")
        #expect(error.message.contains("cannot fetch http://127.0.0.1:9/repo/repodata/repomd.xml"))
        #expect(error.message.contains("(3 attempts)"))
        #expect(Date().timeIntervalSince(start) < 30)
    }

    @Test func aMissingFileIsNotRetried() throws {
        let server = try StaticHTTPServer(serving: dir.url)
        let treefile = try treefile(baseurl: server.url.absoluteString + "nothing-here/")
        let error = try #require(throws: ComposeError.self) {
            try Resolver(basearch: "x86_64", access: RepositoryAccess(cachedir: dir.path("c"))).resolve(treefile)
        }
        #expect(error.message.contains("HTTP status 404 (1 attempt)"))
    }
}
