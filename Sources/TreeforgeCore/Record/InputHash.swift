import Foundation
import LibSolv

/// treeforge's own version, part of every input hash.
public enum TreeforgeVersion {
    public static let string = "0.2.0"
}

/// The identity of a compose's inputs: SHA-256 over the canonical flattened
/// treefile (so every included file, wherever it lies, counts by what it
/// sets), the content and mode of every file it names (add-files sources,
/// postprocess-script, check files; inside the treefile's folder or not),
/// every resolved package's NEVRA and
/// checksum, the signature policy of the repositories packages come from
/// (gpgcheck and the keys' contents: turning checks on is a change), and
/// the treeforge version. The same inputs give the same hash, whatever the order or
/// spelling of the treefile.
public enum InputHash {
    /// `scriptFolder`: the treefile's folder as postprocess scripts see it,
    /// when the treefile has any.
    public static func compute(treefile: Treefile, packages: ResolvedSet, scriptFolder: TreefileFolder? = nil) throws -> String {
        var text = "treeforge-inputs-v1\n"
        text += "treeforge \(TreeforgeVersion.string)\n"
        text += "treefile \(treefile.config.canonicalJSON)\n"
        // Wherever they are: beside the treefile, in a sibling folder reached
        // by `..`, or through a symlink (the script folder's digest records
        // only the link).
        for file in treefile.externalFiles.sorted(by: { ($0.key, $0.name) < ($1.key, $1.name) }) {
            text += "file \(try file.identity(in: .resolve))\n"
        }
        if let scriptFolder {
            text += "script-folder \(try scriptFolder.digest())\n"
        }
        let used = Set(packages.packages.map(\.repository))
        for repo in packages.repos.filter({ used.contains($0.id) && $0.gpgcheck }).sorted(by: { $0.id < $1.id }) {
            // An unreadable key is left to the install stage, which names the
            // packages that needed it.
            let keys = repo.gpgkeys.map { FileManager.default.contents(atPath: $0).map(Checksum.sha256.hex(of:)) ?? "unreadable" }
            text += "signed-repo \(repo.id) \(keys.joined(separator: " "))\n"
        }
        for package in packages.packages.sorted(by: { $0.nevra < $1.nevra }) {
            text += "package \(package.nevra) \(package.checksumType ?? "-"):\(package.checksum ?? "-")\n"
        }
        return Checksum.sha256.hex(of: Data(text.utf8))
    }
}

/// SHA-256 of bytes, as lowercase hex, for modules that hash without libsolv
/// at hand (the server's token hashes).
public enum SHA256Digest {
    public static func hex(_ data: Data) -> String { Checksum.sha256.hex(of: data) }
}
