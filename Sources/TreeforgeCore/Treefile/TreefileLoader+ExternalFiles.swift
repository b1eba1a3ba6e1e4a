import Foundation

/// The files a treefile names (`postprocess-script`, `add-files` sources,
/// `check-passwd`/`check-groups` files), found as rpm-ostree's
/// `treefile_parse` opens them.
extension TreefileLoader {
    /// Finds what a treefile names where rpm-ostree opens it, while loading
    /// (so `--print-only` fails on a missing file too): the name joined to the
    /// folder of the naming treefile's path as given, `..` and symlinks
    /// followed by the kernel, so a shared configuration may reach sibling
    /// folders. Nothing is read here (a FIFO cannot block the load); the
    /// input hash and the steps that use a file read it.
    ///
    /// Each (key, name) resolves to one file: for `postprocess-script` and
    /// the check files the first treefile read that names it (the one whose
    /// value wins the merge); for `add-files` the last, as rpm-ostree's
    /// externals map keeps it (a warning when two treefiles mean different files).
    func resolveExternalFiles(_ config: TreefileConfig, of file: URL, chain: [String],
                              into state: inout LoadState) throws {
        var named: [(String, String)] = []
        if let script = config.postprocessScript { named.append(("postprocess-script", script)) }
        named += config.addFiles.map { ("add-files", $0.source) }
        for key in ["check-passwd", "check-groups"] {
            if case .file(let name) = CheckFile(config[key]) { named.append((key, name)) }
        }
        for (key, name) in named {
            let location = config.locations[key]?.description ?? file.path
            let url = try Self.resolve(name, namedBy: file, key: key, at: location, chain: chain)
            let resolved = ExternalFile(key: key, name: name, url: url, location: location)
            guard let index = state.externalFiles.firstIndex(where: { $0.key == key && $0.name == name }) else {
                state.externalFiles.append(resolved)
                continue
            }
            let earlier = state.externalFiles[index]
            guard key == "add-files", earlier.url != url else { continue }
            state.warnings.append("`add-files` names \(name) for two files, \(earlier.url.path) (\(earlier.location)) and \(url.path) (\(location)); "
                                  + "as with rpm-ostree, every add-files entry naming \(name) copies the one read last, \(url.path)")
            state.externalFiles[index] = resolved
        }
    }

    /// `name` as rpm-ostree joins it to the path of the treefile naming it.
    static func joined(_ name: String, namedBy file: URL) -> String {
        name.hasPrefix("/") ? name : file.deletingLastPathComponent().path + "/" + name
    }

    /// The regular file `name` leads to, or an error naming the key, the
    /// name, the path and where the treefile names it.
    static func resolve(_ name: String, namedBy file: URL, key: String, at location: String, chain: [String]) throws -> URL {
        let path = joined(name, namedBy: file)
        func failure(_ why: String) -> ComposeError {
            ComposeError(.load, subject: location, "`\(key)` names \(name), which \(why)", details: chain)
        }
        guard !name.isEmpty else { throw failure("is empty: a file name is needed") }
        guard let real = realPath(path) else {
            let reason = errno
            if reason == ENOENT || reason == ENOTDIR {
                // Where it would be: its folder resolved, when that exists.
                let folder = (path as NSString).deletingLastPathComponent
                let near = realPath(folder).map { $0 + "/" + (path as NSString).lastPathComponent } ?? path
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: near) {
                    throw failure("does not exist (\(near) is a symlink to \(target), which is missing)")
                }
                throw failure("does not exist (\(near))")
            }
            throw failure("cannot be resolved (\(path)): \(String(cString: strerror(reason)))")
        }
        var info = stat()
        guard stat(real, &info) == 0 else { throw failure("cannot be read (\(real)): \(String(cString: strerror(errno)))") }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw failure("is a directory (\(real)), not a file")
        default: throw failure("is not a regular file (\(real))")
        }
        guard access(real, R_OK) == 0 else { throw failure("cannot be read (\(real)): \(String(cString: strerror(errno)))") }
        return URL(fileURLWithPath: real)
    }

    /// realpath(3): the path the kernel reaches, with `..` taken after each
    /// symlink is followed (not lexically).
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
