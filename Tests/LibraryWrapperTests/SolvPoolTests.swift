import Foundation
@testable import LibSolv
import Testing
import TestSupport

/// libsolv through the wrapper, on the fixture repository.
@Suite struct SolvPoolTests {
    let pool: SolvPool
    let repo: SolvRepository

    init() throws {
        let base = try Fixtures.repository()
        pool = try SolvPool(architecture: "x86_64")
        repo = pool.addRepository(name: "fx")
        try repo.addRepomd(path: base.appendingPathComponent("repodata/repomd.xml").path)
        let primary = try #require(repo.repomdEntry("primary"))
        try repo.addRpmmd(path: base.appendingPathComponent(primary.location).path)
        pool.prepareForSolving()
    }

    @Test func readsRepomd() throws {
        let primary = try #require(repo.repomdEntry("primary"))
        #expect(primary.location.hasPrefix("repodata/") && primary.location.hasSuffix("-primary.xml.gz"))
        #expect(primary.checksumType == .sha256)
        #expect(primary.checksum?.count == 64)
        #expect(repo.repomdEntry("no-such-type") == nil)
        #expect(repo.revision == "1700000000")
        // One package per fixture spec.
        let specs = try FileManager.default.contentsOfDirectory(atPath: Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/specs").path)
        #expect(repo.packageCount == specs.filter { $0.hasSuffix(".spec") }.count)
    }

    @Test func aSolvFileRejectedPartWayLeavesTheRepositoryEmptyForTheXML() throws {
        let damaged = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/fuzz/solv/rejected-part-way-leaves-packages")
        let pool = try SolvPool(architecture: "x86_64")
        let cache = pool.addRepository(name: "fx")
        #expect(throws: SolvError.self) { try cache.addSolv(contents: try Data(contentsOf: damaged)) }
        #expect(cache.packageCount == 0)
        // What RepositoryLoader does next: the same repository, from the XML.
        let base = try Fixtures.repository()
        try cache.addRepomd(path: base.appendingPathComponent("repodata/repomd.xml").path)
        let primary = try #require(cache.repomdEntry("primary"))
        try cache.addRpmmd(path: base.appendingPathComponent(primary.location).path)
        #expect(cache.packageCount == repo.packageCount)
        #expect(pool.allPackages.count == repo.packageCount, "no package of the rejected file is left in the pool")
    }

    @Test func rpmVersionRulesNotDebians() throws {
        // Under Debian rules "2.0" vs "1.0" agree, but rpm rules also decide
        // which of several EVRs is best; the newest lib must win.
        guard case .solved(let ids) = pool.solve(request(["fixture-lib"])) else {
            Issue.record("no solution"); return
        }
        #expect(ids.map { pool.package($0).nevra } == ["fixture-lib-2.0-1.noarch"])
    }

    @Test func packageInfoIsCopiedOut() throws {
        let id = try #require(pool.packages(matching: "fixture-sh").first)
        let info = pool.package(id)
        #expect(info.name == "fixture-sh")
        #expect(info.arch == "x86_64")
        #expect(info.epoch == "")
        #expect(info.version == "1.0" && info.release == "1")
        #expect(info.repository == "fx")
        #expect(info.location == "Packages/fixture-sh-1.0-1.x86_64.rpm")
        #expect(info.checksumType == "sha256")
        #expect(info.installSize > info.downloadSize)
    }

    @Test func fileProvidesResolve() {
        #expect(pool.packages(matching: "/bin/sh").map { pool.package($0).name } == ["fixture-sh"])
    }

    @Test func problemsCarryLibsolvsText() {
        guard case .problems(let problems) = pool.solve(request(["fixture-unsatisfiable"])) else {
            Issue.record("expected a problem"); return
        }
        #expect(problems.count == 1)
        #expect(problems[0].summary == "nothing provides fixture-does-not-exist >= 9 needed by fixture-unsatisfiable-1.0-1.noarch")
        #expect(!problems[0].solutions.isEmpty)
    }

    @Test func evrSplitting() {
        #expect(PackageInfo.split(evr: "1:2.3-4.fc40") == ("1", "2.3", "4.fc40"))
        #expect(PackageInfo.split(evr: "2.3") == ("", "2.3", ""))
    }

    func request(_ specs: [String]) -> SolveRequest {
        var request = SolveRequest()
        request.installOneOf = specs.map { pool.packages(matching: $0) }
        return request
    }
}
