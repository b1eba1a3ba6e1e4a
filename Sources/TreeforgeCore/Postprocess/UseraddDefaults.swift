import Foundation

/// Home directories live in /var on an OSTree system (`/home` is a link to
/// `var/home`): as rpm-ostree's postprocess_useradd, `HOME=` in
/// `/usr/etc/default/useradd` becomes `/var/home`, so users added on a
/// deployed host get their home there rather than through the link.
struct UseraddDefaults: PostprocessRule {
    static let path = "usr/etc/default/useradd"

    func apply(_ context: PostprocessContext) throws {
        let root = context.root
        guard let status = root.status(Self.path), status.st_mode & S_IFMT == S_IFREG,
              let data = try root.read(Self.path) else { return }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var text = lines.map { $0.hasPrefix("HOME=") ? "HOME=/var/home" : String($0) }.joined(separator: "\n")
        if !text.hasSuffix("\n") { text += "\n" }
        try root.write(Self.path, Data(text.utf8), mode: 0o644)
    }
}
