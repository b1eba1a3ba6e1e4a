import Foundation
import Testing
import TestSupport

/// Composing from the package cache (`--ex-package-cache`) against composing with
/// librpm unpacking every package: the same inputs must give the same tree,
/// object for object (the commits' content checksums), whether the root is
/// hardlinked to the cache (on its filesystem) or copied from it (in
/// memory), and the cache's objects must come out as they went in, whatever
/// the scriptlets wrote.
@Suite(.serialized) struct PackageCacheComposeTests {
    static let packages = ["cache-second", "cache-scriptlets"]
    /// Scriptlets, rpmdb and commit times depend on it: fixed, so that
    /// composes minutes apart are comparable.
    static let environment = ProcessInfo.processInfo.environment.merging(["SOURCE_DATE_EPOCH": "1700000000"]) { $1 }

    static func cacheRepository() throws -> URL {
        let output = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("treeforge-test-fixtures/pkgcache-rpms")
        try Fixtures.buildRepository(specs: Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/pkgcache-specs"), into: output)
        return output
    }

    /// Composes `packages`; returns the commit's tree (`ostree ls -R -C`:
    /// every entry's mode, owner and object, the root's dirtree and dirmeta)
    /// and the install log.
    func compose(_ harness: ComposeHarness, _ packages: [String], _ extra: [String] = [],
                 workdir: URL? = nil) throws -> (tree: String, log: String) {
        let treefile = try harness.treefile(packages, repository: Self.cacheRepository())
        let work = workdir ?? harness.dir.path("work")
        let result = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "tree", treefile.path, "--repo", harness.repo.path,
                                      "--workdir", work.path] + extra, environment: Self.environment)
        try #require(result.status == 0, "compose failed (\(result.status)): \(result.stderr)")
        let commit = try #require(try Oracle.ostreeRev(harness.repo, harness.ref))
        let content = try Oracle.ostree(harness.repo, ["ls", "-R", "-C", commit])
        let log = (try? String(contentsOf: work.appendingPathComponent("install.log"), encoding: .utf8)) ?? ""
        return (content, log)
    }

    @Test func theCacheGivesTheTreeLibrpmUnpacks() throws {
        let unpacked = try compose(ComposeHarness("cache-compose-librpm"), Self.packages)
        #expect(!unpacked.log.contains("package cache"))

        // On the cache's filesystem: hardlinks, scriptlets through the copy-on-write view.
        let linked = try ComposeHarness("cache-compose-linked")
        let cachedir = linked.dir.path("cache")
        let first = try compose(linked, Self.packages, ["--cachedir", cachedir.path, "--ex-package-cache"])
        #expect(first.log.contains("laid out from the package cache"), "\(first.log)")
        #expect(first.tree == unpacked.tree)
        // The %post appended to one file and changed another's mode: the tree has it, the cache does not.
        let cacheRepo = cachedir.appendingPathComponent("pkgcache-repo")
        try Oracle.ostree(cacheRepo, ["fsck"])
        let ref = try #require(try Oracle.ostree(cacheRepo, ["refs"]).split(separator: "\n").first { ref in
            (try? Oracle.ostree(cacheRepo, ["show", String(ref)]))?.contains("cache-scriptlets") == true
        })
        #expect(try Oracle.ostree(cacheRepo, ["cat", String(ref), "/usr/share/cache-scriptlets/edited"]) == "original\n")
        #expect(try Oracle.ostree(linked.repo, ["cat", linked.ref, "/usr/share/cache-scriptlets/edited"]) == "original\nappended by %post\n")
        #expect(Self.entry(first.tree, "/usr/share/cache-scriptlets/chmodded")?.hasPrefix("-00600") == true)
        #expect(Self.entry(first.tree, "/usr/share/cache-scriptlets/posttrans-ran") != nil)
        #expect(Self.entry(first.tree, "/usr/libexec/cache-scriptlets-setuid")?.hasPrefix("-04755") == true)
        #expect(Self.entry(first.tree, "/usr/share/cache-scriptlets/unreadable")?.hasPrefix("-00000") == true)
        #expect(Self.entry(first.tree, "/usr/lib/cache-readonly")?.hasPrefix("d00555") == true)
        // Scriptlets and postprocessing saw the tree through views, both gone.
        #expect(!Self.isMounted(linked.dir.path("work/scriptlet-root")) && !Self.isMounted(linked.dir.path("work/postprocess-root")))
        #expect(Self.isMounted(URL(fileURLWithPath: "/proc")), "the mount check sees a mount")

        // Again from the now full cache, into another repository: the same tree.
        let again = try ComposeHarness("cache-compose-again")
        let second = try compose(again, Self.packages, ["--cachedir", cachedir.path, "--ex-package-cache"], workdir: linked.dir.path("work-again"))
        #expect(second.log.contains("(0 imported now)"), "\(second.log)")
        #expect(second.tree == unpacked.tree)

        // Elsewhere (a root in memory): copies, the same tree.
        let memory = URL(fileURLWithPath: "/dev/shm/treeforge-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: memory) }
        let copied = try compose(try ComposeHarness("cache-compose-copied"), Self.packages, ["--cachedir", cachedir.path, "--ex-package-cache"], workdir: memory)
        #expect(copied.log.contains("laid out from the package cache"))
        #expect(copied.tree == unpacked.tree)
        try Oracle.ostree(cacheRepo, ["fsck"])
    }

    /// Files owned by users no package file creates (cache-payload's
    /// `nobody`): only after the `%pre` scriptlets could their owner be
    /// known, so librpm installs the set, and says why.
    @Test func ownersTheTreeLacksFallBackToLibrpm() throws {
        let packages = ["cache-payload", "cache-second"]
        let unpacked = try compose(ComposeHarness("cache-owners-librpm"), packages)
        let harness = try ComposeHarness("cache-owners")
        let cached = try compose(harness, packages, ["--cachedir", harness.dir.path("cache").path, "--ex-package-cache"])
        #expect(cached.log.contains("installing with librpm, not from the package cache: files belong to user nobody, group nogroup"),
                "\(cached.log)")
        #expect(cached.tree == unpacked.tree)
    }

    static func entry(_ tree: String, _ path: String) -> String? {
        tree.split(separator: "\n").first { $0.hasSuffix(" " + path) }.map(String.init)
    }

    /// Something is mounted on `folder` when its device is not its parent's
    /// (the temporary folder's path may hold `//`, which /proc/self/mounts
    /// would not).
    static func isMounted(_ folder: URL) -> Bool {
        func device(_ path: String) -> UInt64? {
            var status = stat()
            return stat(path, &status) == 0 ? UInt64(status.st_dev) : nil
        }
        guard let own = device(folder.path) else { return false }
        return own != device(folder.deletingLastPathComponent().path)
    }
}
