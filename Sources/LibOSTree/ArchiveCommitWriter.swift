import COSTree
import Foundation
import Glibc
import LibCrypto
import LibDeflate

/// Writes a directory tree into an archive repository the way
/// `ostree_repo_write_directory_to_mtree` does (same content, dirtree and
/// dirmeta objects, so the same tree checksums), but pays for each object once
/// and uses every core:
///
/// - each file is read once, checksummed first (OpenSSL SHA-256), and
///   compressed (libdeflate, raw DEFLATE as archive objects hold it) only
///   when the repository does not hold its object yet;
/// - hardlinked names are read once (one (device, inode), one checksum);
/// - the files are shared out over `workers` threads.
///
/// New content objects are staged in a folder of the repository's `tmp/`,
/// synced, then renamed into `objects/`, so a crash or a cancel never leaves a
/// partly written object under its checksum. Directory objects and the commit
/// go through libostree's transaction as before.
///
/// Blocks: run it on a thread of its own.
struct ArchiveCommitWriter {
    let repository: OSTreeRepository
    let workers: Int
    let compressionLevel: Int
    let onEntry: (@Sendable (String) -> Void)?
    let cancellable: UnsafeMutablePointer<GCancellable>?

    /// The root's dirtree and dirmeta, and what was written.
    struct Output {
        var rootContents: String
        var rootMetadata: String
        var sizes: [String: ObjectSize]
        var stats: OSTreeRepository.CommitStats
    }

    func write(root: String) throws -> Output {
        let scan = try TreeScan(root: root)
        let staging = try StagingFolder(repository: repository)
        defer { staging.remove() }
        let contents = try writeContent(scan, staging: staging)
        if !repository.fsyncDisabled { try staging.sync() }
        try staging.publish()

        var output = Output(rootContents: "", rootMetadata: "", sizes: contents.sizes, stats: contents.stats)
        output.stats.treeBytes = scan.regularFileBytes
        output.stats.treeEntries = scan.entries
        var dirmetas: [DirectoryMetadata: String] = [:]
        let root = try writeDirectory(scan.root, scan: scan, checksums: contents.checksums, dirmetas: &dirmetas, output: &output)
        output.rootContents = root.contents
        output.rootMetadata = root.metadata
        return output
    }

    // MARK: Content objects, in parallel

    private func writeContent(_ scan: TreeScan, staging: StagingFolder) throws -> ContentObjects {
        let shared = SharedProgress(inodes: scan.inodes.count)
        let repositoryFD = repository.directoryFD
        let level = compressionLevel
        let onEntry = self.onEntry
        let cancellable = UncheckedSendable(self.cancellable)
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, scan.inodes.count))) { _ in
            do {
                let worker = try ContentWorker(repositoryFD: repositoryFD, staging: staging, level: level)
                while let index = shared.next() {
                    if g_cancellable_is_cancelled(cancellable.value) != 0 {
                        throw OSTreeError(function: "ArchiveCommitWriter", domain: "g-io-error-quark",
                                          code: Int32(G_IO_ERROR_CANCELLED.rawValue), message: "Operation was cancelled")
                    }
                    let inode = scan.inodes[index]
                    if let onEntry {
                        onEntry(inode.relativePath)
                        inode.otherPaths.forEach(onEntry)
                    }
                    // A file is held whole in memory with its compressed copy:
                    // one large file at a time, its buffers freed after it.
                    let isLarge = inode.size >= ContentWorker.largeFileSize
                    if isLarge { shared.largeFileGate.wait() }
                    defer { if isLarge { worker.releaseBuffers(); shared.largeFileGate.signal() } }
                    let object = try worker.checksum(inode)
                    shared.record(index: index, checksum: object.checksum)
                    guard shared.claim(object.checksum) else { continue }
                    let written = try worker.store(object, for: inode)
                    shared.recordSize(object.checksum, written.size, wrote: written.wrote)
                }
            } catch {
                shared.fail(error)
            }
        }
        return try shared.result()
    }

    // MARK: Directory objects, bottom up

    private func writeDirectory(_ directory: TreeScan.Directory, scan: TreeScan, checksums: [String],
                                dirmetas: inout [DirectoryMetadata: String], output: inout Output) throws -> (contents: String, metadata: String) {
        onEntry?(directory.relativePath)
        let meta = DirectoryMetadata(uid: directory.uid, gid: directory.gid, mode: directory.mode)
        let metaChecksum: String
        if let known = dirmetas[meta] {
            metaChecksum = known
        } else {
            metaChecksum = try writeMetadata(OSTREE_OBJECT_TYPE_DIR_META, meta.makeVariant(), output: &output)
            dirmetas[meta] = metaChecksum
        }
        var subdirectories: [(name: String, contents: String, metadata: String)] = []
        for child in directory.directories {
            let written = try writeDirectory(child, scan: scan, checksums: checksums, dirmetas: &dirmetas, output: &output)
            subdirectories.append((child.name, written.contents, written.metadata))
        }
        let files = directory.files.map { (name: $0.name, checksum: checksums[$0.inode]) }
        let tree = makeDirtreeVariant(files: files, directories: subdirectories)
        let contents = try writeMetadata(OSTREE_OBJECT_TYPE_DIR_TREE, tree, output: &output)
        return (contents, metaChecksum)
    }

    /// Writes a dirtree or dirmeta and records its size; consumes the floating variant.
    private func writeMetadata(_ type: OstreeObjectType, _ floating: OpaquePointer, output: inout Output) throws -> String {
        let (checksum, size) = try repository.writeMetadataObject(type, floating, cancellable: cancellable)
        if output.sizes[checksum] == nil {
            output.sizes[checksum] = ObjectSize(archived: size, unpacked: size, type: UInt8(type.rawValue))
        }
        return checksum
    }
}

