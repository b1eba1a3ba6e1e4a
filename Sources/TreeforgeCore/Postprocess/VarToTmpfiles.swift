import Foundation

/// /var belongs to the machine, not the tree: OSTree commits it empty. What
/// packages and scriptlets put there becomes systemd-tmpfiles entries
/// (rpm-ostree's convert_var_to_tmpfiles_d): directories (`d PATH MODE USER
/// GROUP - -`) and symlinks (`L PATH - - - - TARGET`) in
/// /usr/lib/tmpfiles.d/rpm-ostree-1-autovar.conf, recreated at boot; other
/// files are dropped. Also writes the tmpfiles.d entries for the toplevel
/// links `ToplevelLayout` made into /var.
struct VarToTmpfiles: PostprocessRule {
    static let autovarFile = "usr/lib/tmpfiles.d/rpm-ostree-1-autovar.conf"
    static let integrationFile = "usr/lib/tmpfiles.d/rpm-ostree-0-integration.conf"
    static let optUsrlocalFile = "usr/lib/tmpfiles.d/rpm-ostree-0-integration-opt-usrlocal.conf"

    /// Files known to exist in /var that the system recreates at runtime by
    /// itself; dropped before conversion.
    static let knownStateFiles = [
        "var/lib/systemd/random-seed", "var/lib/systemd/catalog/database",
        "var/lib/plymouth/boot-duration", "var/log/wtmp", "var/log/btmp",
    ]

    func apply(_ context: PostprocessContext) throws {
        let root = context.root
        try writeIntegrationFiles(root)
        guard root.isDirectory("var") else { return }
        let names = try OwnerNames(root)
        // /var/run is /run, a tmpfs: never content.
        try root.removeIfPresent("var/run")
        for path in Self.knownStateFiles { try root.removeIfPresent(path) }
        var entries = Set<String>()
        try convert("var", into: &entries, names: names, root: root)
        // Sorted as bytes, as rpm-ostree writes them.
        let text = entries.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map { $0 + "\n" }.joined()
        try root.write(Self.autovarFile, Data(text.utf8))
    }

    /// Depth first: each entry is translated, then removed from the tree.
    private func convert(_ directory: String, into entries: inout Set<String>, names: OwnerNames, root: RootDirectory) throws {
        for name in try root.entries(directory) {
            let path = directory + "/" + name
            guard let info = root.status(path) else { continue }
            let type = info.st_mode & S_IFMT
            guard type == S_IFDIR || type == S_IFLNK else {
                try root.removeIfPresent(path)
                continue
            }
            let quoted = Self.quote(Self.canonical("/" + path))
            if type == S_IFLNK {
                entries.insert("L \(quoted) - - - - \(try root.symlinkTarget(path))")
                try root.removeIfPresent(path)
            } else {
                let mode = String(format: "%04o", info.st_mode & 0o7777)
                let user = try names.user(info.st_uid, path: path)
                let group = try names.group(info.st_gid, path: path)
                entries.insert("d \(quoted) \(mode) \(user) \(group) - -")
                try convert(path, into: &entries, names: names, root: root)
                try root.removeIfPresent(path)
            }
        }
    }

    /// systemd-tmpfiles warns about /var/run; it is /run.
    static func canonical(_ path: String) -> String {
        path.hasPrefix("/var/run/") ? String(path.dropFirst(4)) : path
    }

    /// Paths with spaces and other characters single-quoted, as the shell
    /// (and tmpfiles.d) reads them.
    static func quote(_ path: String) -> String {
        let safe = path.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-._/=:".unicodeScalars.contains(scalar))
        }
        return safe && !path.isEmpty ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private func writeIntegrationFiles(_ root: RootDirectory) throws {
        let integration = [
            "d /var/home 0755 root root -", "d /var/srv 0755 root root -", "d /var/roothome 0700 root root -",
            "d /var/mnt 0755 root root -", "d /run/media 0755 root root -",
            "L /var/lib/rpm - - - - ../../usr/share/rpm", "L /var/lib/selinux - - - - ../../etc/selinux",
        ] + ["bin", "etc", "games", "include", "lib", "sbin", "share", "src"].map { "d /usr/local/\($0) 0755 root root -" }
        try root.write(Self.integrationFile, Data(integration.map { $0 + "\n" }.joined().utf8))
        try root.write(Self.optUsrlocalFile, Data("d /var/opt 0755 root root -\nd /var/usrlocal 0755 root root -\n".utf8))
    }
}

/// User and group names by id, from the tree's own databases (/usr/etc and
/// /usr/lib), for tmpfiles.d entries.
struct OwnerNames {
    var users: [UInt32: String] = [0: "root"]
    var groups: [UInt32: String] = [0: "root"]

    init(_ root: RootDirectory) throws {
        for file in ["usr/etc/passwd", "usr/lib/passwd"] {
            for entry in try NameServiceKind.passwd.read(file, in: root) { users[entry.id] = entry.name }
        }
        for file in ["usr/etc/group", "usr/lib/group"] {
            for entry in try NameServiceKind.group.read(file, in: root) { groups[entry.id] = entry.name }
        }
    }

    func user(_ id: UInt32, path: String) throws -> String {
        guard let name = users[id] else {
            throw ComposeError(.postprocess, subject: "/" + path, "owned by uid \(id), which the tree's passwd files (/usr/etc/passwd, /usr/lib/passwd) do not name")
        }
        return name
    }

    func group(_ id: UInt32, path: String) throws -> String {
        guard let name = groups[id] else {
            throw ComposeError(.postprocess, subject: "/" + path, "owned by gid \(id), which the tree's group files (/usr/etc/group, /usr/lib/group) do not name")
        }
        return name
    }
}
