import COSTree
import Foundation

/// What to write as one commit of a directory tree.
public struct CommitRequest: Sendable {
    public var rootDirectory: String
    public var ref: String
    /// False writes the commit without moving the ref (`--write-commitid-to`).
    public var moveRef = true
    public var subject: String
    public var metadata: [String: CommitMetadataValue]
    /// The parent commit; nil starts a new history.
    public var parent: String?
    /// The commit's timestamp (seconds since the epoch); nil: now.
    public var timestamp: UInt64?
    /// Sign the commit with this GPG key before the ref moves: a missing or
    /// unusable key aborts the transaction.
    public var gpgKey: GPGKey?
    /// Metadata kept beside the commit (detached), not in it: it can change
    /// without changing the commit checksum.
    public var detachedMetadata: [String: CommitMetadataValue] = [:]
    /// Called with each file and folder's path as libostree reaches it (on
    /// the committing thread): progress, and fault injection in tests.
    public var onEntry: (@Sendable (_ path: String) -> Void)?
    /// Who writes the content objects (archive repositories; other modes
    /// always use libostree's own writer).
    public var writer = CommitWriter.parallel
    /// Threads for checksumming and compressing (the parallel writer); nil: one per core.
    public var workers: Int?

    public init(rootDirectory: String, ref: String, subject: String,
                metadata: [String: CommitMetadataValue], parent: String?) {
        self.rootDirectory = rootDirectory
        self.ref = ref
        self.subject = subject
        self.metadata = metadata
        self.parent = parent
    }
}

/// How a commit's content objects are written.
public enum CommitWriter: String, Sendable, CaseIterable {
    /// treeforge's writer (`ArchiveCommitWriter`): checksum first, compress
    /// only missing objects with libdeflate, on every core.
    case parallel
    /// `ostree_repo_write_directory_to_mtree`: every file zlib-compressed on
    /// one thread (what `ostree commit` does).
    case libostree
}

extension OSTreeRepository {
    /// What a commit transaction wrote.
    public struct CommitStats: Sendable {
        public var metadataObjectsTotal = 0
        public var metadataObjectsWritten = 0
        public var contentObjectsTotal = 0
        public var contentObjectsWritten = 0
        public var contentBytesWritten: UInt64 = 0
        /// The committed tree's regular-file bytes (each inode once) and its
        /// non-directory entries, when the writer scanned the tree itself
        /// (the parallel writer); nil for libostree's walk.
        public var treeBytes: UInt64?
        public var treeEntries: Int?
    }

    /// Writes the directory as a commit and moves the ref to it, all in one
    /// repository transaction: on any failure the transaction is aborted and
    /// the ref keeps its old value.
    ///
    /// Blocks for as long as writing every object takes.
    public func commit(_ request: CommitRequest) throws -> String {
        try commitWithStats(request).checksum
    }

    /// `cancellable` stops the write at libostree's next check; the
    /// transaction is then aborted and the ref left alone.
    public func commitWithStats(_ request: CommitRequest, cancellable: OSTreeCancellable? = nil) throws -> (checksum: String, stats: CommitStats) {
        let cancellable = cancellable?.raw
        try gcall("ostree_repo_prepare_transaction") { ostree_repo_prepare_transaction(raw, nil, cancellable, $0) }
        do {
            var written = CommitStats()
            let checksum = try writeCommit(request, cancellable: cancellable, stats: &written)
            if !request.detachedMetadata.isEmpty {
                let detached = bigEndian(makeVardict(request.detachedMetadata))
                defer { g_variant_unref(detached) }
                try gcall("ostree_repo_write_commit_detached_metadata") {
                    ostree_repo_write_commit_detached_metadata(raw, checksum, detached, nil, $0)
                }
            }
            // Signing after the detached metadata: the signature is added to it.
            if let key = request.gpgKey { try sign(commit: checksum, with: key) }
            if request.moveRef { ostree_repo_transaction_set_ref(raw, nil, request.ref, checksum) }
            var stats = OstreeRepoTransactionStats()
            // The point of no return: a cancel from here on is too late, so
            // the transaction (renames, then the ref) is never cut halfway.
            try gcall("g_cancellable_set_error_if_cancelled") { g_cancellable_set_error_if_cancelled(cancellable, $0) == 0 ? 1 : 0 }
            try gcall("ostree_repo_commit_transaction") { ostree_repo_commit_transaction(raw, &stats, nil, $0) }
            // Every metadata object goes through libostree's transaction
            // (the parallel writer hands it dirtrees and dirmetas too), so its
            // counts are complete; content objects the parallel writer wrote
            // itself did not, and are added to libostree's.
            written.metadataObjectsTotal = Int(stats.metadata_objects_total)
            written.metadataObjectsWritten = Int(stats.metadata_objects_written)
            written.contentObjectsTotal += Int(stats.content_objects_total)
            written.contentObjectsWritten += Int(stats.content_objects_written)
            written.contentBytesWritten += UInt64(stats.content_bytes_written)
            return (checksum, written)
        } catch {
            _ = ostree_repo_abort_transaction(raw, nil, nil)
            throw error
        }
    }