extension OSTreeRepository {
    /// Writes a dirtree or dirmeta through the repository's transaction;
    /// consumes the floating variant. Returns its checksum and size.
    func writeMetadataObject(_ type: OstreeObjectType, _ floating: OpaquePointer,
                             cancellable: UnsafeMutablePointer<GCancellable>? = nil) throws -> (checksum: String, size: UInt64) {
        let variant = g_variant_ref_sink(floating)!
        defer { g_variant_unref(variant) }
        var binary: UnsafeMutablePointer<guchar>?
        try gcall("ostree_repo_write_metadata") {
            ostree_repo_write_metadata(raw, type, nil, variant, &binary, cancellable, $0)
        }
        defer { g_free(binary) }
        return (hexString(Array(UnsafeBufferPointer(start: binary!, count: 32))), UInt64(g_variant_get_size(variant)))
    }
}

/// A C pointer handed to worker threads that only pass it back to C.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// One object's entry in a commit's `ostree.sizes`: what a client reads to
/// know how much a pull will download and unpack.
public struct ObjectSize: Sendable, Hashable {
    /// The object's size in an archive repository (compressed).
    public var archived: UInt64
    public var unpacked: UInt64
    /// OstreeObjectType: 1 file, 2 dirtree, 3 dirmeta.
    public var type: UInt8
}

extension OSTreeRepository {
    /// The commit's `ostree.sizes`, by object checksum (empty when the commit has none).
    public func objectSizes(commit checksum: String) throws -> [String: ObjectSize] {
        var commit: OpaquePointer?
        try gcall("ostree_repo_load_variant") { ostree_repo_load_variant(raw, OSTREE_OBJECT_TYPE_COMMIT, checksum, &commit, $0) }
        guard let commit else { return [:] }
        defer { g_variant_unref(commit) }
        let metadata = g_variant_get_child_value(commit, 0)!
        defer { g_variant_unref(metadata) }
        let type = g_variant_type_new("aay")
        defer { g_variant_type_free(type) }
        guard let entries = g_variant_lookup_value(metadata, "ostree.sizes", type) else { return [:] }
        defer { g_variant_unref(entries) }
        var out: [String: ObjectSize] = [:]
        for i in 0..<g_variant_n_children(entries) {
            let entry = g_variant_get_child_value(entries, i)!
            defer { g_variant_unref(entry) }
            var count: gsize = 0
            guard let data = g_variant_get_fixed_array(entry, &count, 1), count > 32 else { continue }
            let bytes = Array(UnsafeRawBufferPointer(start: data, count: Int(count)))
            var offset = 32
            guard let archived = readVarint(bytes, &offset), let unpacked = readVarint(bytes, &offset) else { continue }
            out[hexString(Array(bytes[0..<32]))] = ObjectSize(archived: archived, unpacked: unpacked,
                                                               type: offset < bytes.count ? bytes[offset] : 1)
        }
        return out
    }
}

private func readVarint(_ bytes: [UInt8], _ offset: inout Int) -> UInt64? {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    while offset < bytes.count, shift < 64 {
        let byte = bytes[offset]
        offset += 1
        value |= UInt64(byte & 0x7f) << shift
        if byte & 0x80 == 0 { return value }
        shift += 7
    }
    return nil
}

