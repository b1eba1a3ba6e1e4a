import Foundation

/// `mutate-os-release: BASE`: in os-release, `VERSION` and `PRETTY_NAME`
/// get the commit's version in place of BASE, and `OSTREE_VERSION` is
/// appended — rpm-ostree's rule, applied to the file `/etc/os-release`
/// finally names (usually `/usr/lib/os-release`).
struct OSRelease {
    var root: RootDirectory

    func mutate(baseVersion: String, nextVersion: String?) throws -> [String] {
        guard let nextVersion, !nextVersion.isEmpty else {
            return ["mutate-os-release: ignored, the commit has no version"]
        }
        let path = try RootPath.resolve("etc/os-release", in: root.url)
        guard let status = root.status(path), status.st_mode & S_IFMT == S_IFREG,
              let data = try root.read(path), let contents = String(data: data, encoding: .utf8) else {
            throw ComposeError(.postprocess, subject: "mutate-os-release",
                               "cannot read /\(path) (what /etc/os-release names) as a text file; which package should ship it?")
        }
        let mutated = Self.mutated(contents, baseVersion: baseVersion, nextVersion: nextVersion)
        // Replaced, not written through: the file may be a hardlink shared with another.
        try root.write(path, Data(mutated.utf8), mode: status.st_mode & 0o7777)
        return ["mutate-os-release: /\(path): \(baseVersion) → \(nextVersion)"]
    }

    static func mutated(_ contents: String, baseVersion: String, nextVersion: String) -> String {
        var result = ""
        for line in contents.split(separator: "\n", omittingEmptySubsequences: true) {
            if let prefix = ["VERSION=", "PRETTY_NAME="].first(where: { line.hasPrefix($0) }) {
                result += prefix + line.dropFirst(prefix.count).replacingOccurrences(of: baseVersion, with: nextVersion)
            } else {
                result += line
            }
            result += "\n"
        }
        result += "OSTREE_VERSION=\(shellQuoted(nextVersion))\n"
        return result
    }

    /// The `OSTREE_VERSION` `mutate-os-release` wrote into a laid-out tree's
    /// os-release (`/usr/lib/os-release`, else `/usr/etc/os-release`).
    static func ostreeVersion(in root: RootDirectory) -> String? {
        for path in ["usr/lib/os-release", "usr/etc/os-release"] {
            guard let data = try? root.read(path), let text = String(data: data, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("OSTREE_VERSION=") {
                return shellUnquoted(String(line.dropFirst("OSTREE_VERSION=".count)))
            }
        }
        return nil
    }

    /// The inverse of `shellQuoted` (and plain or double-quoted values).
    static func shellUnquoted(_ value: String) -> String {
        if value.hasPrefix("'"), value.hasSuffix("'"), value.count >= 2 {
            return String(value.dropFirst().dropLast()).replacingOccurrences(of: "'\\''", with: "'")
        }
        if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
            return String(value.dropFirst().dropLast())
        }
        return value
    }

    /// GLib's g_shell_quote: single quotes, with ' written as '\''.
    static func shellQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
