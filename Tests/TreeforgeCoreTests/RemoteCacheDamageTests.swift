import Foundation
import LibSolv
import Testing
import TestSupport
@testable import TreeforgeCore

/// The http cache (`<cachedir>/repos/<id>/`) damaged for real: a damaged
/// file is fetched again, never used; with `--cache-only` it is an error
/// naming the file and what to do.
@Suite(.serialized) struct RemoteCacheDamageTests {
    let dir: TemporaryDirectory
    let server: StaticHTTPServer
    let cache: URL
    let treefile: Treefile

    init() throws {
        dir = try TemporaryDirectory("remote-damage")
        server = try StaticHTTPServer(serving: try Fixtures.repository())
        cache = dir.path("cache")
        try dir.write("tf/remote.repo", "[fixtures]\nbaseurl=\(server.url.absoluteString)\n")
        try dir.write("tf/treefile.yaml", "ref: r\nrepos: [fixtures]\npackages: [fixture-app, fixture-oldtool]\n")
        treefile = try TreefileLoader(basearch: "x86_64").load(dir.path("tf/treefile.yaml"))
    }

    var online: RepositoryAccess { RepositoryAccess(cachedir: cache) }
    var offline: RepositoryAccess { RepositoryAccess(cachedir: cache, cacheOnly: true) }
    var cachedRepo: URL { cache.appendingPathComponent("repos/fixtures") }

    func resolve(_ access: RepositoryAccess) throws -> ResolvedSet {
        try Resolver(basearch: "x86_64", access: access).resolve(treefile)
    }

    /// Fills the cache as `--download-only` would.
    func fill() throws -> ResolvedSet {
        let set = try resolve(online)
        _ = try PackageFetcher(access: online).run(set, in: .quiet)
        return set
    }

    /// Cuts the file to a fraction of its size; returns the new size.
    @discardableResult
    func truncate(_ file: URL, to fraction: Double = 0.5) throws -> Int {
        let bytes = try Data(contentsOf: file)
        let kept = bytes.prefix(Int(Double(bytes.count) * fraction))
        try kept.write(to: file)
        return kept.count
    }