/// A dirmeta's fields (without xattrs: commits skip them).
struct DirectoryMetadata: Hashable {
    var uid: UInt32, gid: UInt32, mode: UInt32

    /// `(uuua(ayay))`, numbers big-endian as OSTree stores them.
    func makeVariant() -> OpaquePointer {
        let children: [OpaquePointer?] = [
            g_variant_new_uint32(uid.bigEndian), g_variant_new_uint32(gid.bigEndian), g_variant_new_uint32(mode.bigEndian),
            emptyXattrs(),
        ]
        return children.withUnsafeBufferPointer { g_variant_new_tuple($0.baseAddress, 4) }
    }
}

/// `(a(say)a(sayay))`, entries sorted by name bytes as libostree sorts them (strcmp).
func makeDirtreeVariant(files: [(name: String, checksum: String)],
                                directories: [(name: String, contents: String, metadata: String)]) -> OpaquePointer {
    let fileType = g_variant_type_new("(say)")
    let directoryType = g_variant_type_new("(sayay)")
    defer { g_variant_type_free(fileType); g_variant_type_free(directoryType) }
    let fileEntries: [OpaquePointer?] = files.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }.map { file in
        let pair: [OpaquePointer?] = [g_variant_new_string(file.name), checksumVariant(file.checksum)]
        return pair.withUnsafeBufferPointer { g_variant_new_tuple($0.baseAddress, 2) }
    }
    let directoryEntries: [OpaquePointer?] = directories.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }.map { entry in
        let triple: [OpaquePointer?] = [g_variant_new_string(entry.name), checksumVariant(entry.contents), checksumVariant(entry.metadata)]
        return triple.withUnsafeBufferPointer { g_variant_new_tuple($0.baseAddress, 3) }
    }
    let fileArray = fileEntries.withUnsafeBufferPointer { g_variant_new_array(fileType, $0.baseAddress, gsize($0.count)) }
    let directoryArray = directoryEntries.withUnsafeBufferPointer { g_variant_new_array(directoryType, $0.baseAddress, gsize($0.count)) }
    let pair: [OpaquePointer?] = [fileArray, directoryArray]
    return pair.withUnsafeBufferPointer { g_variant_new_tuple($0.baseAddress, 2) }
}

/// A checksum as the 32-byte `ay` OSTree's objects hold.
private func checksumVariant(_ hex: String) -> OpaquePointer {
    byteArrayVariant(checksumBytes(hex))
}

func byteArrayVariant(_ bytes: [UInt8]) -> OpaquePointer {
    let type = g_variant_type_new("y")
    defer { g_variant_type_free(type) }
    return bytes.withUnsafeBytes { g_variant_new_fixed_array(type, $0.baseAddress, gsize(bytes.count), 1) }
}

func checksumBytes(_ hex: String) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(32)
    var high: UInt8?
    for c in hex.utf8 {
        let v: UInt8 = c >= 97 ? c - 87 : c - 48
        if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
    }
    return out
}

func emptyXattrs() -> OpaquePointer {
    let type = g_variant_type_new("(ayay)")
    defer { g_variant_type_free(type) }
    return g_variant_new_array(type, nil, 0)
}

// MARK: - Content object format

/// The header of a content object, length-prefixed as libostree frames it:
/// 4 bytes big-endian length, 4 bytes of zeros, the serialized variant.
/// `withSize` gives the archive object's header `(tuuuusa(ayay))`; without it,
/// the checksummed header `(uuuusa(ayay))`.
func contentHeader(uid: UInt32, gid: UInt32, mode: UInt32, symlinkTarget: String, size: UInt64?) -> [UInt8] {
    var children: [OpaquePointer?] = []
    if let size { children.append(g_variant_new_uint64(guint64(size.bigEndian))) }
    children += [
        g_variant_new_uint32(uid.bigEndian), g_variant_new_uint32(gid.bigEndian), g_variant_new_uint32(mode.bigEndian),
        g_variant_new_uint32(0), g_variant_new_string(symlinkTarget), emptyXattrs(),
    ]
    let variant = g_variant_ref_sink(children.withUnsafeBufferPointer { g_variant_new_tuple($0.baseAddress, gsize($0.count)) })!
    defer { g_variant_unref(variant) }
    let length = Int(g_variant_get_size(variant))
    var out = [UInt8](repeating: 0, count: 8 + length)
    let prefix = UInt32(length).bigEndian
    withUnsafeBytes(of: prefix) { out.replaceSubrange(0..<4, with: $0) }
    out.withUnsafeMutableBytes { g_variant_store(variant, $0.baseAddress! + 8) }
    return out
}

