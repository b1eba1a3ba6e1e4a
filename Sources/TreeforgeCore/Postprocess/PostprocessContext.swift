import Foundation
import LibOSTree

/// What every postprocess rule gets: the root it shapes, the treefile it
/// follows, and the ref's previous commit when there is one.
public struct PostprocessContext {
    public let root: RootDirectory
    public let treefile: Treefile
    public let previous: PreviousCommit?
    public let progress: ComposeProgress

    public init(root: URL, treefile: Treefile, previous: PreviousCommit?, progress: ComposeProgress) {
        self.root = RootDirectory(root)
        self.treefile = treefile
        self.previous = previous
        self.progress = progress
    }

    var config: TreefileConfig { treefile.config }
}

extension Treefile {
    /// A file named by a treefile key (`check-passwd` of type file): in the
    /// folder of the treefile that set the key, as the loader resolved it.
    func file(_ name: String, namedBy key: String) -> URL {
        externalFile(key, name) ?? directory.appendingPathComponent(name)
    }
}

/// The head of the ref being composed, read through libostree.
public final class PreviousCommit {
    public let checksum: String
    let repository: OSTreeRepository

    init(checksum: String, repository: OSTreeRepository) {
        self.checksum = checksum
        self.repository = repository
    }

    /// The ref's head in the repository at `repo`; nil when the repository
    /// or the ref does not exist yet.
    public static func head(of ref: String, in repo: URL) throws -> PreviousCommit? {
        guard FileManager.default.fileExists(atPath: repo.appendingPathComponent("config").path) else { return nil }
        do {
            let repository = try OSTreeRepository.open(path: repo.path)
            return try repository.resolve(ref: ref).map { PreviousCommit(checksum: $0, repository: repository) }
        } catch let error as OSTreeError {
            throw ComposeError(.postprocess, subject: "ref \(ref) in \(repo.path)", "cannot read the previous commit: \(error)")
        }
    }

    /// A file's bytes in the commit's tree; nil when it has none there.
    public func file(_ path: String) throws -> Data? {
        do {
            return try repository.fileContents(commit: checksum, path: path)
        } catch let error as OSTreeError {
            throw ComposeError(.postprocess, subject: "\(path) in commit \(checksum)", "cannot read the previous commit's file: \(error)")
        }
    }
}

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
