/// Typed views of every treefile key. Values were checked against the schema
/// when they were read, so these never fail; an unset key is nil (or the
/// default rpm-ostree gives it, where noted).
extension TreefileConfig {
    func string(_ key: String) -> String? { values[key]?.string }
    func bool(_ key: String) -> Bool? { values[key]?.bool }
    func strings(_ key: String) -> [String] { values[key]?.strings ?? [] }
    func stringMap(_ key: String) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (values[key]?.object ?? []).compactMap { k, v in v.string.map { (k, $0) } })
    }
    func json(_ key: String) -> [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: values[key]?.object ?? [])
    }

    // MARK: What and where
    public var ref: String? { string("ref") }
    public var basearch: String? { string("basearch") }
    /// As written: a number or a string.
    public var releasever: String? {
        switch values["releasever"] {
        case .uint(let u): String(u)
        case .string(let s): s
        default: nil
        }
    }
    public var edition: Edition { string("edition").flatMap(Edition.init(rawValue:)) ?? .e2014 }
    public var metadata: [String: JSONValue] { json("metadata") }
    public var addCommitMetadata: [String: JSONValue] { json("add-commit-metadata") }
    public var automaticVersionPrefix: String? { string("automatic-version-prefix") }
    public var automaticVersionSuffix: String? { string("automatic-version-suffix") }
    public var mutateOsRelease: String? { string("mutate-os-release") }
    public var gpgKey: String? { string("gpg-key") }
    public var repoMetadata: MetadataMode { string("repo-metadata").flatMap(MetadataMode.init(rawValue:)) ?? .inline }
    public var advisoriesMetadata: MetadataMode { string("advisories-metadata").flatMap(MetadataMode.init(rawValue:)) ?? .inline }
    public var platformModule: String? { string("platform-module") }
    public var rojig: [String: JSONValue]? { values["rojig"].map { Dictionary(uniqueKeysWithValues: $0.object ?? []) } }

    // MARK: Packages
    public var repos: [String] { strings("repos") }
    public var lockfileRepos: [String] { strings("lockfile-repos") }
    /// Package specs (names, provides, file paths, `name >= version`), sorted.
    public var packages: [String] { strings("packages") }
    public var repoPackages: [RepoPackages] {
        (values["repo-packages"]?.array ?? []).map { RepoPackages(repo: $0["repo"]?.string ?? "", packages: $0["packages"]?.strings ?? []) }
    }
    public var excludePackages: [String] { strings("exclude-packages") }
    /// Install weak dependencies (default true).
    public var recommends: Bool { bool("recommends") ?? true }
    /// Install documentation (default true).
    public var documentation: Bool { bool("documentation") ?? true }
    public var installLangs: [String] { strings("install-langs") }
    public var ostreeLayers: [String] { strings("ostree-layers") }
    public var ostreeOverrideLayers: [String] { strings("ostree-override-layers") }

    // MARK: Tree shaping
    public var postprocess: [String] { strings("postprocess") }
    public var postprocessScript: String? { string("postprocess-script") }
    public var addFiles: [AddFile] {
        (values["add-files"]?.array ?? []).compactMap { pair in
            pair.strings.flatMap { $0.count == 2 ? AddFile(source: $0[0], destination: $0[1]) : nil }
        }
    }
    public var removeFiles: [String] { strings("remove-files") }
    public var removeFromPackages: [RemoveFromPackage] {
        (values["remove-from-packages"]?.array ?? []).compactMap { entry in
            entry.strings.flatMap { $0.isEmpty ? nil : RemoveFromPackage(package: $0[0], patterns: Array($0.dropFirst())) }
        }
    }
    public var units: [String] { strings("units") }
    public var defaultTarget: String? { string("default-target") }
    /// Default true.
    public var machineidCompat: Bool { bool("machineid-compat") ?? true }
    public var etcGroupMembers: [String] { strings("etc-group-members") }
    /// Default true.
    public var preservePasswd: Bool { bool("preserve-passwd") ?? true }
    public var checkPasswd: CheckFile { CheckFile(values["check-passwd"]) ?? .previous }
    public var checkGroups: CheckFile { CheckFile(values["check-groups"]) ?? .previous }
    public var ignoreRemovedUsers: [String] { strings("ignore-removed-users") }
    public var ignoreRemovedGroups: [String] { strings("ignore-removed-groups") }
    /// Default true.
    public var selinux: Bool { bool("selinux") ?? true }
    public var selinuxLabelVersion: UInt64 { if case .uint(let u) = values["selinux-label-version"] { u } else { 0 } }
    public var sysusers: String { string("sysusers") ?? "compose-auto" }
    public var ima: Bool { bool("ima") ?? false }
    public var readonlyExecutables: Bool { bool("readonly-executables") ?? false }
    public var bootLocation: String { string("boot-location") ?? "new" }
    public var tmpIsDir: Bool { bool("tmp-is-dir") ?? false }
    public var optUsrlocal: String { string("opt-usrlocal") ?? "var" }
    public var initramfsArgs: [String] { strings("initramfs-args") }
    public var noInitramfs: Bool { bool("no-initramfs") ?? false }
    /// Default true.
    public var ignoreDevices: Bool { bool("ignore-devices") ?? true }
    public var rpmdb: String? { string("rpmdb") }
    public var rpmdbNormalize: Bool { bool("rpmdb-normalize") ?? false }
    public var container: Bool { bool("container") ?? false }
    public var containerCmd: [String] { strings("container-cmd") }
    public var cliwrap: Bool { bool("cliwrap") ?? false }
    public var cliwrapBinaries: [String] { strings("cliwrap-binaries") }
    public var repovars: [String: String] { stringMap("repovars") }
}

public enum Edition: String, Sendable {
    case e2014 = "2014"
    case e2024 = "2024"
}

public enum MetadataMode: String, Sendable {
    case inline, detached, disabled
}

public struct RepoPackages: Sendable, Equatable {
    public var repo: String
    public var packages: [String]
}

public struct AddFile: Sendable, Equatable {
    /// Relative to the treefile that names it.
    public var source: String
    public var destination: String
}

public struct RemoveFromPackage: Sendable, Equatable, Codable {
    public var package: String
    public var patterns: [String]
}

/// `check-passwd` / `check-groups`.
public enum CheckFile: Sendable, Equatable {
    case none
    case previous
    case file(String)
    /// name → ids (uid, or uid and gid for users).
    case data([String: [UInt64]])

    init?(_ value: JSONValue?) {
        guard let value, let type = value["type"]?.string else { return nil }
        switch type {
        case "none": self = .none
        case "file": self = .file(value["filename"]?.string ?? "")
        case "data":
            var entries: [String: [UInt64]] = [:]
            for (name, ids) in value["entries"]?.object ?? [] {
                switch ids {
                case .uint(let u): entries[name] = [u]
                case .array(let list): entries[name] = list.compactMap { if case .uint(let u) = $0 { u } else { nil } }
                default: break
                }
            }
            self = .data(entries)
        default: self = .previous
        }
    }
}