// MARK: - The tree, scanned

/// Every directory and file under a root, read with lstat; hardlinked names
/// share one inode entry.
final class TreeScan: @unchecked Sendable {
    struct Inode {
        var path: String
        /// From the root, with a leading slash: what `onEntry` is told.
        var relativePath: String
        /// The inode's other names (hardlinks), told to `onEntry` too: one
        /// step per name, as libostree's walk makes.
        var otherPaths: [String] = []
        var uid: UInt32, gid: UInt32, mode: UInt32
        var size: UInt64
        var symlinkTarget: String
        var isRegular: Bool { mode & S_IFMT == S_IFREG }
    }

    final class Directory {
        let path: String
        let relativePath: String
        let name: String
        let uid: UInt32, gid: UInt32, mode: UInt32
        var files: [(name: String, inode: Int)] = []
        var directories: [Directory] = []

        init(path: String, relativePath: String, name: String, stat: stat) {
            self.path = path
            self.relativePath = relativePath
            self.name = name
            uid = stat.st_uid
            gid = stat.st_gid
            mode = stat.st_mode
        }
    }

    private(set) var inodes: [Inode] = []
    private(set) var root: Directory!
    /// Names of files and symlinks (each hardlink counted).
    private(set) var entries = 0
    /// Bytes of regular files, each inode once.
    var regularFileBytes: UInt64 { inodes.reduce(0) { $0 + $1.size } }
    private var inodeIndex: [DevIno: Int] = [:]

    private struct DevIno: Hashable { var device: UInt64, inode: UInt64 }

    init(root path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw OSTreeError(function: "lstat", message: "\(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw OSTreeError(function: "lstat", message: "\(path): not a directory")
        }
        root = Directory(path: path, relativePath: "/", name: "", stat: info)
        try scan(root)
    }

    private func scan(_ directory: Directory) throws {
        guard let stream = opendir(directory.path) else {
            throw OSTreeError(function: "opendir", message: "\(directory.path): \(String(cString: strerror(errno)))")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = try withUnsafeBytes(of: entry.pointee.d_name) { raw -> String? in
                let cName = raw.bindMemory(to: CChar.self).baseAddress!
                if strcmp(cName, ".") == 0 || strcmp(cName, "..") == 0 { return nil }
                guard let name = String(validatingCString: cName) else {
                    throw OSTreeError(function: "readdir", message: "\(directory.path): a file name is not valid UTF-8, which OSTree cannot store")
                }
                return name
            }
            if let name { names.append(name) }
        }
        for name in names {
            let path = directory.path + "/" + name
            let relativePath = (directory.relativePath == "/" ? "" : directory.relativePath) + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else {
                throw OSTreeError(function: "lstat", message: "\(path): \(String(cString: strerror(errno)))")
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                let child = Directory(path: path, relativePath: relativePath, name: name, stat: info)
                try scan(child)
                directory.directories.append(child)
            case S_IFREG, S_IFLNK:
                let key = DevIno(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
                let index: Int
                if let known = inodeIndex[key] {
                    index = known
                    inodes[known].otherPaths.append(relativePath)
                } else {
                    index = inodes.count
                    inodeIndex[key] = index
                    inodes.append(Inode(path: path, relativePath: relativePath, uid: info.st_uid, gid: info.st_gid, mode: info.st_mode,
                                        size: info.st_mode & S_IFMT == S_IFREG ? UInt64(info.st_size) : 0,
                                        symlinkTarget: info.st_mode & S_IFMT == S_IFLNK ? try readLink(path) : ""))
                }
                directory.files.append((name, index))
                entries += 1
            default:
                throw OSTreeError(function: "lstat", message: "\(path): not a regular file, symbolic link or directory; OSTree cannot store it")
            }
        }
    }

    private func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { throw OSTreeError(function: "readlink", message: "\(path): \(String(cString: strerror(errno)))") }
        buffer[count] = 0
        guard let target = String(validatingCString: buffer) else {
            throw OSTreeError(function: "readlink", message: "\(path): the link's target is not valid UTF-8, which OSTree cannot store")
        }
        return target
    }
}

// MARK: - Workers

