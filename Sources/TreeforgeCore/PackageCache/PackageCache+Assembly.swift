import Foundation
import LibOSTree

/// A root assembled from cached packages: each package's commit checked out
/// over the others by hardlinks to the cache's objects, then what a
/// `bare-user` object cannot carry made on copies of their own.
extension PackageCache {
    /// Lays the packages' files out in `root` as librpm would unpack them,
    /// owners aside (`applyOwners`). On the cache's filesystem the files are
    /// hardlinks to its objects (returns true), and a path two packages ship
    /// must be the same object in both; elsewhere (a root in memory) they
    /// are copies.
    @discardableResult
    public func assemble(_ packages: [Package], into root: URL) throws -> Bool {
        let repository = try openRepository()
        let hardlinks = Self.device(of: root) == Self.device(of: repositoryURL)
        for package in packages {
            do {
                try repository.checkoutLayer(commit: package.commit, into: root.path, hardlinks: hardlinks)
            } catch let error as OSTreeError {
                throw ComposeError(.install, subject: package.nevra, "cannot lay out the package from the cache \(repositoryURL.path): \(error)")
            }
        }
        for package in packages {
            for special in package.specialModes {
                try Self.onOwnCopy(root.path + special.path, nevra: package.nevra) { fd in fchmod(fd, mode_t(special.mode)) }
            }
            // A checkout keeps the mode of the first layer that made a folder
            // (0755 for a parent it does not list); librpm gives a listed
            // folder its listed mode, whoever made it first.
            for directory in package.directories where chmod(root.path + directory.path, mode_t(directory.mode)) != 0 {
                throw ComposeError(.install, subject: package.nevra, "cannot set the mode of \(directory.path): \(String(cString: strerror(errno)))")
            }
        }
        return hardlinks
    }

    /// Folders that several packages list with different modes or owners:
    /// librpm's transaction order decides which one wins, an order the cache
    /// does not know.
    public static func disagreeingDirectories(_ packages: [Package]) -> [(path: String, packages: [String])] {
        var listed: [String: [(nevra: String, directory: Directory)]] = [:]
        for package in packages {
            for directory in package.directories { listed[directory.path, default: []].append((package.nevra, directory)) }
        }
        return listed.filter { _, listings in
            listings.contains { ($0.directory.mode, $0.directory.user, $0.directory.group) != (listings[0].directory.mode, listings[0].directory.user, listings[0].directory.group) }
        }.map { ($0.key, $0.value.map(\.nevra)) }.sorted { $0.path < $1.path }
    }

    static func device(of url: URL) -> UInt64? {
        var status = stat()
        return stat(url.path, &status) == 0 ? UInt64(status.st_dev) : nil
    }

    /// Gives the entries rpm would give another owner that owner, resolved
    /// in the root's own `/etc/passwd` and `/etc/group` as librpm does.
    /// Returns the names the root does not know (rpm would fall back to
    /// root for them, but only after the packages' `%pre` had their chance
    /// to create them: the caller decides).
    public static func unknownOwners(_ packages: [Package], in root: URL) -> [String] {
        let users = Self.ids(root.appendingPathComponent("etc/passwd"))
        let groups = Self.ids(root.appendingPathComponent("etc/group"))
        var unknown: [String] = []
        for owner in packages.flatMap(\.owners) {
            if users[owner.user] == nil, !unknown.contains("user \(owner.user)") { unknown.append("user \(owner.user)") }
            if groups[owner.group] == nil, !unknown.contains("group \(owner.group)") { unknown.append("group \(owner.group)") }
        }
        return unknown
    }

    /// Sets the owners `unknownOwners` found known; regular files on a copy
    /// of their own, so the cache's object keeps its owner.
    public static func applyOwners(_ packages: [Package], in root: URL) throws {
        let users = Self.ids(root.appendingPathComponent("etc/passwd"))
        let groups = Self.ids(root.appendingPathComponent("etc/group"))
        for package in packages {
            for owner in package.owners {
                let path = root.path + owner.path
                let uid = users[owner.user] ?? 0, gid = groups[owner.group] ?? 0
                var status = stat()
                guard lstat(path, &status) == 0 else { continue }
                if status.st_mode & S_IFMT == S_IFREG {
                    // chown clears setuid and setgid: set the mode again after it, as rpm does.
                    let mode = status.st_mode & 0o7777
                    try onOwnCopy(path, nevra: package.nevra) { fd in
                        fchown(fd, uid, gid) == 0 ? fchmod(fd, mode) : -1
                    }
                } else if lchown(path, uid, gid) != 0 {
                    throw ComposeError(.install, subject: package.nevra, "cannot give \(owner.path) to \(owner.user):\(owner.group): \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// Replaces the file at `path` with a copy of it (the cache's object
    /// stays as it was), changed by `change` before it takes the name.
    static func onOwnCopy(_ path: String, nevra: String, _ change: (Int32) -> Int32) throws {
        let copy = (path as NSString).deletingLastPathComponent + "/.treeforge-copy-" + (path as NSString).lastPathComponent
        do {
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: path, toPath: copy)
        } catch {
            throw ComposeError(.install, subject: nevra, "cannot copy \(path) out of the package cache: \(error.localizedDescription)")
        }
        let fd = open(copy, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        var failure: String?
        if fd < 0 || change(fd) != 0 { failure = String(cString: strerror(errno)) }
        if fd >= 0, close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil, rename(copy, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(copy)
            throw ComposeError(.install, subject: nevra, "cannot set the metadata of \(path): \(failure)")
        }
    }

    /// Name → id from a passwd or group file (nil entries when unreadable).
    static func ids(_ file: URL) -> [String: UInt32] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [:] }
        var ids: [String: UInt32] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 3, let id = UInt32(fields[2]), ids[String(fields[0])] == nil { ids[String(fields[0])] = id }
        }
        return ids
    }
}
