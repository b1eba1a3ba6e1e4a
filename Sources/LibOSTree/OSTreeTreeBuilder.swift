import COSTree
import Foundation

/// Writes one commit from entries handed over one at a time, not from a
/// folder on disk: what the package cache makes of each RPM's payload, read
/// straight from the package without unpacking it anywhere.
///
/// Content objects are written as they come (into the repository's own
/// transaction, so a builder dropped before `commit` leaves nothing behind);
/// the dirtrees and dirmetas are built bottom-up at the end, as libostree's
/// mutable tree does, so the same entries give the same tree checksum as a
/// folder holding them committed by `ostree commit` (without xattrs).
///
/// One builder per repository object at a time: a transaction is the
/// repository object's. Blocks; not for the cooperative pool.
public final class OSTreeTreeBuilder {
    private let repository: OSTreeRepository
    private let root = Node()
    private var finished = false
    private var dirmetas: [DirectoryMetadata: String] = [:]

    /// Directories not given with `addDirectory` (a package's parents such as
    /// `/usr`): root-owned, 0755, as rpm creates missing parents.
    public static let implicitDirectoryMode: UInt32 = directoryType | 0o755

    // S_IFDIR and S_IFREG spelled out: Glibc's and GLib's headers both export them here.
    static let directoryType: UInt32 = 0o040000
    static let regularType: UInt32 = 0o100000

    private final class Node {
        var metadata: DirectoryMetadata?
        var files: [String: String] = [:]
        var directories: [String: Node] = [:]
    }

    public init(repository: OSTreeRepository) throws {
        self.repository = repository
        try gcall("ostree_repo_prepare_transaction") { ostree_repo_prepare_transaction(repository.raw, nil, nil, $0) }
    }

    deinit {
        if !finished { _ = ostree_repo_abort_transaction(repository.raw, nil, nil) }
    }

    /// A directory's owner and mode (`mode` with or without the type bits).
    public func addDirectory(_ path: String, uid: UInt32, gid: UInt32, mode: UInt32) throws {
        let components = try Self.split(path)
        var node = root
        for (index, name) in components.enumerated() {
            node = try child(of: node, named: name, at: components[...index])
        }
        node.metadata = DirectoryMetadata(uid: uid, gid: gid, mode: Self.directoryType | (mode & 0o7777))
    }

    /// Writes a regular file's content object (unless the repository holds
    /// it) and places it at `path`. Returns the object's checksum.
    @discardableResult
    public func addFile(_ path: String, uid: UInt32, gid: UInt32, mode: UInt32, contents: UnsafeRawBufferPointer) throws -> String {
        let (parent, name) = try parentNode(of: path)
        var written: UnsafeMutablePointer<CChar>?
        try gcall("ostree_repo_write_regfile_inline") {
            written = ostree_repo_write_regfile_inline(repository.raw, nil, uid, gid, Self.regularType | (mode & 0o7777), nil,
                                                       contents.baseAddress?.assumingMemoryBound(to: UInt8.self), gsize(contents.count), nil, $0)
            return written == nil ? 0 : 1
        }
        defer { g_free(written) }
        let checksum = String(cString: written!)
        try place(checksum, named: name, in: parent, path: path)
        return checksum
    }

    /// Writes a symbolic link's content object and places it at `path`.
    @discardableResult
    public func addSymlink(_ path: String, uid: UInt32, gid: UInt32, target: String) throws -> String {
        let (parent, name) = try parentNode(of: path)
        var written: UnsafeMutablePointer<CChar>?
        try gcall("ostree_repo_write_symlink") {
            written = ostree_repo_write_symlink(repository.raw, nil, uid, gid, nil, target, nil, $0)
            return written == nil ? 0 : 1
        }
        defer { g_free(written) }
        let checksum = String(cString: written!)
        try place(checksum, named: name, in: parent, path: path)
        return checksum
    }

    /// Places an object already written (a hardlink's other names) at `path`.
    public func addObject(_ path: String, checksum: String) throws {
        let (parent, name) = try parentNode(of: path)
        try place(checksum, named: name, in: parent, path: path)
    }

    /// Writes the directories and the commit, points `ref` at it (when
    /// given) and commits the transaction. Returns the commit's checksum.
    public func commit(ref: String?, subject: String, metadata: [String: CommitMetadataValue], timestamp: UInt64) throws -> String {
        let commit = try writeCommit(ref: ref, subject: subject, metadata: metadata, timestamp: timestamp)
        try finish()
        return commit
    }