/// One thread's checksummer and compressor, with buffers reused file to file.
private final class ContentWorker {
    let repositoryFD: Int32
    let staging: StagingFolder
    let hasher = SHA256Hasher()
    let compressor: DeflateCompressor
    var content = [UInt8]()
    var compressed = [UInt8]()

    struct Object { var checksum: String; var contentLength: Int }

    /// From this size on, a file goes through the large-file gate.
    static let largeFileSize: UInt64 = 64 << 20

    func releaseBuffers() {
        content = []
        compressed = []
    }

    init(repositoryFD: Int32, staging: StagingFolder, level: Int) throws {
        self.repositoryFD = repositoryFD
        self.staging = staging
        compressor = try DeflateCompressor(level: level)
    }

    /// Reads the file (into `content`) and checksums it as OSTree does.
    func checksum(_ inode: TreeScan.Inode) throws -> Object {
        var length = 0
        if inode.isRegular { length = try read(inode) }
        hasher.update(contentHeader(uid: inode.uid, gid: inode.gid, mode: inode.mode, symlinkTarget: inode.symlinkTarget, size: nil))
        content.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
        return Object(checksum: hexString(hasher.finish()), contentLength: length)
    }

    /// The object's size in the repository, writing it into staging first
    /// when the repository does not hold it.
    func store(_ object: Object, for inode: TreeScan.Inode) throws -> (size: ObjectSize, wrote: Bool) {
        let unpacked = inode.isRegular ? UInt64(object.contentLength) : UInt64(inode.symlinkTarget.utf8.count)
        let relative = "objects/\(object.checksum.prefix(2))/\(object.checksum.dropFirst(2)).filez"
        var existing = stat()
        if fstatat(repositoryFD, relative, &existing, AT_SYMLINK_NOFOLLOW) == 0 {
            return (ObjectSize(archived: UInt64(existing.st_size), unpacked: unpacked, type: 1), false)
        }
        var bytes = contentHeader(uid: inode.uid, gid: inode.gid, mode: inode.mode, symlinkTarget: inode.symlinkTarget,
                                  size: inode.isRegular ? inode.size : 0)
        if inode.isRegular {
            let count = try content.withUnsafeBytes { try compressor.compress(UnsafeRawBufferPointer(rebasing: $0[0..<object.contentLength]), into: &compressed) }
            bytes.append(contentsOf: compressed[0..<count])
        }
        try staging.add(checksum: object.checksum, bytes: bytes)
        return (ObjectSize(archived: UInt64(bytes.count), unpacked: unpacked, type: 1), true)
    }

