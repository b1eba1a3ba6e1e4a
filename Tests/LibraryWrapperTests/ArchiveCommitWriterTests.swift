import Foundation
import LibOSTree
import Testing
import TestSupport

/// The parallel archive writer against libostree's own: the same tree must
/// give the same tree checksum, and stock `ostree` must read what it wrote.
@Suite struct ArchiveCommitWriterTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("archive-writer") }

    /// Every kind of entry a compose root holds, and the corners of OSTree's
    /// formats: empty and large files, long link targets (wider variant
    /// offsets), hardlinks, owners, special modes, names that sort by bytes.
    func makeTree() throws -> URL {
        let root = dir.path("root")
        try dir.write("root/usr/bin/tool", "#!/bin/sh\necho hi\n")
        try dir.write("root/usr/lib/empty", "")
        try dir.write("root/usr/lib/same-a", "same content\n")
        try dir.write("root/usr/lib/same-b", "same content\n")
        try dir.write("root/usr/share/é-name", "unicode\n")
        for name in ["a", "a-b", "a.b", "B", "a0", "Z", "_x"] { try dir.write("root/usr/share/sort/\(name)", name) }
        var random = SystemRandomNumberGenerator()
        let large = Data((0..<3_000_000).map { _ in UInt8.random(in: 0...255, using: &random) })
        try large.write(to: root.appendingPathComponent("usr/lib/large.bin"))
        try Data(count: 1_500_000).write(to: root.appendingPathComponent("usr/lib/zeros.bin"))
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("usr/bin/alias").path, withDestinationPath: "tool")
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("usr/lib/long-link").path,
                                  withDestinationPath: String(repeating: "d/", count: 200) + "target")
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("usr/lib/dangling").path, withDestinationPath: "/nowhere")
        try fm.linkItem(atPath: root.appendingPathComponent("usr/bin/tool").path, toPath: root.appendingPathComponent("usr/bin/tool-hardlink").path)
        try fm.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent("var/empty/deep/er"), withIntermediateDirectories: true)
        try dir.write("root/etc/shadow", "root:*:1::::::\n")
        chmod(root.appendingPathComponent("usr/bin/tool").path, 0o4755)
        chmod(root.appendingPathComponent("tmp").path, 0o1777)
        chmod(root.appendingPathComponent("etc/shadow").path, 0o000)
        chmod(root.appendingPathComponent("var/empty").path, 0o700)
        chown(root.appendingPathComponent("usr/share/é-name").path, 1234, 5678)
        lchown(root.appendingPathComponent("usr/bin/alias").path, 99, 98)
        // A few hundred real files, as a root holds them.
        try Command.check(["cp", "-a", "/usr/share/bash-completion", root.appendingPathComponent("usr/share/").path])
        return root
    }

    func commit(_ root: URL, into repoPath: URL, writer: CommitWriter, workers: Int? = nil,
                parent: String? = nil) throws -> (checksum: String, stats: OSTreeRepository.CommitStats) {
        let repo = try OSTreeRepository.openOrCreate(path: repoPath.path, mode: .archive)
        var request = CommitRequest(rootDirectory: root.path, ref: "test/ref", subject: "s", metadata: ["version": .string("1")], parent: parent)
        request.writer = writer
        request.workers = workers
        request.timestamp = 1_700_000_000
        return try repo.commitWithStats(request)
    }

    @Test func writesTheTreeLibOSTreeWrites() throws {
        let root = try makeTree()
        let stock = try commit(root, into: dir.path("stock"), writer: .libostree)
        let parallel = try commit(root, into: dir.path("parallel"), writer: .parallel, workers: 3)
        let stockRepo = try OSTreeRepository.open(path: dir.path("stock").path)
        let parallelRepo = try OSTreeRepository.open(path: dir.path("parallel").path)
        let stockContent = try #require(try stockRepo.commitInfo(stock.checksum).contentChecksum)
        #expect(try parallelRepo.commitInfo(parallel.checksum).contentChecksum == stockContent)
        #expect(try parallelRepo.commitInfo(parallel.checksum).metadata["version"] == .string("1"))

        // Stock ostree reads every object back and re-checksums it.
        try Oracle.ostree(dir.path("parallel"), ["fsck"])
        #expect(try Oracle.ostree(dir.path("parallel"), ["cat", "test/ref", "/usr/lib/same-b"]) == "same content\n")
        let listing = try Oracle.ostree(dir.path("parallel"), ["ls", "-R", "test/ref"])
        #expect(listing == (try Oracle.ostree(dir.path("stock"), ["ls", "-R", "test/ref"])))

        // ostree.sizes: the same objects, types and unpacked sizes; the
        // archived sizes are the objects' files (libdeflate's, not zlib's).
        let stockSizes = try stockRepo.objectSizes(commit: stock.checksum)
        let parallelSizes = try parallelRepo.objectSizes(commit: parallel.checksum)
        #expect(Set(parallelSizes.keys) == Set(stockSizes.keys))
        for (checksum, size) in parallelSizes {
            #expect(size.unpacked == stockSizes[checksum]?.unpacked && size.type == stockSizes[checksum]?.type, "\(checksum)")
            if size.type == 1 {
                let object = dir.path("parallel/objects/\(checksum.prefix(2))/\(checksum.dropFirst(2)).filez")
                let attributes = try FileManager.default.attributesOfItem(atPath: object.path)
                #expect(size.archived == (attributes[.size] as? UInt64), "\(checksum)")
            }
        }
        #expect(parallel.stats.contentObjectsWritten == stock.stats.contentObjectsWritten)
        #expect(parallel.stats.contentObjectsTotal == parallel.stats.contentObjectsWritten)
        // The same dirtrees, dirmetas and one commit, counted by libostree's transaction.
        #expect(parallel.stats.metadataObjectsWritten == stock.stats.metadataObjectsWritten)
        // The writer's scan measures the tree as find(1) does.
        let entries = try Command.check(["sh", "-c", "find '\(root.path)' ! -type d | wc -l"])
        let bytes = try Command.check(["sh", "-c", "find '\(root.path)' -type f -printf '%i %s\\n' | sort -u | awk '{t += $2} END {print t}'"])
        #expect(parallel.stats.treeEntries == Int(entries.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(parallel.stats.treeBytes == UInt64(bytes.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(stock.stats.treeBytes == nil)

        // A pull into a bare-user repository checks out to the same files.
        try Oracle.ostree(dir.path("pulled"), ["init", "--mode=bare-user"])
        try Oracle.ostree(dir.path("pulled"), ["pull-local", dir.path("parallel").path, "test/ref"])
        try Oracle.ostree(dir.path("pulled"), ["fsck"])
        try Oracle.ostree(dir.path("pulled"), ["checkout", "-U", "test/ref", dir.path("checkout").path])
        try Command.check(["diff", "-r", "--no-dereference", root.path, dir.path("checkout").path])
        // and the two commits hold no difference.
        try Oracle.ostree(dir.path("stock"), ["pull-local", dir.path("parallel").path, parallel.checksum])
        #expect(try Oracle.ostree(dir.path("stock"), ["diff", stock.checksum, parallel.checksum]).isEmpty)
    }

    /// Files from `ContentWorker.largeFileSize` (64 MiB) on pass the
    /// large-file gate one at a time, and their worker frees its buffers
    /// after each: the objects must come out whole, a small file read into
    /// the freed buffers after them too, and a large hardlink pair and a
    /// large duplicate must each make one object.
    @Test func largeFilesPassTheGateWhole() throws {
        let root = dir.path("large-root")
        let size = 65 << 20
        try FileManager.default.createDirectory(at: root.appendingPathComponent("usr/lib"), withIntermediateDirectories: true)
        // Incompressible (its deflate output outgrows the input) and all zeros.
        try Command.check(["sh", "-c", "head -c \(size) /dev/urandom > '\(root.path)/usr/lib/random.img'"])
        try Data(count: size).write(to: root.appendingPathComponent("usr/lib/zeros.img"))
        try Command.check(["cp", root.appendingPathComponent("usr/lib/random.img").path, root.appendingPathComponent("usr/lib/random-copy.img").path])
        try FileManager.default.linkItem(atPath: root.appendingPathComponent("usr/lib/zeros.img").path,
                                         toPath: root.appendingPathComponent("usr/lib/zeros-link.img").path)
        for index in 0..<40 { try dir.write("large-root/usr/share/small-\(index)", "small file \(index)\n") }

        let stock = try commit(root, into: dir.path("large-stock"), writer: .libostree)
        let parallel = try commit(root, into: dir.path("large-parallel"), writer: .parallel, workers: 2)
        let stockContent = try OSTreeRepository.open(path: dir.path("large-stock").path).commitInfo(stock.checksum).contentChecksum
        #expect(try OSTreeRepository.open(path: dir.path("large-parallel").path).commitInfo(parallel.checksum).contentChecksum == stockContent)
        // Two large objects and the small files.
        #expect(parallel.stats.contentObjectsWritten == 42)
        #expect(parallel.stats.treeBytes == UInt64(3 * size) + (0..<40).reduce(0) { $0 + UInt64("small file \($1)\n".utf8.count) })
        try Oracle.ostree(dir.path("large-parallel"), ["fsck"])
        try Oracle.ostree(dir.path("large-parallel"), ["checkout", "-U", "test/ref", dir.path("large-checkout").path])
        try Command.check(["diff", "-r", "--no-dereference", root.path, dir.path("large-checkout").path])
    }

    @Test func compressesOnlyWhatTheRepositoryLacks() throws {
        let root = try makeTree()
        let repoPath = dir.path("repo")
        let first = try commit(root, into: repoPath, writer: .parallel)
        #expect(first.stats.contentObjectsWritten > 100)
        let again = try commit(root, into: repoPath, writer: .parallel, parent: first.checksum)
        #expect(again.stats.contentObjectsWritten == 0 && again.stats.contentBytesWritten == 0)
        #expect(again.stats.contentObjectsTotal == first.stats.contentObjectsTotal)

        try dir.write("root/usr/lib/same-b", "changed\n")
        let changed = try commit(root, into: repoPath, writer: .parallel, parent: again.checksum)
        #expect(changed.stats.contentObjectsWritten == 1)
        let repo = try OSTreeRepository.open(path: repoPath.path)
        // Every object of the tree is in the sizes, written now or before.
        #expect(try repo.objectSizes(commit: changed.checksum).values.filter { $0.type == 1 }.count == changed.stats.contentObjectsTotal)
        try Oracle.ostree(repoPath, ["fsck"])
        #expect(try Oracle.ostree(repoPath, ["cat", "test/ref", "/usr/lib/same-b"]) == "changed\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: repoPath.appendingPathComponent("tmp").path)
            .filter { $0.hasPrefix("treeforge-staging") }.isEmpty)
    }

    @Test func aCancelledCommitLeavesTheRefAndNoStaging() throws {
        let root = try makeTree()
        let repoPath = dir.path("repo")
        let repo = try OSTreeRepository.openOrCreate(path: repoPath.path, mode: .archive)
        let cancellable = OSTreeCancellable()
        var request = CommitRequest(rootDirectory: root.path, ref: "test/ref", subject: "s", metadata: [:], parent: nil)
        request.onEntry = { path in if path.hasSuffix("large.bin") { cancellable.cancel() } }
        #expect(throws: OSTreeError.self) { try repo.commitWithStats(request, cancellable: cancellable) }
        #expect(try repo.resolve(ref: "test/ref") == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: repoPath.appendingPathComponent("tmp").path)
            .filter { $0.hasPrefix("treeforge-staging") }.isEmpty)
        try Oracle.ostree(repoPath, ["fsck"])
    }

    @Test func removesTheStagingOfAKilledWriter() throws {
        let root = try makeTree()
        let repoPath = dir.path("repo")
        _ = try OSTreeRepository.openOrCreate(path: repoPath.path, mode: .archive)
        // pid_max is at most 2^22: no process has the first pid.
        try dir.write("repo/tmp/treeforge-staging-999999999-abcdef/0000.filez", "partial")
        try dir.write("repo/tmp/treeforge-staging-\(getpid())-ghijkl/0000.filez", "a live writer's")
        _ = try commit(root, into: repoPath, writer: .parallel)
        let left = try FileManager.default.contentsOfDirectory(atPath: repoPath.appendingPathComponent("tmp").path)
            .filter { $0.hasPrefix("treeforge-staging") }
        #expect(left == ["treeforge-staging-\(getpid())-ghijkl"])
    }

    @Test func refusesWhatOSTreeCannotStore() throws {
        let root = try makeTree()
        #expect(mkfifo(root.appendingPathComponent("usr/lib/fifo").path, 0o644) == 0)
        let error = try #require(throws: OSTreeError.self) { try commit(root, into: dir.path("repo"), writer: .parallel) }
        #expect(error.description.contains("usr/lib/fifo"))
    }
}
