import Foundation

/// The tree's kernel, found as rpm-ostree finds it: `/usr/lib/modules/$kver/vmlinuz`
/// (how Fedora's kernel packages ship it), or the legacy
/// `/boot/vmlinuz-$kver` (how Debian's do), whose modules are in
/// `/usr/lib/modules/$kver/` either way.
public struct InstalledKernel: Sendable, Equatable {
    public var version: String
    /// Where the image is now, relative to the root.
    public var image: String

    /// Where the kernel's files go in an OSTree tree: ostree's deploy looks
    /// here first.
    public var modulesFolder: String { "usr/lib/modules/\(version)" }
}

/// Finding the kernel and putting it and its initramfs where `boot-location`
/// says, leaving `/boot` empty (the deployment's /boot is the host's, not
/// the tree's).
public enum KernelLayout {
    /// The one kernel in the tree, nil when there is none. Two kernels, or a
    /// kernel without modules, are errors naming the fix.
    public static func find(in root: RootDirectory) throws -> InstalledKernel? {
        var found: [String: String] = [:]
        for version in (try? root.entries("usr/lib/modules")) ?? [] where root.exists("usr/lib/modules/\(version)/vmlinuz") {
            found[version] = "usr/lib/modules/\(version)/vmlinuz"
        }
        for name in (try? root.entries("boot")) ?? [] where name.hasPrefix("vmlinuz-") && !root.isSymlink("boot/\(name)") {
            let version = String(name.dropFirst("vmlinuz-".count))
            if found[version] == nil { found[version] = "boot/\(name)" }
        }
        guard !found.isEmpty else { return nil }
        guard found.count == 1, let (version, image) = found.first else {
            throw ComposeError(.postprocess, subject: "kernel",
                               "the tree has \(found.count) kernels; a tree boots one: keep one kernel package in `packages`",
                               details: found.sorted { $0.key < $1.key }.map { "\($0.key): /\($0.value)" })
        }
        let kernel = InstalledKernel(version: version, image: image)
        let modules = (try? root.entries(kernel.modulesFolder)) ?? []
        guard modules.contains("kernel") || modules.contains("modules.order") else {
            throw ComposeError(.postprocess, subject: "kernel \(version)",
                               "the kernel has no modules (/\(kernel.modulesFolder)/kernel is missing): install the package that ships them")
        }
        return kernel
    }

    /// Whether the tree is one a host can boot: the kernel ostree's deploy
    /// will find, nil when there is none (for `ostree.bootable`, `ostree.linux`).
    public static func bootableKernel(in rootURL: URL) -> String? {
        let root = RootDirectory(rootURL)
        return ((try? root.entries("usr/lib/modules")) ?? []).first { root.exists("usr/lib/modules/\($0)/vmlinuz") }
    }

    /// Moves a legacy `/boot/vmlinuz-$kver` (and its `System.map` and
    /// `config`) into the modules folder and empties `/boot`; returns what
    /// it did, a line each.
    static func placeKernel(_ kernel: InstalledKernel, in root: RootDirectory) throws -> [String] {
        var log: [String] = []
        let target = kernel.modulesFolder + "/vmlinuz"
        if kernel.image != target {
            try root.move(kernel.image, to: target)
            log.append("kernel: /\(kernel.image) → /\(target)")
        }
        for (legacy, name) in [("System.map-\(kernel.version)", "System.map"), ("config-\(kernel.version)", "config")]
        where root.exists("boot/\(legacy)") {
            if root.exists("\(kernel.modulesFolder)/\(name)") {
                try root.removeIfPresent("boot/\(legacy)")
            } else {
                try root.move("boot/\(legacy)", to: "\(kernel.modulesFolder)/\(name)")
            }
        }
        for leftover in (try? root.entries("boot")) ?? [] {
            try root.removeIfPresent("boot/\(leftover)")
            log.append("kernel: removed /boot/\(leftover) (the tree's /boot stays empty)")
        }
        return log
    }

    /// `boot-location`: `modules` keeps the kernel and initramfs only in the
    /// modules folder; `new` also puts them in `/usr/lib/ostree-boot` (as
    /// hardlinks: the same objects), where older ostree looks.
    static func placeForBootLocation(_ kernel: InstalledKernel, location: String, in root: RootDirectory) throws -> [String] {
        switch location {
        case "modules":
            return []
        case "new":
            var log: [String] = []
            try root.makeDirectory("usr/lib/ostree-boot")
            for (name, legacy) in [("vmlinuz", "vmlinuz-\(kernel.version)"), ("initramfs.img", "initramfs-\(kernel.version).img")]
            where root.exists("\(kernel.modulesFolder)/\(name)") {
                let destination = "usr/lib/ostree-boot/\(legacy)"
                try root.removeIfPresent(destination)
                guard link(try root.path("\(kernel.modulesFolder)/\(name)"), try root.path(destination)) == 0 else {
                    throw root.failure(destination, "cannot link the \(name) for `boot-location: new`", errno: errno)
                }
                log.append("kernel: /\(destination) (boot-location: new)")
            }
            return log
        default:
            throw ComposeError(.postprocess, subject: "boot-location: \(location)",
                               "treeforge places kernels for `boot-location: modules` or `new`; use one of them")
        }
    }
}