    /// The first half of `commit`: every object is written into the
    /// transaction's staging folder, nothing is in the repository yet.
    /// `finish` moves them in. Between the two a caller with fsync disabled
    /// syncs the filesystem once for many builders.
    public func writeCommit(ref: String?, subject: String, metadata: [String: CommitMetadataValue], timestamp: UInt64) throws -> String {
        precondition(!finished, "the builder already committed")
        let tree = try writeDirectory(root)
        let mtree = ostree_mutable_tree_new_from_checksum(repository.raw, tree.contents, tree.metadata)!
        defer { g_object_unref(UnsafeMutableRawPointer(mtree)) }
        var file: OpaquePointer?
        try gcall("ostree_repo_write_mtree") { ostree_repo_write_mtree(repository.raw, mtree, &file, nil, $0) }
        defer { g_object_unref(UnsafeMutableRawPointer(file)) }
        let variant = bigEndian(makeVardict(metadata))
        defer { g_variant_unref(variant) }
        var checksum: UnsafeMutablePointer<CChar>?
        try gcall("ostree_repo_write_commit_with_time") {
            ostree_repo_write_commit_with_time(repository.raw, nil, subject, nil, variant, file, guint64(timestamp), &checksum, nil, $0)
        }
        defer { g_free(checksum) }
        let commit = String(cString: checksum!)
        if let ref { ostree_repo_transaction_set_ref(repository.raw, nil, ref, commit) }
        return commit
    }

    /// Commits the transaction: the staged objects move into the
    /// repository, then the ref.
    public func finish() throws {
        precondition(!finished, "the builder already committed")
        try gcall("ostree_repo_commit_transaction") { ostree_repo_commit_transaction(repository.raw, nil, nil, $0) }
        finished = true
    }

    // MARK: The tree in memory

    private static func split(_ path: String) throws -> [String] {
        let components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !components.contains(where: { $0 == "." || $0 == ".." }) else {
            throw OSTreeError(function: "OSTreeTreeBuilder", message: "\(path): a path with . or .. in it")
        }
        return components
    }

    private func child(of node: Node, named name: String, at path: ArraySlice<String>) throws -> Node {
        if let existing = node.directories[name] { return existing }
        guard node.files[name] == nil else {
            throw OSTreeError(function: "OSTreeTreeBuilder", message: "/\(path.joined(separator: "/")): both a file and a directory")
        }
        let made = Node()
        node.directories[name] = made
        return made
    }

    private func parentNode(of path: String) throws -> (Node, String) {
        let components = try Self.split(path)
        guard let name = components.last else {
            throw OSTreeError(function: "OSTreeTreeBuilder", message: "\(path): the root is a directory, not a file")
        }
        var node = root
        for index in components.indices.dropLast() {
            node = try child(of: node, named: components[index], at: components[...index])
        }
        return (node, name)
    }

    private func place(_ checksum: String, named name: String, in parent: Node, path: String) throws {
        guard parent.directories[name] == nil else {
            throw OSTreeError(function: "OSTreeTreeBuilder", message: "\(path): both a file and a directory")
        }
        parent.files[name] = checksum
    }

    private func writeDirectory(_ node: Node) throws -> (contents: String, metadata: String) {
        var subdirectories: [(name: String, contents: String, metadata: String)] = []
        for (name, child) in node.directories {
            let written = try writeDirectory(child)
            subdirectories.append((name, written.contents, written.metadata))
        }
        let meta = node.metadata ?? DirectoryMetadata(uid: 0, gid: 0, mode: Self.implicitDirectoryMode)
        // Most directories share a few owner/mode combinations: write each once.
        let metadata: String
        if let known = dirmetas[meta] {
            metadata = known
        } else {
            metadata = try repository.writeMetadataObject(OSTREE_OBJECT_TYPE_DIR_META, meta.makeVariant()).checksum
            dirmetas[meta] = metadata
        }
        let files = node.files.map { (name: $0.key, checksum: $0.value) }
        let contents = try repository.writeMetadataObject(OSTREE_OBJECT_TYPE_DIR_TREE, makeDirtreeVariant(files: files, directories: subdirectories)).checksum
        return (contents, metadata)
    }
}
