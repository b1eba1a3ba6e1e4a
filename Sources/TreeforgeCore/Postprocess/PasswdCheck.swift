import Foundation

/// `check-passwd` and `check-groups` (default: `previous`): the tree's users
/// and groups (/usr/etc and /usr/lib passwd and group) must keep the ids they had —
/// in the previous commit on the ref, in a file beside the treefile, or in
/// the treefile's `entries`. A changed uid or gid fails the compose; an entry
/// that is gone fails it when files in the tree are still owned by its id,
/// unless `ignore-removed-users`/`-groups` names it (or `*`). New entries are
/// fine. As rpm-ostree's check_passwd_group_entries, but every violation is
/// named at once.
struct PasswdCheck: PostprocessRule {
    /// The check alone, on a root `compose install` laid out (`compose commit`).
    static func run(root: URL, treefile: Treefile, previous: PreviousCommit?, events: ComposeEventSink) throws {
        try PasswdCheck().apply(PostprocessContext(root: root, treefile: treefile, previous: previous, events: events))
    }

    func apply(_ context: PostprocessContext) throws {
        var violations: [String] = []
        for kind in [NameServiceKind.passwd, .group] {
            let key = kind == .passwd ? "check-passwd" : "check-groups"
            guard let expected = try expectedEntries(kind, key: key, context) else { continue }
            // rpm-ostree reads /usr/lib alone, which makes root (kept in /etc) "missing"
            // whenever a check file lists it; the tree's users are both files.
            let actual = try kind.read("usr/etc/" + kind.rawValue, in: context.root) + kind.read("usr/lib/" + kind.rawValue, in: context.root)
            let ignored = Set(kind == .passwd ? context.config.ignoreRemovedUsers : context.config.ignoreRemovedGroups)
            violations += try compare(kind, expected: expected, actual: actual, ignored: ignored, root: context.root)
        }
        if !violations.isEmpty {
            throw ComposeError(.postprocess, subject: subject(context),
                               "users or groups changed: a deployed system would find its files owned by other ids (set check-passwd/check-groups, or ignore-removed-users/-groups for entries removed on purpose)",
                               details: violations)
        }
    }

    /// Name → (id, group id) that the configuration expects; nil: no check.
    private func expectedEntries(_ kind: NameServiceKind, key: String, _ context: PostprocessContext) throws -> [String: (UInt32, UInt32)]? {
        let check = kind == .passwd ? context.config.checkPasswd : context.config.checkGroups
        let entries: [NameServiceEntry]
        switch check {
        case .none:
            return nil
        case .previous:
            guard let previous = context.previous,
                  let data = try previous.file("usr/lib/" + kind.rawValue) else { return nil }
            entries = try kind.parse(String(decoding: data, as: UTF8.self), source: "/usr/lib/\(kind.rawValue) of commit \(previous.checksum)")
        case .file(let name):
            let file = context.treefile.file(name, namedBy: key)
            guard let data = try? Data(contentsOf: file) else {
                throw ComposeError(.postprocess, subject: context.config.locations[key]?.description, "cannot read \(file.path)")
            }
            entries = try kind.parse(String(decoding: data, as: UTF8.self), source: file.path)
        case .data(let values):
            return values.reduce(into: [:]) { result, item in
                guard let id = item.value.first.map(UInt32.init) else { return }
                result[item.key] = (id, item.value.count > 1 ? UInt32(item.value[1]) : id)
            }
        }
        return Dictionary(entries.map { ($0.name, ($0.id, $0.groupID)) }, uniquingKeysWith: { _, last in last })
    }

    private func compare(_ kind: NameServiceKind, expected: [String: (UInt32, UInt32)], actual: [NameServiceEntry],
                         ignored: Set<String>, root: RootDirectory) throws -> [String] {
        var violations: [String] = []
        let current = Dictionary(actual.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        for (name, ids) in expected.sorted(by: { $0.key < $1.key }) {
            guard let entry = current[name] else {
                if ignored.contains("*") || ignored.contains(name) { continue }
                if try owns(kind, id: ids.0, root: root, at: ".") {
                    violations.append("\(kind.what) \(name) (\(kind == .passwd ? "uid" : "gid") \(ids.0)) is missing from the tree's \(kind.rawValue) files, but files in the tree are owned by it")
                }
                continue
            }
            if entry.id != ids.0 {
                violations.append("\(kind.rawValue) \(kind == .passwd ? "UID" : "GID") changed: \(name) (\(ids.0) to \(entry.id))")
            } else if kind == .passwd, entry.groupID != ids.1 {
                violations.append("passwd GID changed: \(name) (\(ids.1) to \(entry.groupID))")
            }
        }
        return violations
    }

    /// Whether anything in the tree is owned by the uid (passwd) or gid (group).
    private func owns(_ kind: NameServiceKind, id: UInt32, root: RootDirectory, at directory: String) throws -> Bool {
        guard let info = root.status(directory) else { return false }
        if (kind == .passwd ? info.st_uid : info.st_gid) == id { return true }
        guard info.st_mode & S_IFMT == S_IFDIR else { return false }
        for name in try root.entries(directory) where try owns(kind, id: id, root: root, at: directory == "." ? name : directory + "/" + name) {
            return true
        }
        return false
    }

    private func subject(_ context: PostprocessContext) -> String {
        let locations = ["check-passwd", "check-groups"].compactMap { context.config.locations[$0]?.description }
        if !locations.isEmpty { return locations.joined(separator: ", ") }
        return context.previous.map { "users and groups of commit \($0.checksum)" } ?? context.treefile.path.path
    }
}
