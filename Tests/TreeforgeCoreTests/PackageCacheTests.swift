import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// The package cache's import against what librpm installs: every entry a
/// package's commit holds must be, in the stock `rpm`'s install of the same
/// package committed by the stock `ostree`, the same object (content, mode,
/// owner) or directory metadata.
@Suite struct PackageCacheTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("package-cache") }

    static func cacheRepository() throws -> URL {
        let output = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("treeforge-test-fixtures/pkgcache-rpms")
        try Fixtures.buildRepository(specs: Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/pkgcache-specs"), into: output)
        return output
    }

    static func packages(in repository: URL) throws -> [URL] {
        let folder = repository.appendingPathComponent("Packages")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".rpm") }.sorted()
            .map { folder.appendingPathComponent($0) }
    }

    /// `ostree ls -R -C`, by path: the type and mode, owner, and the
    /// object (files and links) or dirmeta (directories).
    func listing(_ repo: URL, _ rev: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for line in try Oracle.ostree(repo, ["ls", "-R", "-C", rev]).split(separator: "\n") {
            var rest = Substring(line)
            func token() -> Substring {
                rest = rest.drop { $0 == " " }
                let word = rest.prefix { $0 != " " }
                rest = rest.dropFirst(word.count)
                return word
            }
            let mode = token(), uid = token(), gid = token()
            _ = token()  // size
            var object = token()
            if mode.hasPrefix("d") { object = token() }  // the dirmeta, after the dirtree
            var path = String(rest.dropFirst())
            if mode.hasPrefix("l"), let arrow = path.range(of: " -> ") { path = String(path[..<arrow.lowerBound]) }
            out[path] = "\(mode) \(uid):\(gid) \(object)"
        }
        return out
    }

    /// Installs the packages with the stock rpm (no scriptlets, no
    /// dependencies: the payload alone) and commits the root with the stock
    /// ostree, device nodes and FIFOs aside (OSTree cannot store them).
    func stockInstall(_ packages: [URL]) throws -> (repo: URL, ref: String) {
        let root = dir.path("rpm-root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Command.check(["rpm", "--root", root.path, "--dbpath", "/rpmdb", "-i", "--nodeps", "--noscripts", "--notriggers",
                           "--nosignature", "--ignorearch"] + packages.map(\.path))
        try Command.check(["find", root.path, "(", "-type", "c", "-o", "-type", "b", "-o", "-type", "p", ")", "-delete"])
        let repo = dir.path("stock-repo")
        try Oracle.ostree(repo, ["init", "--mode=bare-user"])
        try Oracle.ostree(repo, ["commit", "-b", "stock", "--tree=dir=\(root.path)", "--no-xattrs"])
        return (repo, "stock")
    }

    func expectSameAsStock(_ packages: [URL], cached: [PackageCache.Package], cache: PackageCache) throws {
        let stock = try stockInstall(packages)
        let installed = try listing(stock.repo, stock.ref)
        var compared = 0
        for package in cached {
            let owners = Set(try cache.owners(commit: package.commit).map(\.path))
            let listedFolders = Set(package.directories.map(\.path))
            for (path, entry) in try listing(cache.repositoryURL, package.commit) where path != "/" {
                // A parent the package does not list is 0755 in its commit; in the
                // tree it is what the package listing it says (assembly sets that).
                if entry.hasPrefix("d"), !listedFolders.contains(path) { continue }
                // Where rpm would set another owner, stock rpm here (no
                // passwd in the root) falls back to root too.
                #expect(installed[path] == entry, "\(package.nevra): \(path)\(owners.contains(path) ? " (owner to be set)" : "")")
                compared += 1
            }
        }
        #expect(compared > 0)
    }

    @Test func importsWhatRPMInstalls() throws {
        let packages = try Self.packages(in: Self.cacheRepository())
        let cache = PackageCache(cachedir: dir.path("cache"))
        let cached = try cache.importPackages(packages, workers: 2)
        #expect(cached.map(\.nevra).sorted() == ["cache-payload-1.0-1.noarch", "cache-scriptlets-1.0-1.noarch", "cache-second-2.0-3.noarch"])
        #expect(cached.allSatisfy { $0.imported })
        try expectSameAsStock(packages, cached: cached, cache: cache)
        try Oracle.ostree(cache.repositoryURL, ["fsck"])

        let payload = try #require(cached.first { $0.nevra.hasPrefix("cache-payload") })
        // The owners rpm would set, to be applied in the tree.
        #expect(try cache.owners(commit: payload.commit).sorted { $0.path < $1.path } == [
            .init(path: "/var/lib/cache-payload", user: "nobody", group: "nogroup"),
            .init(path: "/var/lib/cache-payload/owned", user: "nobody", group: "nogroup"),
        ])
        // What assembling a tree needs, kept in the commit: scriptlets, special modes.
        #expect(payload.specialModes == [.init(path: "/usr/lib/cache-payload/hardlink-elsewhere", mode: 0o4755)])
        #expect(payload.scriptlets.isEmpty && !payload.hasTriggers)
        let scripted = try #require(cached.first { $0.nevra.hasPrefix("cache-scriptlets") })
        #expect(scripted.scriptlets == ["%pre", "%post", "%posttrans"])
        #expect(try cache.cachedPackage(forHeader: scripted.headerSHA256) == PackageCache.Package(
            nevra: scripted.nevra, headerSHA256: scripted.headerSHA256, commit: scripted.commit, imported: false,
            scriptlets: scripted.scriptlets, specialModes: scripted.specialModes, directories: scripted.directories))
        // Modes a bare-user object does not hold, to be set on copies.
        #expect(Set(scripted.specialModes.map(\.mode)) == [0o4755, 0o0000, 0o0666])
        let listed = try listing(cache.repositoryURL, payload.commit)
        // %ghost is not in the payload; the device is listed, not stored.
        #expect(listed["/etc/cache-payload.state"] == nil && listed["/usr/share/cache-payload/null"] == nil)
        #expect(listed["/usr/lib/cache-payload/hardlink-elsewhere"]?.hasPrefix("-04755") == true)
        #expect(try Oracle.ostree(cache.repositoryURL, ["cat", payload.commit, "/usr/bin/cache-payload-hardlink"]) == "#!/bin/sh\necho payload\n")
        let show = try Oracle.ostree(cache.repositoryURL, ["show", "--print-metadata-key=treeforge.package.special-files", payload.commit])
        #expect(show.contains("/usr/share/cache-payload/null"))
        // Keyed by the header's digest, as rpm reads it.
        let digest = try RPMHeaderDigest.of(packages.first { $0.lastPathComponent.hasPrefix("cache-payload") }!)
        #expect(payload.headerSHA256 == digest)
        #expect(try Oracle.ostreeRev(cache.repositoryURL, PackageCache.ref(forHeader: digest)) == payload.commit)

        // A second import finds everything cached.
        #expect(try cache.importPackages(packages).allSatisfy { !$0.imported })
    }

    /// The fixture repository's real packages (scriptlets, layouts, device
    /// nodes), as librpm would lay their payloads down.
    @Test func importsTheFixturePackages() throws {
        // Conflicting files between alternatives: rpm refuses them in one root.
        let left = ["fixture-conflicting-", "fixture-editor-b-", "fixture-lib-1.0-", "fixture-user-a-1.0-", "fixture-oldtool-"]
        let packages = try Self.packages(in: Fixtures.repository()).filter { package in
            !left.contains { package.lastPathComponent.hasPrefix($0) }
        }
        let cache = PackageCache(cachedir: dir.path("cache"))
        let cached = try cache.importPackages(packages)
        #expect(cached.count == packages.count)
        try expectSameAsStock(packages, cached: cached, cache: cache)
    }

    @Test func aDamagedPackageIsImportedAgain() throws {
        let packages = try Self.packages(in: Self.cacheRepository())
        let cache = PackageCache(cachedir: dir.path("cache"))
        let first = try cache.importPackages(packages)
        let victim = try #require(first.first { $0.nevra.hasPrefix("cache-second") })
        // Remove one of its content objects (the one only it holds).
        let listed = try listing(cache.repositoryURL, victim.commit)
        let object = try #require(listed["/usr/bin/cache-second"]?.split(separator: " ").last.map(String.init))
        try FileManager.default.removeItem(at: cache.repositoryURL.appendingPathComponent("objects/\(object.prefix(2))/\(object.dropFirst(2)).file"))
        #expect(try cache.cachedPackage(forHeader: victim.headerSHA256) == nil)

        let again = try cache.importPackages(packages)
        #expect(again.first { $0.nevra == victim.nevra }?.imported == true)
        #expect(again.first { $0.nevra != victim.nevra }?.imported == false)
        #expect(again.map(\.commit) == first.map(\.commit))
        try Oracle.ostree(cache.repositoryURL, ["fsck"])
    }

    @Test func aDamagedPackageFileNamesThePackage() throws {
        let source = try #require(try Self.packages(in: Self.cacheRepository()).first)
        let data = try Data(contentsOf: source)
        let cut = dir.path("cut.rpm")
        try data.prefix(data.count - 400).write(to: cut)
        let cache = PackageCache(cachedir: dir.path("cache"))
        let error = try #require(throws: ComposeError.self) { try cache.importPackages([cut]) }
        #expect("\(error)".contains("cache-payload"))
        #expect(try cache.cachedPackage(forHeader: RPMHeaderDigest.of(source)) == nil)
    }
}

