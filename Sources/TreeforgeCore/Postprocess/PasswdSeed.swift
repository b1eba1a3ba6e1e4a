import Foundation

/// `preserve-passwd` (default true): before librpm runs, /etc/passwd and
/// /etc/group in the new root are seeded, so that scriptlets that add
/// system users and groups find the ones earlier composes made and allocate
/// only new ids. Without it, a new package installed earlier in the order
/// takes the next free id and every later user's uid shifts — files on
/// deployed systems then belong to the wrong user (rpm-ostree#1376).
///
/// The seed is, as rpm-ostree's passwd_compose_prep: the `check-passwd` /
/// `check-groups` file when their type is `file` (with matching locked
/// shadow entries), otherwise the previous commit's /usr/etc and /usr/lib
/// entries together.
public struct PasswdSeed {
    public var treefile: Treefile
    public var previous: PreviousCommit?

    public init(treefile: Treefile, previous: PreviousCommit?) {
        self.treefile = treefile
        self.previous = previous
    }

    public func files() throws -> [SeedFile] {
        let config = treefile.config
        guard config.preservePasswd else { return [] }
        switch (config.checkPasswd, config.checkGroups) {
        case (.file(let users), .file(let groups)):
            return try fromFile(.passwd, users, key: "check-passwd") + fromFile(.group, groups, key: "check-groups")
        case (.file, _), (_, .file):
            throw ComposeError(.postprocess, subject: config.locations["check-passwd"]?.description ?? config.locations["check-groups"]?.description,
                               "preserve-passwd would take users and groups from different places: set check-passwd and check-groups both to type file, or neither")
        default:
            guard let previous else { return [] }
            return try fromCommit(.passwd, previous) + fromCommit(.group, previous)
        }
    }

    private func fromFile(_ kind: NameServiceKind, _ name: String, key: String) throws -> [SeedFile] {
        let file = treefile.file(name, namedBy: key)
        guard let data = try? Data(contentsOf: file) else {
            throw ComposeError(.postprocess, subject: treefile.config.locations[key]?.description, "cannot read \(file.path)")
        }
        let entries = [NameServiceEntry]().appendingUnique(try kind.parse(String(decoding: data, as: UTF8.self), source: file.path))
        // Locked accounts, no password ageing: what shadow-utils writes for system users.
        let shadow = entries.map { kind == .passwd ? "\($0.name):*::0:99999:7:::\n" : "\($0.name):::\n" }.joined()
        return [SeedFile(path: "etc/" + kind.rawValue, contents: Data(entries.text.utf8), mode: 0o644),
                SeedFile(path: "etc/" + kind.shadowFile, contents: Data(shadow.utf8), mode: 0)]
    }

    private func fromCommit(_ kind: NameServiceKind, _ previous: PreviousCommit) throws -> [SeedFile] {
        // Both halves or nothing: a tree without /usr/lib/FILE was not split by treeforge or rpm-ostree.
        guard let etc = try previous.file("usr/etc/" + kind.rawValue),
              let lib = try previous.file("usr/lib/" + kind.rawValue) else { return [] }
        let source = "commit \(previous.checksum)"
        let entries = try kind.parse(String(decoding: etc, as: UTF8.self), source: "/usr/etc/\(kind.rawValue) of \(source)")
            .appendingUnique(try kind.parse(String(decoding: lib, as: UTF8.self), source: "/usr/lib/\(kind.rawValue) of \(source)"))
        return [SeedFile(path: "etc/" + kind.rawValue, contents: Data(entries.text.utf8), mode: 0o644)]
    }
}