    private func writeCommit(_ request: CommitRequest, cancellable: UnsafeMutablePointer<GCancellable>?,
                             stats: inout CommitStats) throws -> String {
        var extraMetadata: [String: OpaquePointer] = [:]
        let root: OpaquePointer
        if request.writer == .parallel && isArchive {
            let writer = ArchiveCommitWriter(
                repository: self, workers: request.workers ?? ProcessInfo.processInfo.activeProcessorCount,
                compressionLevel: archiveCompressionLevel, onEntry: request.onEntry, cancellable: cancellable)
            let output = try writer.write(root: request.rootDirectory)
            stats = output.stats
            extraMetadata["ostree.sizes"] = sizesVariant(output.sizes)
            let mtree = ostree_mutable_tree_new_from_checksum(raw, output.rootContents, output.rootMetadata)!
            defer { g_object_unref(UnsafeMutableRawPointer(mtree)) }
            var file: OpaquePointer?
            try gcall("ostree_repo_write_mtree") { ostree_repo_write_mtree(raw, mtree, &file, cancellable, $0) }
            root = file!
        } else {
            root = try writeTreeWithLibOSTree(request, cancellable: cancellable)
        }
        defer { g_object_unref(UnsafeMutableRawPointer(root)) }

        // OSTree keeps numbers in commit metadata big-endian (as its
        // timestamp field); `ostree show` byteswaps them back for display.
        let metadata = bigEndian(makeVardict(request.metadata, variants: extraMetadata))
        defer { g_variant_unref(metadata) }
        var checksum: UnsafeMutablePointer<CChar>?
        try gcall("ostree_repo_write_commit") {
            if let timestamp = request.timestamp {
                return ostree_repo_write_commit_with_time(raw, request.parent, request.subject, nil, metadata, root,
                                                          guint64(timestamp), &checksum, cancellable, $0)
            }
            return ostree_repo_write_commit(raw, request.parent, request.subject, nil, metadata, root, &checksum, cancellable, $0)
        }
        guard let checksum else { throw OSTreeError(function: "ostree_repo_write_commit", message: "no checksum returned") }
        defer { g_free(checksum) }
        return String(cString: checksum)
    }

    /// The tree written by libostree itself, file by file on this thread.
    private func writeTreeWithLibOSTree(_ request: CommitRequest, cancellable: UnsafeMutablePointer<GCancellable>?) throws -> OpaquePointer {
        let mtree = ostree_mutable_tree_new()!
        defer { g_object_unref(UnsafeMutableRawPointer(mtree)) }
        // Host xattrs (SELinux labels of the build machine) must not leak
        // into the tree; sizes let clients estimate downloads.
        let flags = OstreeRepoCommitModifierFlags(
            rawValue: OSTREE_REPO_COMMIT_MODIFIER_FLAGS_SKIP_XATTRS.rawValue
                | OSTREE_REPO_COMMIT_MODIFIER_FLAGS_GENERATE_SIZES.rawValue)
        let modifier = request.onEntry.map { onEntry in
            // The filter only watches: every entry is committed.
            ostree_repo_commit_modifier_new(flags, { _, path, _, context in
                Unmanaged<EntryCallback>.fromOpaque(context!).takeUnretainedValue().body(path.map { String(cString: $0) } ?? "")
                return OSTREE_REPO_COMMIT_FILTER_ALLOW
            }, Unmanaged.passRetained(EntryCallback(onEntry)).toOpaque(), { context in
                Unmanaged<EntryCallback>.fromOpaque(context!).release()
            })!
        } ?? ostree_repo_commit_modifier_new(flags, nil, nil, nil)!
        defer { ostree_repo_commit_modifier_unref(modifier) }
        let directory = g_file_new_for_path(request.rootDirectory)!
        defer { g_object_unref(UnsafeMutableRawPointer(directory)) }

        try gcall("ostree_repo_write_directory_to_mtree") {
            ostree_repo_write_directory_to_mtree(raw, directory, mtree, modifier, cancellable, $0)
        }
        var root: OpaquePointer?
        try gcall("ostree_repo_write_mtree") { ostree_repo_write_mtree(raw, mtree, &root, cancellable, $0) }
        return root!
    }
}

/// The commit filter's context: the request's callback, kept alive by the modifier.
private final class EntryCallback {
    let body: @Sendable (String) -> Void
    init(_ body: @escaping @Sendable (String) -> Void) { self.body = body }
}

/// A GPG signing key: its id and the GnuPG home that holds it.
public struct GPGKey: Sendable, Equatable {
    public var id: String
    /// nil: GnuPG's default home.
    public var homedir: String?

    public init(id: String, homedir: String?) {
        self.id = id
        self.homedir = homedir
    }
}

extension OSTreeRepository {
    public func sign(commit: String, with key: GPGKey) throws {
        try gcall("ostree_repo_sign_commit") { ostree_repo_sign_commit(raw, commit, key.id, key.homedir, nil, $0) }
    }

    /// Signs the summary file (after `regenerateSummary`).
    public func signSummary(with key: GPGKey) throws {
        let id = strdup(key.id)
        defer { free(id) }
        var ids: [UnsafePointer<CChar>?] = [UnsafePointer(id), nil]
        try gcall("ostree_repo_add_gpg_signature_summary") {
            ostree_repo_add_gpg_signature_summary(raw, &ids, key.homedir, nil, $0)
        }
    }

    /// Removes static deltas whose target commit no longer exists.
    public func pruneStaticDeltas() throws {
        try gcall("ostree_repo_prune_static_deltas") { ostree_repo_prune_static_deltas(raw, nil, nil, $0) }
    }
}
