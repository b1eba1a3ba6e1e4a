import Foundation
import LibSolv

/// treeforge's own version, part of every input hash.
public enum TreeforgeVersion {
    public static let string = "0.2.0"
}

/// The identity of a compose's inputs: SHA-256 over the canonical flattened
/// treefile, the content of every file it names (add-files sources,
/// postprocess-script, check files), every resolved package's NEVRA and
/// checksum, the signature policy of the repositories packages come from
/// (gpgcheck and the keys' contents: turning checks on is a change), and
/// the treeforge version. The same inputs give the same hash, whatever the order or
/// spelling of the treefile.
public enum InputHash {
    public static func compute(treefile: Treefile, packages: ResolvedSet) -> String {
        var text = "treeforge-inputs-v1\n"
        text += "treeforge \(TreeforgeVersion.string)\n"
        text += "treefile \(treefile.config.canonicalJSON)\n"
        for file in treefile.externalFiles.sorted(by: { ($0.key, $0.name) < ($1.key, $1.name) }) {
            let content = FileManager.default.contents(atPath: file.url.path) ?? Data()
            let mode = (try? FileManager.default.attributesOfItem(atPath: file.url.path))?[.posixPermissions] as? Int ?? 0
            text += "file \(file.key) \(file.name) \(String(mode, radix: 8)) \(Checksum.sha256.hex(of: content))\n"
        }
        let used = Set(packages.packages.map(\.repository))
        for repo in packages.repos.filter({ used.contains($0.id) && $0.gpgcheck }).sorted(by: { $0.id < $1.id }) {
            let keys = repo.gpgkeys.map { Checksum.sha256.hex(of: FileManager.default.contents(atPath: $0) ?? Data()) }
            text += "signed-repo \(repo.id) \(keys.joined(separator: " "))\n"
        }
        for package in packages.packages.sorted(by: { $0.nevra < $1.nevra }) {
            text += "package \(package.nevra) \(package.checksumType ?? "-"):\(package.checksum ?? "-")\n"
        }
        return Checksum.sha256.hex(of: Data(text.utf8))
    }
}
