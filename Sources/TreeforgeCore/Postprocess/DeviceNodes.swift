import Foundation

/// Device nodes cannot be committed: /dev is a devtmpfs at boot. As
/// rpm-ostree's postprocess_devices: an overlayfs whiteout (a character
/// device 0:0) is kept as an empty `.ostree-wh.NAME` file, which OSTree
/// turns back into a whiteout; any other character or block device is
/// dropped (`ignore-devices: true`, the default) or fails the compose
/// (`false`).
struct DeviceNodes: PostprocessRule {
    static let whiteoutPrefix = ".ostree-wh."

    func apply(_ context: PostprocessContext) throws {
        var unsupported: [String] = []
        let root = context.root, ignore = context.config.ignoreDevices
        try root.walk { path, info in
            switch info.st_mode & S_IFMT {
            case S_IFCHR where info.st_rdev == 0:
                let parent = RootDirectory.parent(of: path), name = Self.whiteoutPrefix + (path.split(separator: "/").last ?? "")
                let whiteout = parent.isEmpty ? name : parent + "/" + name
                try root.removeIfPresent(path)
                try root.write(whiteout, Data(), mode: info.st_mode & 0o7777)
            case S_IFCHR, S_IFBLK:
                if ignore {
                    try root.removeIfPresent(path)
                } else {
                    let kind = info.st_mode & S_IFMT == S_IFCHR ? "character" : "block"
                    unsupported.append("/\(path) (\(kind) device \(Self.numbers(info.st_rdev)))")
                }
            default:
                break
            }
        }
        if !unsupported.isEmpty {
            throw ComposeError(.postprocess, subject: context.config.locations["ignore-devices"]?.description ?? context.treefile.path.path,
                               "the tree holds device files, which OSTree cannot commit (`ignore-devices: false` makes them an error)",
                               details: unsupported)
        }
    }

    /// "major:minor" of a device number (glibc's encoding).
    static func numbers(_ device: dev_t) -> String {
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff)
        let minor = (device & 0xff) | ((device >> 12) & ~0xff)
        return "\(major):\(minor)"
    }
}
