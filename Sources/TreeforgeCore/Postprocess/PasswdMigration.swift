import Foundation

/// Users and groups the tree defines go to /usr/lib/passwd and
/// /usr/lib/group, read through nss-altfiles, so that an update can change
/// them; /etc/passwd keeps only root and /etc/group root's group plus the
/// `etc-group-members` groups (groups people are added to, which must stay
/// editable; they are in both files). As rpm-ostree's
/// migrate_passwd_except_root and migrate_group_except_root.
struct PasswdMigration: PostprocessRule {
    func apply(_ context: PostprocessContext) throws {
        let root = context.root
        try migrate(.passwd, root) { _ in false }
        let members = Set(context.config.etcGroupMembers)
        try migrate(.group, root) { members.contains($0.name) }
        try addAltfiles(root)
    }

    /// Splits /usr/etc/FILE: root's entry (and those `alsoInEtc` accepts)
    /// stays, every other entry is appended to /usr/lib/FILE.
    private func migrate(_ kind: NameServiceKind, _ root: RootDirectory, alsoInEtc: (NameServiceEntry) -> Bool) throws {
        let etc = "usr/etc/" + kind.rawValue, lib = "usr/lib/" + kind.rawValue
        // A tree without a user database (no setup package) has nothing to move.
        guard root.exists(etc) else { return }
        let entries = try kind.read(etc, in: root)
        let moved = entries.filter { $0.id != 0 }
        let kept = entries.filter { $0.id == 0 } + moved.filter(alsoInEtc)
        let existing = try root.read(lib) ?? Data()
        try root.write(lib, existing + Data(moved.text.utf8))
        try root.write(etc, Data(kept.text.utf8))
    }

    /// `altfiles` after `files` on the passwd: and group: lines of
    /// nsswitch.conf, so glibc reads /usr/lib/passwd and /usr/lib/group.
    /// A symlinked nsswitch.conf belongs to another tool (authselect).
    private func addAltfiles(_ root: RootDirectory) throws {
        let path = "usr/etc/nsswitch.conf"
        guard root.exists(path), !root.isSymlink(path), let data = try root.read(path) else { return }
        let text = String(decoding: data, as: UTF8.self)
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            guard let prefix = ["passwd:", "group:"].first(where: line.hasPrefix) else {
                lines.append(line)
                continue
            }
            let sources = line.dropFirst(prefix.count).split(whereSeparator: \.isWhitespace).map(String.init)
            if sources.contains("altfiles") { return }
            var rewritten = sources
            if let files = sources.firstIndex(of: "files") {
                rewritten.insert("altfiles", at: files + 1)
            } else {
                rewritten.append("altfiles")
            }
            lines.append(prefix + " " + rewritten.joined(separator: " "))
        }
        try root.write(path, Data(lines.joined(separator: "\n").utf8), mode: (root.status(path)?.st_mode ?? 0o644) & 0o7777)
    }
}
