import Foundation

/// One line of /etc/passwd (`man 5 passwd`) or /etc/group (`man 5 group`):
/// its name, its numeric ids, and the line as written.
struct NameServiceEntry: Equatable {
    var name: String
    /// uid for a user, gid for a group.
    var id: UInt32
    /// A user's primary group; equal to `id` for a group.
    var groupID: UInt32
    var line: String
}

enum NameServiceKind: String {
    case passwd, group

    var shadowFile: String { self == .passwd ? "shadow" : "gshadow" }
    var what: String { self == .passwd ? "user" : "group" }

    /// Parses the file's text. Empty lines, comments and NSS compat lines
    /// (`+`, `-`) are skipped, as glibc and rpm-ostree skip them.
    func parse(_ text: String, source: String) throws -> [NameServiceEntry] {
        var entries: [NameServiceEntry] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let first = line.first, !"#+-".contains(first) else { continue }
            let fields = line.split(separator: ":", maxSplits: self == .passwd ? 6 : 3, omittingEmptySubsequences: false)
            let needed = self == .passwd ? 7 : 4
            guard fields.count == needed, let id = UInt32(fields[2]),
                  let groupID = self == .passwd ? UInt32(fields[3]) : id else {
                throw ComposeError(.postprocess, subject: "\(source):\(index + 1)",
                                   "not a \(rawValue) entry (\(needed) fields separated by ':', numeric ids): \(line)")
            }
            entries.append(NameServiceEntry(name: String(fields[0]), id: id, groupID: groupID, line: String(line)))
        }
        return entries
    }

    /// The entries of a file in the root; none when it does not exist.
    func read(_ relative: String, in root: RootDirectory) throws -> [NameServiceEntry] {
        guard let data = try root.read(relative) else { return [] }
        return try parse(String(decoding: data, as: UTF8.self), source: "/" + relative)
    }
}

extension Array where Element == NameServiceEntry {
    /// The file's text: one line per entry.
    var text: String { map { $0.line + "\n" }.joined() }

    /// Entries of both lists, the first seen of each name kept.
    func appendingUnique(_ more: [NameServiceEntry]) -> [NameServiceEntry] {
        var seen = Set(map(\.name))
        var result = self
        for entry in more where seen.insert(entry.name).inserted { result.append(entry) }
        return result
    }
}
