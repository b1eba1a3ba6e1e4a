import Foundation
import LibSolv

/// treeforge's own version, part of every input hash.
public enum TreeforgeVersion {
    public static let string = "0.1.0"
}

/// The identity of a compose's inputs: SHA-256 over the canonical flattened
/// treefile, the files it names (check-passwd/-groups), every resolved
/// package's NEVRA and checksum, and the treeforge version. The same inputs give the same hash, whatever the order or
/// spelling of the treefile.
public enum InputHash {
    public static func compute(treefile: Treefile, packages: ResolvedSet) -> String {
        var text = "treeforge-inputs-v1\n"
        text += "treeforge \(TreeforgeVersion.string)\n"
        text += "treefile \(treefile.config.canonicalJSON)\n"
        // Files the treefile names are inputs too: their bytes, not their names.
        for key in ["check-passwd", "check-groups"] {
            guard case .file(let name) = key == "check-passwd" ? treefile.config.checkPasswd : treefile.config.checkGroups else { continue }
            let bytes = (try? Data(contentsOf: treefile.file(name, namedBy: key))) ?? Data()
            text += "file \(key) \(Checksum.sha256.hex(of: bytes))\n"
        }
        for package in packages.packages.sorted(by: { $0.nevra < $1.nevra }) {
            text += "package \(package.nevra) \(package.checksumType ?? "-"):\(package.checksum ?? "-")\n"
        }
        return Checksum.sha256.hex(of: Data(text.utf8))
    }
}
