import Foundation

/// `remove-files` and `add-files`.
struct TreefileFiles {
    var root: RootDirectory
    var treefile: Treefile

    /// `remove-files`: paths relative to the root (rpm-ostree refuses
    /// absolute paths and `..`); a path that is not there is fine.
    func remove(_ paths: [String]) throws -> [String] {
        var log: [String] = []
        for path in paths {
            if path.hasPrefix("/") {
                throw ComposeError(.postprocess, subject: location("remove-files"),
                                   "remove-files takes paths relative to the root, not \(path) (write \(RootPath.relative(path)))")
            }
            if path.contains("..") {
                throw ComposeError(.postprocess, subject: location("remove-files"), "remove-files: '..' is not allowed in \(path)")
            }
            guard root.exists(path) else {
                log.append("remove-files: \(path): not in the tree")
                continue
            }
            try root.removeIfPresent(path)
            log.append("remove-files: deleted \(path)")
        }
        return log
    }

    /// `add-files`: each source (from the treefile's folder) copied to its
    /// destination with the source's permission bits, owned by root (who
    /// runs the compose).
    func add(_ files: [AddFile]) throws -> [String] {
        var log: [String] = []
        for file in files {
            let destination = RootPath.relative(file.destination)
            guard !destination.isEmpty, !destination.split(separator: "/").contains("..") else {
                throw ComposeError(.postprocess, subject: location("add-files"), "invalid add-files destination \(file.destination)")
            }
            guard let source = treefile.externalFile("add-files", file.source),
                  let content = FileManager.default.contents(atPath: source.path) else {
                throw ComposeError(.postprocess, subject: location("add-files"), "cannot read the add-files source \(file.source)")
            }
            let mode = (try FileManager.default.attributesOfItem(atPath: source.path)[.posixPermissions] as? Int) ?? 0o644
            if root.isDirectory(destination) {
                throw ComposeError(.postprocess, subject: location("add-files"),
                                   "add-files destination \(file.destination) is a directory in the tree")
            }
            try root.write(destination, content, mode: mode_t(mode))
            log.append("add-files: \(file.source) → /\(destination) (mode \(String(mode, radix: 8)))")
        }
        return log
    }

    private func location(_ key: String) -> String {
        treefile.config.locations[key]?.description ?? key
    }
}
