import Foundation

/// `readonly-executables: true`: executables lose their write bits, as
/// rpm-ostree's importer does, so nothing on a booted host can rewrite a
/// binary in place even through a writable /usr overlay.
enum ReadonlyExecutables {
    static func apply(root: URL) throws -> [String] {
        var changed = 0
        let files = FileManager.default
        guard let walker = files.enumerator(atPath: root.path) else { return [] }
        while let relative = walker.nextObject() as? String {
            let path = root.appendingPathComponent(relative).path
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            let mode = info.st_mode & 0o7777
            guard mode & 0o111 != 0, mode & 0o222 != 0 else { continue }
            guard chmod(path, mode & ~0o222) == 0 else {
                throw ComposeError(.postprocess, subject: "/" + relative,
                                   "readonly-executables: cannot change the mode: \(String(cString: strerror(errno)))")
            }
            changed += 1
        }
        return ["readonly-executables: removed the write bits of \(changed) executables"]
    }
}
