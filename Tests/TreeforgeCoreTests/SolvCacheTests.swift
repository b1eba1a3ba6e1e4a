import Foundation
import LibSolv
import Testing
import TestSupport
@testable import TreeforgeCore

extension RecordedEvents {
    /// The warnings among the events, in order.
    var warnings: [String] { events.compactMap { if case .warning(let message) = $0 { message } else { nil } } }
}

extension SolvCacheDamage {
    /// What the warning gives as the reason.
    var reason: String {
        switch self {
        case .truncated: "truncated"
        case .flippedBytes: "corrupt"
        case .zeroBytes: "it is empty"
        case .otherRepository: "it is the cache of repo other"
        }
    }
}

@Suite struct SolvCacheTests {
    let dir: TemporaryDirectory
    let cache: URL
    let treefile: Treefile
    let otherTreefile: Treefile

    init() throws {
        dir = try TemporaryDirectory("solvcache")
        cache = dir.path("cache")
        treefile = try TreefileLoader().load(FixtureTreefile.write(packages: Fixtures.defaultRequest, repository: Fixtures.repository(),
                                                                   in: dir.path("tf")))
        otherTreefile = try TreefileLoader().load(FixtureTreefile.write(
            packages: ["fixture-sh"], repository: SolvCacheDamage.smallRepository(in: dir.path("small-repo")),
            repoID: "other", in: dir.path("other")))
    }

    var resolver: Resolver { Resolver(basearch: "x86_64", cachedir: cache) }

    func cacheFile(_ repo: String) throws -> URL { try SolvCacheDamage.cacheFile(of: repo, in: cache) }

    @Test(arguments: SolvCacheDamage.allCases)
    func aDamagedCacheFileIsDiscardedAndWrittenAgain(_ damage: SolvCacheDamage) throws {
        let uncached = try Resolver(basearch: "x86_64").resolve(treefile)
        _ = try resolver.resolve(treefile)
        _ = try resolver.resolve(otherTreefile)
        let file = try cacheFile("fixtures")
        let good = try Data(contentsOf: file)
        try damage.apply(to: file, other: try cacheFile("other"))

        let events = RecordedEvents()
        let set = try resolver.resolve(treefile, events: events)
        #expect(set.packages == uncached.packages)
        #expect(set.repos == uncached.repos)
        #expect(events.warnings.count == 1)
        let warning = try #require(events.warnings.first)
        #expect(warning.hasPrefix("repo fixtures: discarded a damaged metadata cache file \(file.path) ("))
        #expect(warning.contains(damage.reason), "\(warning)")
        #expect(warning.hasSuffix("re-parsing the repository's XML metadata"))

        // Written again, whole: the next resolve reads it without a word.
        #expect(try Data(contentsOf: file) == good)
        let again = RecordedEvents()
        #expect(try resolver.resolve(treefile, events: again).packages == uncached.packages)
        #expect(again.warnings.isEmpty)
    }

    /// A header that tells the truth about a payload libsolv cannot read:
    /// the check passes, libsolv fails part-way through, after adding some
    /// packages. None of them may stay in the pool.
    @Test func aCacheFileLibsolvRefusesAfterTheCheckLeavesNoPackagesBehind() throws {
        let uncached = try Resolver(basearch: "x86_64").resolve(treefile)
        _ = try resolver.resolve(treefile)
        let file = try cacheFile("fixtures")
        let bytes = try Data(contentsOf: file)
        let headerEnd = bytes.range(of: Data("\n\n".utf8))!.upperBound
        // Its last byte gone: libsolv has added every package when it fails.
        let payload = bytes[headerEnd...].dropLast()
        let header = String(decoding: bytes[..<headerEnd], as: UTF8.self).split(separator: "\n").map { line in
            if line.hasPrefix("size ") { return "size \(payload.count)" }
            if line.hasPrefix("sha256 ") { return "sha256 \(Checksum.sha256.hex(of: payload))" }
            return String(line)
        }
        try (Data((header.joined(separator: "\n") + "\n\n").utf8) + payload).write(to: file)
        #expect(SolvCacheFile(url: file, repoID: "fixtures", key: String(file.deletingPathExtension().lastPathComponent.dropFirst("fixtures-".count)))
            .read() == .usable(Data(payload)))

        let events = RecordedEvents()
        let set = try resolver.resolve(treefile, events: events)
        #expect(set.packages == uncached.packages)
        #expect(set.repos == uncached.repos)
        #expect(set.repos.first?.packageCount == uncached.repos.first?.packageCount)
        #expect(events.warnings.count == 1)
        #expect(events.warnings.first?.contains("(libsolv could not read it: ") == true, "\(events.warnings)")
        #expect(try Data(contentsOf: file) == bytes)
    }

    @Test func theHeaderSaysWhatTheFileIsTheCacheOf() throws {
        _ = try resolver.resolve(treefile)
        let file = try cacheFile("fixtures")
        let key = try Checksum.sha256.hex(ofFileAt: Fixtures.repository().appendingPathComponent("repodata/repomd.xml").path)
        #expect(file.lastPathComponent == "fixtures-\(key).solv")
        let contents = try Data(contentsOf: file)
        let header = String(decoding: contents[..<contents.range(of: Data("\n\n".utf8))!.lowerBound], as: UTF8.self)
        let lines = header.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines[0] == "treeforge solv cache 1")
        #expect(lines[1] == "repo fixtures")
        #expect(lines[2] == "key \(key)")
        #expect(lines[3] == "libsolv \(SolvRepository.libsolvVersion)")
        let payload = contents[(contents.range(of: Data("\n\n".utf8))!.upperBound)...]
        #expect(lines[4] == "size \(payload.count)")
        #expect(lines[5] == "sha256 \(Checksum.sha256.hex(of: payload))")
        #expect(payload.starts(with: Data("SOLV".utf8)))
        // Nothing but the cache file stays in the folder (no temporary file).
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == [file.lastPathComponent])
    }

    /// A cache file another libsolv wrote is not read by this one (its
    /// format is libsolv's own and may change between versions).
    @Test func aFileOfAnotherLibsolvIsParsedAgain() throws {
        _ = try resolver.resolve(treefile)
        let file = try cacheFile("fixtures")
        let text = try Data(contentsOf: file)
        let replaced = String(decoding: text.prefix(400), as: UTF8.self)
            .replacingOccurrences(of: "libsolv \(SolvRepository.libsolvVersion)\n", with: "libsolv 0.6.0\n")
        try (Data(replaced.utf8) + text.dropFirst(400)).write(to: file)
        let events = RecordedEvents()
        #expect(try resolver.resolve(treefile, events: events).nevras == Fixtures.defaultSet)
        #expect(events.warnings.first?.contains("written by libsolv 0.6.0, this is \(SolvRepository.libsolvVersion)") == true)
    }

    @Test func aCacheThatCannotBeWrittenIsAWarningNotAFailure() throws {
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        // A file where the solv folder should be: nothing can be written below it.
        try Data("in the way".utf8).write(to: cache.appendingPathComponent("solv"))
        let events = RecordedEvents()
        #expect(try resolver.resolve(treefile, events: events).nevras == Fixtures.defaultSet)
        #expect(events.warnings.count == 1)
        #expect(events.warnings.first?.contains("cannot write the metadata cache file") == true)
    }
}
