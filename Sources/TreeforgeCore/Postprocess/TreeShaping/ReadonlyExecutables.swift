import Foundation

/// `readonly-executables: true`: executables lose their write bits, as
/// rpm-ostree's importer does, so nothing on a booted host can rewrite a
/// binary in place even through a writable /usr overlay.
enum ReadonlyExecutables {
    /// Symlinks are never followed: only what the tree itself holds changes.
    static func apply(root: RootDirectory) throws -> [String] {
        var changed = 0
        try root.walk { path, info in
            guard info.st_mode & S_IFMT == S_IFREG else { return }
            let mode = info.st_mode & 0o7777
            guard mode & 0o111 != 0, mode & 0o222 != 0 else { return }
            try root.setMode(path, mode & ~0o222)
            changed += 1
        }
        return ["readonly-executables: removed the write bits of \(changed) executables"]
    }
}