    func cachedPrimary() throws -> URL {
        let repodata = cachedRepo.appendingPathComponent("repodata")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: repodata.path).first { $0.hasSuffix("-primary.xml.gz") })
        return repodata.appendingPathComponent(name)
    }

    @Test func aTruncatedPrimaryIsFetchedAgainOrNamedWithCacheOnly() throws {
        let expected = try fill()
        let primary = try cachedPrimary()
        let good = try Data(contentsOf: primary)
        // Without the .solv cache, the resolve has to read primary.xml.gz.
        try FileManager.default.removeItem(at: cache.appendingPathComponent("solv"))
        try truncate(primary)

        #expect(try resolve(online).packages == expected.packages)
        #expect(try Data(contentsOf: primary) == good)

        try FileManager.default.removeItem(at: cache.appendingPathComponent("solv"))
        let size = try truncate(primary)
        let error = try #require(throws: ComposeError.self) { try resolve(offline) }
        #expect(error.stage == .resolve)
        #expect(error.subject == "repo fixtures")
        #expect(error.message == "--cache-only: the cached copy \(primary.path) of repo fixtures is damaged (it is \(size) bytes, expected \(good.count): truncated); run without --cache-only to fetch it again, or refill the cache with --download-only")
    }

    @Test func aTruncatedRPMIsFetchedAgainOrNamedWithCacheOnly() throws {
        let set = try fill()
        let package = try #require(set.packages.first { $0.name == "fixture-sh" })
        let rpm = URL(fileURLWithPath: package.path)
        let good = try Data(contentsOf: rpm)
        try truncate(rpm, to: 0.1)

        _ = try PackageFetcher(access: online).run(set, in: .quiet)
        #expect(try Data(contentsOf: rpm) == good)

        let size = try truncate(rpm, to: 0.1)
        let error = try #require(throws: ComposeError.self) { _ = try PackageFetcher(access: offline).run(set, in: .quiet) }
        #expect(error.stage == .download)
        #expect(error.subject == "fixture-sh-1.0-1.x86_64")
        #expect(error.message.hasPrefix("--cache-only: the cached copy \(rpm.path) of repo fixtures is damaged (it is \(size) bytes, expected \(good.count): truncated)"))
        #expect(error.message.hasSuffix("run without --cache-only to fetch it again, or refill the cache with --download-only"))
    }

    /// Same size, other bytes: only the checksum can tell.
    @Test func aCorruptRPMOfTheRightSizeIsFetchedAgain() throws {
        let set = try fill()
        let package = try #require(set.packages.first { $0.name == "fixture-app" })
        let rpm = URL(fileURLWithPath: package.path)
        let good = try Data(contentsOf: rpm)
        var flipped = good
        for i in (good.count - 200)..<(good.count - 100) { flipped[i] ^= 0xff }
        try flipped.write(to: rpm)
        let error = try #require(throws: ComposeError.self) { _ = try PackageFetcher(access: offline).run(set, in: .quiet) }
        #expect(error.message.contains("is damaged (sha256 is \(Checksum.sha256.hex(of: flipped)), expected \(try #require(package.checksum)))"))
        _ = try PackageFetcher(access: online).run(set, in: .quiet)
        #expect(try Data(contentsOf: rpm) == good)
    }

    @Test(arguments: [0.0, 0.3, 0.9])
    func aTruncatedRepomdWithCacheOnlyIsAnErrorSayingWhatToDo(_ fraction: Double) throws {
        _ = try fill()
        let repomd = cachedRepo.appendingPathComponent("repodata/repomd.xml")
        try truncate(repomd, to: fraction)
        let error = try #require(throws: ComposeError.self) { try resolve(offline) }
        #expect(error.stage == .resolve)
        #expect(error.subject == "repo fixtures")
        #expect(error.message.hasPrefix("the cached repomd.xml \(repomd.path) is truncated or corrupt ("), "\(error)")
        #expect(error.message.hasSuffix("--cache-only cannot fetch it again: run without --cache-only, or refill the cache with --download-only"))
        // With the network, repomd.xml is fetched afresh every time anyway.
        #expect(try resolve(online).nevras == Fixtures.defaultSet)
    }

    /// What a killed download leaves (`.part` files, under the old fixed
    /// name or a name of its own) is never taken for the file.
    @Test func aLeftoverPartFileIsNeverUsed() throws {
        let set = try fill()
        let package = try #require(set.packages.first { $0.name == "fixture-lib" })
        let rpm = URL(fileURLWithPath: package.path)
        let good = try Data(contentsOf: rpm)
        try FileManager.default.removeItem(at: rpm)
        let legacy = rpm.appendingPathExtension("part")
        let unique = AtomicFile.temporaryFile(beside: rpm)
        try good.prefix(good.count / 2).write(to: legacy)
        try good.prefix(good.count / 3).write(to: unique)

        let error = try #require(throws: ComposeError.self) { _ = try PackageFetcher(access: offline).run(set, in: .quiet) }
        #expect(error.message == "--cache-only: \(rpm.path) of repo fixtures is not in the cache (run without --cache-only to fetch it, or fill the cache with --download-only)")

        _ = try PackageFetcher(access: online).run(set, in: .quiet)
        #expect(try Data(contentsOf: rpm) == good)
        #expect(!FileManager.default.fileExists(atPath: legacy.path))
        // Another writer's temporary file is not ours to remove; ours are all gone.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: rpm.deletingLastPathComponent().path).filter { $0.contains(".part") }
        #expect(leftovers == [unique.lastPathComponent])
    }

    /// URLSession keeps a response's body in the temporary folder: a 404's
    /// error page must not stay there (treeforge run with a TMPDIR of its own).
    @Test func aFailedDownloadLeavesNothingInTheTemporaryFolder() throws {
        let temporary = dir.path("tmp")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        try dir.write("missing/remote.repo", "[fixtures]\nbaseurl=\(server.url.absoluteString)no-such-repo/\n")
        try dir.write("missing/treefile.yaml", "ref: r\nrepos: [fixtures]\npackages: [fixture-app]\n")
        let result = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "tree", dir.path("missing/treefile.yaml").path,
                                      "--dry-run", "--cachedir", cache.path], environment: ["TMPDIR": temporary.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("HTTP status 404 (1 attempt)"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path) == [])
    }

    @Test func downloadsLeaveNoTemporaryFiles() throws {
        _ = try fill()
        let files = FileManager.default.enumerator(atPath: cachedRepo.path)?.allObjects as? [String] ?? []
        #expect(!files.isEmpty)
        #expect(files.filter { $0.contains(".part") }.isEmpty)
    }
}
