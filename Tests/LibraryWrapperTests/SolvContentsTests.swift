import Foundation
@testable import LibSolv
import Testing
import TestSupport

/// libsolv's own `.solv` format through the wrapper: written to memory,
/// read back from memory, and a failed read leaving nothing behind.
@Suite struct SolvContentsTests {
    let base: URL

    init() throws {
        base = try Fixtures.repository()
    }

    /// A repository filled from the fixture XML.
    func parsed(into pool: SolvPool, name: String = "fx") throws -> SolvRepository {
        let repo = pool.addRepository(name: name)
        try repo.addRepomd(path: base.appendingPathComponent("repodata/repomd.xml").path)
        let primary = try #require(repo.repomdEntry("primary"))
        try repo.addRpmmd(path: base.appendingPathComponent(primary.location).path)
        return repo
    }

    @Test func repomdGivesEachFilesSize() throws {
        let repo = try parsed(into: SolvPool(architecture: "x86_64"))
        let primary = try #require(repo.repomdEntry("primary"))
        let onDisk = try FileManager.default.attributesOfItem(atPath: base.appendingPathComponent(primary.location).path)[.size] as? NSNumber
        #expect(primary.size == onDisk?.uint64Value)
    }

    @Test func contentsReadBackAsTheSamePackages() throws {
        let contents = try parsed(into: SolvPool(architecture: "x86_64")).solvContents()
        #expect(contents.starts(with: Data("SOLV".utf8)))

        let pool = try SolvPool(architecture: "x86_64")
        let reread = pool.addRepository(name: "fx")
        try reread.addSolv(contents: contents)
        let fresh = try SolvPool(architecture: "x86_64")
        let original = try parsed(into: fresh)
        #expect(reread.packageCount == original.packageCount)
        #expect(reread.repomdEntry("primary") == original.repomdEntry("primary"))
        #expect(Set(pool.allPackages.map { pool.package($0).nevra }) == Set(fresh.allPackages.map { fresh.package($0).nevra }))
    }

    /// libsolv gives up part-way through a truncated file, after it has
    /// added some packages: the wrapper must take them out again, so that
    /// filling the repository from XML next does not leave duplicates.
    @Test func aFailedReadLeavesTheRepositoryEmpty() throws {
        let contents = try parsed(into: SolvPool(architecture: "x86_64")).solvContents()
        let expected = try parsed(into: SolvPool(architecture: "x86_64")).packageCount
        for damaged in [contents.prefix(contents.count / 2), contents.prefix(contents.count - 1), Data("not a solv file".utf8), Data()] {
            let pool = try SolvPool(architecture: "x86_64")
            let repo = pool.addRepository(name: "fx")
            #expect(throws: SolvError.self) { try repo.addSolv(contents: Data(damaged)) }
            #expect(repo.packageCount == 0)
            #expect(pool.allPackages.isEmpty)
            try repo.addRepomd(path: base.appendingPathComponent("repodata/repomd.xml").path)
            let primary = try #require(repo.repomdEntry("primary"))
            try repo.addRpmmd(path: base.appendingPathComponent(primary.location).path)
            #expect(repo.packageCount == expected)
            #expect(pool.allPackages.count == expected)
        }
    }

    @Test func theRunningLibsolvNamesItsVersion() {
        #expect(SolvRepository.libsolvVersion.split(separator: ".").count == 3)
    }
}
