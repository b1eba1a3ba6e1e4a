import COSTree
import Foundation

/// An OSTree repository opened through libostree.
///
/// Threading: every call blocks (a commit writes and fsyncs every object), so
/// call it from a dedicated thread or a child process, never from Swift's
/// cooperative pool. One instance must not be used by two threads at once.
public final class OSTreeRepository {
    let raw: OpaquePointer
    public let path: String

    public enum Mode: Sendable {
        /// Compressed objects: what mirrors serve over HTTP.
        case archive
        case bareUser

        var cValue: OstreeRepoMode {
            switch self {
            case .archive: OSTREE_REPO_MODE_ARCHIVE
            case .bareUser: OSTREE_REPO_MODE_BARE_USER
            }
        }
    }

    private init(raw: OpaquePointer, path: String) {
        self.raw = raw
        self.path = path
    }

    deinit { g_object_unref(UnsafeMutableRawPointer(raw)) }

    /// Opens the repository at `path`, creating it with `mode` when the
    /// folder does not hold one yet.
    public static func openOrCreate(path: String, mode: Mode = .archive) throws -> OSTreeRepository {
        let file = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(file)) }
        let repo = OSTreeRepository(raw: ostree_repo_new(file), path: path)
        let configExists = FileManager.default.fileExists(atPath: path + "/config")
        if configExists {
            try gcall("ostree_repo_open") { ostree_repo_open(repo.raw, nil, $0) }
        } else {
            try gcall("ostree_repo_create") { ostree_repo_create(repo.raw, mode.cValue, nil, $0) }
        }
        return repo
    }

    /// Opens an existing repository.
    public static func open(path: String) throws -> OSTreeRepository {
        let file = g_file_new_for_path(path)!
        defer { g_object_unref(UnsafeMutableRawPointer(file)) }
        let repo = OSTreeRepository(raw: ostree_repo_new(file), path: path)
        try gcall("ostree_repo_open") { ostree_repo_open(repo.raw, nil, $0) }
        return repo
    }

    /// The commit a ref points to, or nil when the ref does not exist.
    public func resolve(ref: String) throws -> String? {
        var checksum: UnsafeMutablePointer<CChar>?
        try gcall("ostree_repo_resolve_rev") { ostree_repo_resolve_rev(raw, ref, 1, &checksum, $0) }
        guard let checksum else { return nil }
        defer { g_free(checksum) }
        return String(cString: checksum)
    }

    /// A commit's metadata dictionary and timestamp.
    public func commitInfo(_ checksum: String) throws -> CommitInfo {
        var commit: OpaquePointer?
        try gcall("ostree_repo_load_variant") {
            ostree_repo_load_variant(raw, OSTREE_OBJECT_TYPE_COMMIT, checksum, &commit, $0)
        }
        guard let commit else { throw OSTreeError(function: "ostree_repo_load_variant", message: "commit \(checksum) not found") }
        defer { g_variant_unref(commit) }
        let dict = bigEndian(g_variant_get_child_value(commit, 0)!)
        defer { g_variant_unref(dict) }
        let metadata = decodeVardict(dict)
        let parent = ostree_commit_get_parent(commit).map { p in
            defer { g_free(p) }
            return String(cString: p)
        }
        let content = ostree_commit_get_content_checksum(commit).map { c in
            defer { g_free(c) }
            return String(cString: c)
        }
        return CommitInfo(
            checksum: checksum, parent: parent, contentChecksum: content,
            timestamp: Date(timeIntervalSince1970: TimeInterval(ostree_commit_get_timestamp(commit))),
            metadata: metadata)
    }
}

extension OSTreeRepository {
    /// A boolean of the repository's `config` file (nil when unset).
    public func configBool(group: String, key: String) -> Bool? {
        guard let config = ostree_repo_get_config(raw) else { return nil }
        var error: UnsafeMutablePointer<GError>?
        let value = g_key_file_get_boolean(config, group, key, &error)
        if let error {
            g_error_free(error)
            return nil
        }
        return value != 0
    }

    /// The commit's detached metadata, as far as treeforge reads it.
    public func detachedMetadata(_ checksum: String) throws -> [String: CommitMetadataValue] {
        var detached: OpaquePointer?
        try gcall("ostree_repo_read_commit_detached_metadata") {
            ostree_repo_read_commit_detached_metadata(raw, checksum, &detached, nil, $0)
        }
        guard let detached else { return [:] }
        let dict = bigEndian(detached)
        defer { g_variant_unref(dict) }
        return decodeVardict(dict)
    }
}

public struct CommitInfo: Sendable {
    public let checksum: String
    public let parent: String?
    /// The checksum of the tree alone (root dirtree + dirmeta), which equal
    /// trees share whatever their commit metadata.
    public let contentChecksum: String?
    public let timestamp: Date
    public let metadata: [String: CommitMetadataValue]
}

/// A variant in OSTree's stored byte order (big-endian) from host order, or
/// back: the same swap. Consumes `variant`'s reference, returns an owned one.
func bigEndian(_ variant: OpaquePointer) -> OpaquePointer {
    guard UInt16(1).bigEndian != 1 else { return variant }
    let swapped = g_variant_ref_sink(g_variant_byteswap(variant))!
    g_variant_unref(variant)
    return swapped
}

extension OSTreeRepository {
    /// The refs the repository's summary file lists, with their commits;
    /// nil when there is no summary. What mirrors and clients see.
    public func summaryRefs() throws -> [String: String]? {
        let summaryPath = path + "/summary"
        guard let data = FileManager.default.contents(atPath: summaryPath) else { return nil }
        let type = g_variant_type_new("(a(s(taya{sv}))a{sv})")
        defer { g_variant_type_free(type) }
        let bytes = data.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(bytes) }
        // Trusted is false: GVariant then checks the serialized form as it reads.
        guard let summary = g_variant_ref_sink(g_variant_new_from_bytes(type, bytes, 0)) else {
            throw OSTreeError(function: "g_variant_new_from_bytes", message: "\(summaryPath) is not a summary file")
        }
        defer { g_variant_unref(summary) }
        let refs = g_variant_get_child_value(summary, 0)!
        defer { g_variant_unref(refs) }
        var out: [String: String] = [:]
        for index in 0..<g_variant_n_children(refs) {
            let entry = g_variant_get_child_value(refs, index)!
            defer { g_variant_unref(entry) }
            let name = g_variant_get_child_value(entry, 0)!
            defer { g_variant_unref(name) }
            let target = g_variant_get_child_value(entry, 1)!
            defer { g_variant_unref(target) }
            let checksumBytes = g_variant_get_child_value(target, 1)!
            defer { g_variant_unref(checksumBytes) }
            guard g_variant_n_children(checksumBytes) == 32, let hex = ostree_checksum_from_bytes_v(checksumBytes) else { continue }
            defer { g_free(hex) }
            out[String(cString: g_variant_get_string(name, nil))] = String(cString: hex)
        }
        return out
    }

    /// Whether `summary.sig` is at least as new as `summary`: regenerating
    /// the summary removes its signature, so an older or missing one means
    /// the summary clients get is unsigned.
    public var summaryIsSigned: Bool {
        let attributes = { (name: String) in try? FileManager.default.attributesOfItem(atPath: self.path + "/" + name) }
        guard let summary = attributes("summary")?[.modificationDate] as? Date,
              let signature = attributes("summary.sig")?[.modificationDate] as? Date else { return false }
        return signature >= summary
    }
}
