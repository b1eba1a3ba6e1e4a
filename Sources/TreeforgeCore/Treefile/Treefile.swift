import Foundation

/// A treefile after its includes are merged, its variables substituted and
/// its values checked: what to compose.
public struct Treefile: Sendable, Equatable {
    /// Every setting, typed (see `TreefileConfig+Keys.swift`).
    public var config: TreefileConfig
    /// The architecture the treefile was flattened for.
    public var basearch: String
    /// The variables conditions and substitution saw (basearch and
    /// releasever included).
    public var variables: [String: JSONValue]
    /// Every file read, the top-level one first, then includes in the order read.
    public var sourceFiles: [URL]
    /// SHA-256 of the top-level treefile's bytes.
    public var sha256: String

    public var path: URL { sourceFiles[0] }
    /// The top-level treefile's folder: where `*.repo` files are found.
    public var directory: URL { path.deletingLastPathComponent() }

    public var ref: String { config.ref ?? "" }
    public var repos: [String] { config.repos }
    public var packages: [String] { config.packages }
    public var releasever: String? { config.releasever }

    /// `--print-only`'s output.
    public var printed: String { config.printable.prettyString }
}
