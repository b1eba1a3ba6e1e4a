import Foundation

/// rpm-ostree's lockfile format (JSON, or YAML for hand-written overrides):
/// `packages: {NAME: {evra | evr, digest?, metadata?}}` and optional
/// `metadata: {generated?, rpmmd_repos?: {ID: {generated}}}`. Every level
/// rejects unknown keys.
public struct Lockfile: Sendable, Equatable {
    public struct LockedPackage: Sendable, Equatable {
        public enum Version: Sendable, Equatable {
            /// epoch:version-release.arch
            case evra(evr: String, arch: String)
            /// epoch:version-release, any architecture
            case evr(String)
        }

        public var version: Version
        /// `ALGORITHM:HEX`; nil accepts any package with that version.
        public var digest: String?
        public var metadata: JSONValue?
    }

    public var packages: [String: LockedPackage]
    /// The first file's `metadata`.
    public var metadata: JSONValue?

    /// Reads several lockfiles; a later file's entry replaces an earlier
    /// one's for the same package whole.
    public static func load(_ files: [URL]) throws -> Lockfile {
        var merged = Lockfile(packages: [:], metadata: nil)
        for file in files {
            let one = try read(file)
            merged.packages.merge(one.packages) { _, later in later }
            if merged.metadata == nil { merged.metadata = one.metadata }
        }
        return merged
    }

    static func read(_ file: URL) throws -> Lockfile {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ComposeError(.load, subject: file.path, "lockfile not found")
        }
        let format = file.pathExtension == "yaml" || file.pathExtension == "yml" ? "YAML" : "JSON"
        let reader = ValueReader(chain: [])
        guard let root = try TreefileNode.parse(String(decoding: data, as: UTF8.self), file: file.path, format: format, chain: []),
              let entries = root.entries else {
            throw ComposeError(.load, subject: file.path, "a lockfile must be a mapping with `packages`")
        }
        try rejectUnknown(entries, allowed: ["packages", "metadata"], in: "the lockfile", reader: reader)
        guard let packagesNode = entries.first(where: { $0.key == "packages" })?.value else {
            throw ComposeError(.load, subject: file.path, "the lockfile has no `packages`")
        }
        guard let packageEntries = packagesNode.entries else {
            throw reader.error(packagesNode.location, "`packages` must be a mapping of package names to versions")
        }
        var packages: [String: LockedPackage] = [:]
        for entry in packageEntries {
            packages[entry.key] = try package(entry, reader: reader)
        }
        var metadata: JSONValue?
        if let node = entries.first(where: { $0.key == "metadata" })?.value {
            metadata = try self.metadata(node, reader: reader)
        }
        return Lockfile(packages: packages, metadata: metadata)
    }

    private static func package(_ entry: TreefileNode.Entry, reader: ValueReader) throws -> LockedPackage {
        let name = entry.key
        guard let fields = entry.value.entries else {
            throw reader.error(entry.value.location, "`\(name)` must be a mapping with `evra` or `evr`")
        }
        try rejectUnknown(fields, allowed: ["evra", "evr", "digest", "metadata"], in: "package `\(name)`", reader: reader)
        func string(_ key: String) throws -> String? {
            guard let node = fields.first(where: { $0.key == key })?.value else { return nil }
            guard let s = node.string else { throw reader.error(node.location, "`\(name).\(key)` must be a string") }
            return s
        }
        let version: LockedPackage.Version
        switch (try string("evra"), try string("evr")) {
        case (let evra?, nil):
            guard let dot = evra.lastIndex(of: "."), dot != evra.startIndex else {
                throw reader.error(entry.keyLocation, "package `\(name)` has a malformed evra: \(evra) (expected EPOCH:VERSION-RELEASE.ARCH)")
            }
            version = .evra(evr: String(evra[..<dot]), arch: String(evra[evra.index(after: dot)...]))
        case (nil, let evr?):
            version = .evr(evr)
        case (nil, nil):
            throw reader.error(entry.keyLocation, "package `\(name)` needs `evra` or `evr`")
        default:
            throw reader.error(entry.keyLocation, "package `\(name)` sets both `evra` and `evr`; use one")
        }
        let metadata = try fields.first(where: { $0.key == "metadata" }).map { field -> JSONValue in
            guard field.value.entries != nil else { throw reader.error(field.value.location, "`\(name).metadata` must be a mapping") }
            return field.value.json.sortingKeys
        }
        return LockedPackage(version: version, digest: try string("digest"), metadata: metadata)
    }

    private static func metadata(_ node: TreefileNode, reader: ValueReader) throws -> JSONValue {
        guard let fields = node.entries else { throw reader.error(node.location, "`metadata` must be a mapping") }
        try rejectUnknown(fields, allowed: ["generated", "rpmmd_repos"], in: "`metadata`", reader: reader)
        for field in fields where field.key == "generated" && field.value.string == nil {
            throw reader.error(field.value.location, "`metadata.generated` must be a timestamp string")
        }
        if let repos = fields.first(where: { $0.key == "rpmmd_repos" })?.value {
            guard let ids = repos.entries else { throw reader.error(repos.location, "`rpmmd_repos` must be a mapping of repo ids") }
            for id in ids {
                guard let inner = id.value.entries else { throw reader.error(id.value.location, "`rpmmd_repos.\(id.key)` must be a mapping") }
                try rejectUnknown(inner, allowed: ["generated"], in: "`rpmmd_repos.\(id.key)`", reader: reader)
            }
        }
        return node.json.sortingKeys
    }

    private static func rejectUnknown(_ entries: [TreefileNode.Entry], allowed: Set<String>, in what: String, reader: ValueReader) throws {
        for entry in entries where !allowed.contains(entry.key) {
            throw reader.error(entry.keyLocation, "unknown key `\(entry.key)` in \(what) (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }
}