/// The header digest of a package, as rpm prints it.
enum RPMHeaderDigest {
    static func of(_ package: URL) throws -> String {
        try Command.check(["rpm", "-qp", "--qf", "%{SHA256HEADER}", package.path])
    }
}

/// Folders several packages list: one metadata for all lays out; two make
/// the order matter, which only librpm knows.
@Suite struct PackageCacheDirectoryTests {
    func package(_ name: String, _ directories: [PackageCache.Directory]) -> PackageCache.Package {
        var package = PackageCache.Package(nevra: name, headerSHA256: "", commit: "", imported: false)
        package.directories = directories
        return package
    }

    @Test func foldersListedAlikeAgree() {
        let shared = PackageCache.Directory(path: "/usr/lib/x", mode: 0o755, user: "root", group: "root")
        #expect(PackageCache.disagreeingDirectories([package("a-1", [shared]), package("b-1", [shared])]).isEmpty)
    }

    @Test func foldersListedWithOtherModesOrOwnersDisagree() {
        let open = PackageCache.Directory(path: "/usr/bin", mode: 0o755, user: "root", group: "root")
        var readOnly = open
        readOnly.mode = 0o555
        var owned = open
        owned.path = "/var/lib/x"
        var ownedByOther = owned
        ownedByOther.user = "nobody"
        let found = PackageCache.disagreeingDirectories([package("bash-5", [open, owned]), package("filesystem-3", [readOnly]),
                                                         package("x-1", [ownedByOther])])
        #expect(found.map(\.path) == ["/usr/bin", "/var/lib/x"])
        #expect(found.first?.packages == ["bash-5", "filesystem-3"])
    }
}
