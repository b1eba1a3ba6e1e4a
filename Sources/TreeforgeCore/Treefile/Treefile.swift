import Foundation
import LibSolv

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
    /// The files `add-files`, `postprocess-script` and `check-passwd`/`check-groups`
    /// name, resolved against the folder of the treefile that names them.
    public var externalFiles: [ExternalFile] = []
    /// What loading noticed but rpm-ostree accepts (unknown keys in JSON,
    /// one add-files name for two files), each with its location.
    public var warnings: [String] = []

    public var path: URL { sourceFiles[0] }
    /// The top-level treefile's folder: where `*.repo` files are found.
    public var directory: URL { path.deletingLastPathComponent() }

    public var ref: String { config.ref ?? "" }
    public var repos: [String] { config.repos }
    public var packages: [String] { config.packages }
    public var releasever: String? { config.releasever }

    /// `--print-only`'s output.
    public var printed: String { config.printable.prettyString }

    /// Where the file a key names (as written in the treefile) is on disk.
    public func externalFile(_ key: String, _ name: String) -> URL? {
        externalFiles.first { $0.key == key && $0.name == name }?.url
    }

    /// `externalFile`, for a treefile built without the loader: beside the
    /// top-level treefile.
    func file(_ name: String, namedBy key: String) -> URL {
        externalFile(key, name) ?? directory.appendingPathComponent(name)
    }
}

/// A file a treefile key names, such as an `add-files` source.
public struct ExternalFile: Sendable, Equatable {
    public var key: String
    /// As written in the treefile.
    public var name: String
    /// Resolved against the naming treefile's folder (the path it was read
    /// by, so a symlinked treefile's names start from the link's folder),
    /// `..` and symlinks followed as the kernel follows them. It may lie
    /// outside the top-level treefile's folder.
    public var url: URL
    /// Where the treefile names it.
    public var location: String

    /// `KEY NAME MODE SHA256`: what a compose reads of the file, for the
    /// input hash and the stage identities. An unreadable file is an error,
    /// never the digest of nothing.
    func identity(in stage: Stage) throws -> String {
        guard let content = FileManager.default.contents(atPath: url.path) else {
            throw ComposeError(stage, subject: url.path, "cannot read this input of the compose (`\(key)` names it at \(location))")
        }
        let mode = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.posixPermissions] as? Int ?? 0
        return "\(key) \(name) \(String(mode, radix: 8)) \(Checksum.sha256.hex(of: content))"
    }
}
