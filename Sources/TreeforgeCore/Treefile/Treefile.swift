import Foundation

/// A treefile after includes are merged: what to compose.
///
/// This is the subset of rpm-ostree's format the pipeline acts on today;
/// every other rpm-ostree key is rejected by the loader (never ignored).
public struct Treefile: Sendable, Equatable {
    /// The OSTree branch the compose commits to, e.g. `demo/x86_64/base`.
    public var ref: String
    /// Repository ids, looked up in the `*.repo` files beside the treefile.
    public var repos: [String]
    /// Package specs: names, provides, file paths or `name >= version` queries.
    public var packages: [String]
    /// `$releasever` in `.repo` files.
    public var releasever: String?
    /// Every file read, the top-level one first, then includes in order.
    public var sourceFiles: [URL]
    /// SHA-256 of the top-level treefile's bytes.
    public var sha256: String

    /// The treefile's own folder: where `*.repo` files are found.
    public var directory: URL { sourceFiles[0].deletingLastPathComponent() }
    public var path: URL { sourceFiles[0] }
}
