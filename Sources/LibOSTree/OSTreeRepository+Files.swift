import COSTree
import Foundation

extension OSTreeRepository {
    /// The bytes of the regular file at `path` (absolute or relative to the
    /// tree's root) in a commit's tree, following symlinks inside the tree;
    /// nil when nothing is there.
    public func fileContents(commit: String, path: String) throws -> Data? {
        var root: OpaquePointer?
        try gcall("ostree_repo_read_commit") { ostree_repo_read_commit(raw, commit, &root, nil, nil, $0) }
        guard let root else { throw OSTreeError(function: "ostree_repo_read_commit", message: "commit \(commit) has no root") }
        defer { g_object_unref(UnsafeMutableRawPointer(root)) }
        let relative = String(path.drop { $0 == "/" })
        let file = g_file_resolve_relative_path(root, relative)!
        defer { g_object_unref(UnsafeMutableRawPointer(file)) }
        var contents: UnsafeMutablePointer<CChar>?
        var length: gsize = 0
        do {
            try gcall("g_file_load_contents") { g_file_load_contents(file, nil, &contents, &length, nil, $0) }
        } catch let error as OSTreeError where error.domain == "g-io-error-quark" && error.code == Int32(G_IO_ERROR_NOT_FOUND.rawValue) {
            return nil
        }
        guard let contents else { return Data() }
        defer { g_free(contents) }
        return Data(bytes: contents, count: Int(length))
    }
}
