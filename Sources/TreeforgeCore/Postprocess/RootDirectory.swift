import Foundation

/// File operations inside a root, by path relative to it. Nothing follows a
/// symlink unless it says so: a link in the tree points into the tree, not
/// into the build host.
public struct RootDirectory {
    public let url: URL

    init(_ url: URL) { self.url = url }

    /// The host path of `relative`: its folders resolved as a chroot would
    /// resolve them (a package's `/etc -> /` stays inside the root), its last
    /// component left as it is, for lstat, unlink and rename to act on. A
    /// symlink loop is an error: the host would resolve it differently.
    func path(_ relative: String) throws -> String {
        let parent = Self.parent(of: relative)
        guard !parent.isEmpty else { return url.appendingPathComponent(relative).path }
        let name = String(relative.split(separator: "/").last ?? "")
        return url.appendingPathComponent(try RootPath.resolve(parent, in: url)).appendingPathComponent(name).path
    }

    /// "a/b/c" → "a/b"; "a" → "".
    static func parent(of relative: String) -> String {
        var components = relative.split(separator: "/")
        guard !components.isEmpty else { return "" }
        components.removeLast()
        return components.joined(separator: "/")
    }

    /// lstat(2) of the entry, nil when there is none.
    func status(_ relative: String) -> stat? {
        var info = stat()
        guard let path = try? path(relative) else { return nil }
        return lstat(path, &info) == 0 ? info : nil
    }

    func exists(_ relative: String) -> Bool { status(relative) != nil }

    func isDirectory(_ relative: String) -> Bool { status(relative).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false }

    func isSymlink(_ relative: String) -> Bool { status(relative).map { $0.st_mode & S_IFMT == S_IFLNK } ?? false }