    private func read(_ inode: TreeScan.Inode) throws -> Int {
        let fd = open(inode.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw OSTreeError(function: "open", message: "\(inode.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let expected = Int(inode.size)
        if content.count < expected + 1 { content = [UInt8](repeating: 0, count: expected + 1) }
        var total = 0
        // One byte more than lstat said: a file that grew since is caught too.
        while total <= expected {
            let count = content.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, expected + 1 - total) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw OSTreeError(function: "read", message: "\(inode.path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            total += count
        }
        guard total == expected else {
            throw OSTreeError(function: "read", message: "\(inode.path): changed while being committed (\(expected) bytes listed, \(total) read)")
        }
        return total
    }
}

/// The work queue and results the workers share.
private final class SharedProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private let count: Int
    private var checksums: [String]
    private var claimed: Set<String> = []
    private var sizes: [String: ObjectSize] = [:]
    private var stats = OSTreeRepository.CommitStats()
    private var failure: Error?
    /// Lets one worker at a time hold a large file (`ContentWorker.largeFileSize`).
    let largeFileGate = DispatchSemaphore(value: 1)

    init(inodes: Int) {
        count = inodes
        checksums = Array(repeating: "", count: inodes)
    }

    func next() -> Int? {
        lock.withLock {
            guard failure == nil, nextIndex < count else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    func record(index: Int, checksum: String) { lock.withLock { checksums[index] = checksum } }

    /// True for the first inode with this content: it alone stores the object.
    func claim(_ checksum: String) -> Bool { lock.withLock { claimed.insert(checksum).inserted } }

    func recordSize(_ checksum: String, _ size: ObjectSize, wrote: Bool) {
        lock.withLock {
            sizes[checksum] = size
            stats.contentObjectsTotal += 1
            if wrote {
                stats.contentObjectsWritten += 1
                stats.contentBytesWritten += size.archived
            }
        }
    }

    func fail(_ error: Error) { lock.withLock { if failure == nil { failure = error } } }

    func result() throws -> ContentObjects {
        try lock.withLock {
            if let failure { throw failure }
            return ContentObjects(checksums: checksums, sizes: sizes, stats: stats)
        }
    }
}

/// What the workers found and wrote.
private struct ContentObjects {
    /// Per inode of the scan.
    var checksums: [String]
    var sizes: [String: ObjectSize]
    var stats: OSTreeRepository.CommitStats
}

// MARK: - Staging

/// New content objects, kept out of `objects/` until they are complete and
/// synced: `tmp/treeforge-staging-<random>/<checksum>.filez`.
private final class StagingFolder: @unchecked Sendable {
    let path: String
    let repositoryPath: String
    private let lock = NSLock()
    private var staged: [String] = []

    static let prefix = "treeforge-staging-"

    init(repository: OSTreeRepository) throws {
        repositoryPath = repository.path
        Self.removeAbandoned(in: repository.path + "/tmp")
        var template = Array("\(repository.path)/tmp/\(Self.prefix)\(getpid())-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw OSTreeError(function: "mkdtemp", message: "\(repository.path)/tmp: \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    func add(checksum: String, bytes: [UInt8]) throws {
        let file = "\(path)/\(checksum).filez"
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OSTreeError(function: "open", message: "\(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw OSTreeError(function: "write", message: "\(file): \(String(cString: strerror(errno)))") }
            offset += count
        }
        lock.withLock { staged.append(checksum) }
    }

    /// Flushes every staged object to disk (one syncfs for all of them).
    func sync() throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0, treeforge_syncfs(fd) == 0 else {
            throw OSTreeError(function: "syncfs", message: "\(path): \(String(cString: strerror(errno)))")
        }
        close(fd)
    }

    /// Moves the staged objects under their checksums.
    func publish() throws {
        for checksum in staged {
            let folder = "\(repositoryPath)/objects/\(checksum.prefix(2))"
            if mkdir(folder, 0o755) != 0 && errno != EEXIST {
                throw OSTreeError(function: "mkdir", message: "\(folder): \(String(cString: strerror(errno)))")
            }
            let target = "\(folder)/\(checksum.dropFirst(2)).filez"
            guard rename("\(path)/\(checksum).filez", target) == 0 else {
                throw OSTreeError(function: "rename", message: "\(target): \(String(cString: strerror(errno)))")
            }
        }
        staged.removeAll()
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Staging folders of writers that were killed (their process is gone):
    /// `tmp/treeforge-staging-<pid>-<random>`. Objects in them were never
    /// renamed into `objects/`, so nothing refers to them.
    static func removeAbandoned(in temporary: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: temporary) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: temporary + "/" + name)
            }
        }
    }
}

extension OSTreeRepository {
    var directoryFD: Int32 { ostree_repo_get_dfd(raw) }
    var fsyncDisabled: Bool { ostree_repo_get_disable_fsync(raw) != 0 }
    var isArchive: Bool { ostree_repo_get_mode(raw) == OSTREE_REPO_MODE_ARCHIVE }

    /// `[archive] zlib-level` from the repository's config (libostree's
    /// default, 6, when unset).
    var archiveCompressionLevel: Int {
        guard let config = ostree_repo_get_config(raw) else { return 6 }
        var error: UnsafeMutablePointer<GError>?
        let level = g_key_file_get_integer(config, "archive", "zlib-level", &error)
        if let error { g_error_free(error); return 6 }
        return (1...9).contains(level) ? Int(level) : 6
    }
}

/// `ostree.sizes` (`aay`, floating): per object, its checksum's bytes, the
/// archived and unpacked sizes as varints, and its type; sorted by checksum.
func sizesVariant(_ sizes: [String: ObjectSize]) -> OpaquePointer {
    let entries: [OpaquePointer?] = sizes.keys.sorted().map { checksum in
        let size = sizes[checksum]!
        var entry = checksumBytes(checksum)
        appendVarint(size.archived, to: &entry)
        appendVarint(size.unpacked, to: &entry)
        entry.append(size.type)
        return byteArrayVariant(entry)
    }
    let type = g_variant_type_new("ay")
    defer { g_variant_type_free(type) }
    return entries.withUnsafeBufferPointer { g_variant_new_array(type, $0.baseAddress, gsize($0.count)) }
}

private func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
    var rest = value
    while rest >= 0x80 {
        bytes.append(UInt8(rest & 0x7f) | 0x80)
        rest >>= 7
    }
    bytes.append(UInt8(rest))
}
