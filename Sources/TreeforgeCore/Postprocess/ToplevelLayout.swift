import Foundation

/// The toplevel of an OSTree deployment, as rpm-ostree's
/// compose_prepare_rootfs builds it: /usr, /boot, /var and the merged-/usr
/// links (/bin, /lib, …) come from the installed root; everything else is
/// made fresh — mount points, `/tmp` per `tmp-is-dir`, and links into /var
/// for the machine's own data (/home, /root, /srv, /mnt, `/opt` per
/// `opt-usrlocal`). What packages put anywhere else at the toplevel is
/// dropped, as rpm-ostree drops it.
struct ToplevelLayout: PostprocessRule {
    static let kept: Set<String> = ["usr", "boot", "var", "lib", "lib64", "lib32", "bin", "sbin"]
    /// Mount points: whatever a scriptlet left there is never content.
    static let mountPoints: Set<String> = ["dev", "proc", "run", "sys", "tmp", "sysroot"]
    static let directories = ["dev", "proc", "run", "sys", "var", "sysroot"]
    /// Link → target.
    static let links: [(String, String)] = [
        ("root", "var/roothome"), ("home", "var/home"), ("ostree", "sysroot/ostree"),
        ("srv", "var/srv"), ("mnt", "var/mnt"), ("media", "run/media"),
    ]

    func apply(_ context: PostprocessContext) throws {
        let root = context.root
        guard root.isDirectory("usr") else {
            throw ComposeError(.postprocess, subject: root.url.path, "the installed root has no /usr")
        }
        var dropped: [String] = []
        for name in try root.entries(".") where !Self.kept.contains(name) {
            if !Self.mountPoints.contains(name), try root.holdsFiles(name) { dropped.append("/" + name) }
            try root.removeIfPresent(name)
        }
        if !dropped.isEmpty {
            context.events.warning("dropped from the tree, as rpm-ostree does (OSTree keeps only /usr, /boot and /var content): \(dropped.joined(separator: ", "))")
        }
        try root.setMode(".", 0o755)
        for directory in Self.directories { try root.makeDirectory(directory) }
        if context.config.tmpIsDir {
            try root.makeDirectory("tmp", mode: 0o1777)
        } else {
            try root.symlink("tmp", to: "sysroot/tmp")
        }
        for (link, target) in Self.links { try root.symlink(link, to: target) }
        switch context.config.optUsrlocal {
        case "root": try root.makeDirectory("opt")
        case "var": try root.symlink("opt", to: "var/opt")
        default:
            throw ComposeError(.postprocess, subject: context.config.locations["opt-usrlocal"]?.description,
                               "`opt-usrlocal: \(context.config.optUsrlocal)` is not supported")
        }
    }
}

extension RootDirectory {
    /// Whether the entry is, or a directory holds, anything but directories:
    /// what dropping it would lose.
    func holdsFiles(_ relative: String) throws -> Bool {
        guard exists(relative) else { return false }
        guard isDirectory(relative) else { return true }
        for name in try entries(relative) where try holdsFiles(relative + "/" + name) { return true }
        return false
    }
}

/// /usr/local and rpm-ostree's compat links under /var/lib (rpm-ostree's
/// rootfs_prepare_links): with `opt-usrlocal: var` /usr/local is a link to
/// /var/usrlocal (its packaged content dropped), with `root` a directory;
/// /var/lib/alternatives and /var/lib/vagrant move to /usr/lib and are
/// linked back.
struct UsrLocalLayout: PostprocessRule {
    static let varlibMoved = ["alternatives", "vagrant"]

    func apply(_ context: PostprocessContext) throws {
        let root = context.root
        if context.config.optUsrlocal == "root" {
            try root.makeDirectory("usr/local")
        } else {
            if try root.holdsFiles("usr/local") {
                context.events.warning("dropped from the tree, as rpm-ostree does (/usr/local is a link to /var/usrlocal with `opt-usrlocal: var`): /usr/local")
            }
            try root.removeIfPresent("usr/local")
            try root.symlink("usr/local", to: "../var/usrlocal")
        }
        for name in Self.varlibMoved where root.isDirectory("var/lib/" + name) {
            try root.removeIfPresent("usr/lib/" + name)
            try root.move("var/lib/" + name, to: "usr/lib/" + name)
            try root.symlink("var/lib/" + name, to: "../../usr/lib/" + name)
        }
    }
}