    func entries(_ relative: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: try path(relative)).sorted()
        } catch {
            throw failure(relative, "cannot list the directory", error)
        }
    }

    /// Each entry under the directory `relative` ("" or "." for the whole
    /// tree; links on the way to it followed inside the root), by its path
    /// in the tree and its lstat(2); each directory's names sorted, a
    /// directory before its contents. Only real directories are entered,
    /// each through its parent's descriptor, so no symlink is followed and no
    /// path is resolved again: one fstatat per entry, where `status` of every
    /// path resolved each of its folders (0.7 s of a corpus compose's
    /// postprocess). `body` may remove or add entries in the directory it is
    /// given: the names are read before the first call.
    func walk(_ relative: String = "", _ body: (String, stat) throws -> Void) throws {
        let whole = relative.isEmpty || relative == "."
        // The folder itself resolved as a chroot would (`lib` → `usr/lib`).
        let start = whole ? url.path : url.appendingPathComponent(try RootPath.resolve(relative, in: url)).path
        let descriptor = open(start, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(relative, "cannot list the directory", errno: errno) }
        try walk(descriptor, prefix: whole ? "" : relative + "/", body)
    }

    /// Takes `descriptor` over (closes it).
    private func walk(_ descriptor: Int32, prefix: String, _ body: (String, stat) throws -> Void) throws {
        guard let directory = fdopendir(descriptor) else {
            let code = errno
            close(descriptor)
            throw failure(String(prefix.dropLast()), "cannot list the directory", errno: code)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        names.sort()
        let directoryFD = dirfd(directory)
        for name in names {
            var info = stat()
            // Gone since the listing (removed by `body`): as if never listed.
            guard fstatat(directoryFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let path = prefix + name
            try body(path, info)
            guard info.st_mode & S_IFMT == S_IFDIR else { continue }
            let child = openat(directoryFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { throw failure(path, "cannot list the directory", errno: errno) }
            try walk(child, prefix: path + "/", body)
        }
    }

    func read(_ relative: String) throws -> Data? {
        guard exists(relative) else { return nil }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: try path(relative)))
        } catch {
            throw failure(relative, "cannot read", error)
        }
    }

    func symlinkTarget(_ relative: String) throws -> String {
        do {
            return try FileManager.default.destinationOfSymbolicLink(atPath: try path(relative))
        } catch {
            throw failure(relative, "cannot read the symlink", error)
        }
    }

    /// Writes the file whole (replacing what was there) with this mode.
    func write(_ relative: String, _ contents: Data, mode: mode_t = 0o644) throws {
        try makeDirectory(Self.parent(of: relative))
        do {
            try removeIfPresent(relative)
            try contents.write(to: URL(fileURLWithPath: try path(relative)))
            try setMode(relative, mode)
        } catch let error as ComposeError {
            throw error
        } catch {
            throw failure(relative, "cannot write", error)
        }
    }

    func setMode(_ relative: String, _ mode: mode_t) throws {
        guard chmod(try path(relative), mode) == 0 else { throw failure(relative, "cannot set mode \(String(mode, radix: 8))", errno: errno) }
    }

    /// Creates the directory and its missing parents (each with `mode`); an
    /// existing directory is left as it is.
    /// Symlinks on the way are followed inside the root (`lib/x` with
    /// `lib -> usr/lib` is `usr/lib/x`), as rpm-ostree's cap-std does.
    func makeDirectory(_ relative: String, mode: mode_t = 0o755) throws {
        guard !relative.isEmpty, relative != "." else { return }
        let resolved = try RootPath.resolve(relative, in: url)
        guard !resolved.isEmpty, !isDirectory(resolved) else { return }
        try makeDirectory(Self.parent(of: resolved), mode: mode)
        guard mkdir(try path(resolved), mode) == 0 else { throw failure(relative, "cannot create the directory", errno: errno) }
        try setMode(resolved, mode)
    }

    /// Replaces whatever is at `relative` with a symlink to `target`.
    func symlink(_ relative: String, to target: String) throws {
        try removeIfPresent(relative)
        try makeDirectory(Self.parent(of: relative))
        guard Glibc.symlink(target, try path(relative)) == 0 else { throw failure(relative, "cannot create the symlink to \(target)", errno: errno) }
    }

    func move(_ relative: String, to destination: String) throws {
        try makeDirectory(Self.parent(of: destination))
        guard rename(try path(relative), try path(destination)) == 0 else {
            throw failure(relative, "cannot move it to /\(destination)", errno: errno)
        }
    }

    func removeIfPresent(_ relative: String) throws {
        guard exists(relative) else { return }
        do {
            try FileManager.default.removeItem(atPath: try path(relative))
        } catch {
            throw failure(relative, "cannot remove", error)
        }
    }

    func failure(_ relative: String, _ what: String, _ error: Error) -> ComposeError {
        ComposeError(.postprocess, subject: "/" + relative, "\(what): \(error.localizedDescription)")
    }

    func failure(_ relative: String, _ what: String, errno code: Int32) -> ComposeError {
        ComposeError(.postprocess, subject: "/" + relative, "\(what): \(String(cString: strerror(code)))")
    }
}

/// Paths inside a root that is not the running system's.
enum RootPath {
    /// `path` made relative to the root: leading slashes dropped.
    static func relative(_ path: String) -> String {
        String(path.drop { $0 == "/" })
    }

    /// Follows symlinks inside `root` (absolute targets are taken relative
    /// to the root, as a chroot would see them); returns the root-relative
    /// path of what `path` finally names, which need not exist.
    static func resolve(_ path: String, in root: URL, hops: Int = 40) throws -> String {
        var components = relative(path).split(separator: "/").map(String.init)
        var resolved: [String] = []
        var remaining = hops
        while !components.isEmpty {
            let component = components.removeFirst()
            if component == "." || component.isEmpty { continue }
            if component == ".." { _ = resolved.popLast(); continue }
            let candidate = (resolved + [component]).joined(separator: "/")
            let full = root.appendingPathComponent(candidate).path
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full) {
                remaining -= 1
                guard remaining > 0 else {
                    throw ComposeError(.postprocess, subject: "/" + relative(path), "too many levels of symbolic links inside the tree")
                }
                if target.hasPrefix("/") { resolved = [] }
                components = target.split(separator: "/").map(String.init) + components
            } else {
                resolved.append(component)
            }
        }
        return resolved.joined(separator: "/")
    }
}
