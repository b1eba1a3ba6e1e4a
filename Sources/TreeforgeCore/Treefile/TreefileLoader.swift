import Foundation
import LibSolv
import Yams

/// Reads a treefile (YAML, or JSON) and the files it includes, and merges
/// them as rpm-ostree does: included files first, then the including file;
/// lists concatenate in that order, scalars of the including file win.
public struct TreefileLoader: Sendable {
    /// Keys this version acts on.
    static let supportedKeys: Set<String> = ["ref", "repos", "packages", "include", "releasever"]

    /// Keys of rpm-ostree's format that the pipeline does not act on yet.
    /// They are rejected by name rather than ignored: a tree built without
    /// them would not be the tree the release engineer described.
    static let notYetSupportedKeys: Set<String> = [
        "variables", "arch-include", "conditional-include", "lockfile-repos", "repo-packages",
        "exclude-packages", "recommends", "documentation", "install-langs",
        "automatic-version-prefix", "automatic_version_prefix", "automatic-version-suffix",
        "mutate-os-release", "add-commit-metadata", "metadata", "gpg-key", "gpg_key", "repo-metadata",
        "postprocess", "postprocess-script", "add-files", "remove-files", "remove-from-packages",
        "ostree-layers", "ostree-override-layers", "units", "default-target", "default_target",
        "machineid-compat", "etc-group-members", "preserve-passwd", "check-passwd", "check-groups",
        "ignore-removed-users", "ignore-removed-groups", "selinux", "readonly-executables",
        "boot-location", "boot_location", "initramfs-args", "tmp-is-dir", "opt-usrlocal", "rpmdb",
        "rpmdb-normalize", "container", "container-cmd", "edition", "ignore-devices", "rojig",
        "basearch", "cliwrap", "cliwrap-binaries", "sysroot-readonly", "sysusers", "modules",
        "packages-x86_64", "packages-aarch64", "packages-ppc64le", "packages-s390x", "releasever-from",
        "remove-from-packages", "install_langs", "documentation",
    ]

    public init() {}

    public func load(_ url: URL) throws -> Treefile {
        let top = url.standardizedFileURL
        guard FileManager.default.fileExists(atPath: top.path) else {
            throw ComposeError(.load, subject: top.path, "treefile not found")
        }
        var visited: [URL] = []
        let merged = try loadMerging(top, chain: [], visited: &visited)
        guard let ref = merged.ref, !ref.isEmpty else {
            throw ComposeError(.load, subject: top.path, "the treefile does not set `ref` (the OSTree branch to commit to)")
        }
        if merged.packages.isEmpty {
            throw ComposeError(.load, subject: top.path, "the treefile lists no `packages`")
        }
        if merged.repos.isEmpty {
            throw ComposeError(.load, subject: top.path, "the treefile lists no `repos` to take packages from")
        }
        let bytes = try Data(contentsOf: top)
        return Treefile(
            ref: ref, repos: merged.repos, packages: merged.packages, releasever: merged.releasever,
            sourceFiles: visited, sha256: Checksum.sha256.hex(of: bytes))
    }

    /// One file's contribution before merging.
    struct Partial {
        var ref: String?
        var repos: [String] = []
        var packages: [String] = []
        var releasever: String?
        var includes: [(path: String, line: Int)] = []
    }

    private func loadMerging(_ file: URL, chain: [URL], visited: inout [URL]) throws -> Partial {
        let resolved = file.resolvingSymlinksInPath()
        if visited.contains(where: { $0.resolvingSymlinksInPath() == resolved }) {
            let via = (chain.map(\.path) + [file.path]).joined(separator: " → ")
            throw ComposeError(.load, subject: file.path, "this file is included twice (\(via))")
        }
        visited.append(file)
        let own = try parse(file, chain: chain)
        var merged = Partial()
        for include in own.includes {
            // Relative to the including file's folder; a symlinked treefile
            // includes relative to the link's folder, as rpm-ostree does.
            let target = URL(fileURLWithPath: include.path, relativeTo: file.deletingLastPathComponent()).standardizedFileURL
            guard FileManager.default.fileExists(atPath: target.path) else {
                throw ComposeError(.load, subject: "\(file.path):\(include.line)", "included file \(target.path) not found")
            }
            let included = try loadMerging(target, chain: chain + [file], visited: &visited)
            merged.ref = included.ref ?? merged.ref
            merged.releasever = included.releasever ?? merged.releasever
            merged.repos += included.repos
            merged.packages += included.packages
        }
        merged.ref = own.ref ?? merged.ref
        merged.releasever = own.releasever ?? merged.releasever
        for repo in own.repos where !merged.repos.contains(repo) { merged.repos.append(repo) }
        merged.packages += own.packages
        return merged
    }
}
