import COSTree

extension OSTreeRepository {
    /// Every ref and the commit it points to.
    public func refs() throws -> [String: String] {
        var table: OpaquePointer?
        try gcall("ostree_repo_list_refs") { ostree_repo_list_refs(raw, nil, &table, nil, $0) }
        guard let table else { return [:] }
        defer { g_hash_table_unref(table) }
        var out: [String: String] = [:]
        let keys = g_hash_table_get_keys(table)
        defer { g_list_free(keys) }
        var node = keys
        while let current = node {
            if let key = current.pointee.data, let value = g_hash_table_lookup(table, key) {
                out[String(cString: key.assumingMemoryBound(to: CChar.self))] =
                    String(cString: value.assumingMemoryBound(to: CChar.self))
            }
            node = current.pointee.next
        }
        return out
    }

    /// A commit and its ancestors, newest first, as far as the repository
    /// still holds them (at most `limit` commits).
    public func history(from checksum: String, limit: Int = .max) throws -> [CommitInfo] {
        var out: [CommitInfo] = []
        var next: String? = checksum
        while out.count < limit, let current = next, try hasCommit(current) {
            let info = try commitInfo(current)
            out.append(info)
            next = info.parent
        }
        return out
    }

    public func hasCommit(_ checksum: String) throws -> Bool {
        var exists: gboolean = 0
        try gcall("ostree_repo_has_object") {
            ostree_repo_has_object(raw, OSTREE_OBJECT_TYPE_COMMIT, checksum, &exists, nil, $0)
        }
        return exists != 0
    }

    /// Deletes a commit object (and its detached metadata): its history
    /// ends at the next kept commit. Objects only it reached are removed by
    /// `pruneUnreachable`.
    public func deleteCommit(_ checksum: String) throws {
        try gcall("ostree_repo_delete_object") {
            ostree_repo_delete_object(raw, OSTREE_OBJECT_TYPE_COMMIT, checksum, nil, $0)
        }
        var hasMeta: gboolean = 0
        try gcall("ostree_repo_has_object") {
            ostree_repo_has_object(raw, OSTREE_OBJECT_TYPE_COMMIT_META, checksum, &hasMeta, nil, $0)
        }
        if hasMeta != 0 {
            try gcall("ostree_repo_delete_object") {
                ostree_repo_delete_object(raw, OSTREE_OBJECT_TYPE_COMMIT_META, checksum, nil, $0)
            }
        }
    }

    public struct PruneResult: Sendable {
        public let objectsTotal: Int
        public let objectsPruned: Int
        public let bytesFreed: UInt64
    }

    /// Removes every object no ref reaches (following each ref's history as
    /// far as it goes). Blocks for a walk of the whole repository.
    public func pruneUnreachable() throws -> PruneResult {
        var total: Int32 = 0, pruned: Int32 = 0
        var bytes: guint64 = 0
        try gcall("ostree_repo_prune") {
            ostree_repo_prune(raw, OSTREE_REPO_PRUNE_FLAGS_REFS_ONLY, -1, &total, &pruned, &bytes, nil, $0)
        }
        return PruneResult(objectsTotal: Int(total), objectsPruned: Int(pruned), bytesFreed: UInt64(bytes))
    }

    /// Rewrites the summary file (refs, and the static delta index).
    public func regenerateSummary() throws {
        try gcall("ostree_repo_regenerate_summary") { ostree_repo_regenerate_summary(raw, nil, nil, $0) }
    }
}

extension OSTreeRepository {
    /// How many objects the commit reaches that the repository lacks. A
    /// missing dirtree stops the walk early: it counts as one, and what it
    /// would have reached is not counted.
    public func missingObjects(commit checksum: String) throws -> Int {
        var reachable: OpaquePointer?
        var error: UnsafeMutablePointer<GError>?
        guard ostree_repo_traverse_commit(raw, checksum, 0, &reachable, nil, &error) != 0, let reachable else {
            if let error { g_error_free(error) }
            return 1
        }
        defer { g_hash_table_unref(reachable) }
        var missing = 0
        let keys = g_hash_table_get_keys(reachable)
        defer { g_list_free(keys) }
        var node = keys
        while let current = node {
            if let key = current.pointee.data {
                var object: UnsafePointer<CChar>?
                var type = OSTREE_OBJECT_TYPE_FILE
                ostree_object_name_deserialize(OpaquePointer(key), &object, &type)
                var exists: gboolean = 0
                try gcall("ostree_repo_has_object") { ostree_repo_has_object(raw, type, object, &exists, nil, $0) }
                if exists == 0 { missing += 1 }
            }
            node = current.pointee.next
        }
        return missing
    }
}
