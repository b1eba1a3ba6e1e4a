import Foundation
import LibSolv

/// How repository files are reached: local repositories in place; HTTP(S)
/// repositories through a cache (`<cachedir>/repos/<id>/`, laid out like the
/// repository), refreshed from the network unless `cacheOnly`.
public struct RepositoryAccess: Sendable {
    /// Where remote repositories are cached (and parsed metadata, as `.solv`).
    public var cachedir: URL?
    /// Use only what the cache holds: no network (isolated builders).
    public var cacheOnly = false
    /// Seconds per HTTP attempt.
    public var timeout: TimeInterval = 30

    public init(cachedir: URL? = nil, cacheOnly: Bool = false, timeout: TimeInterval = 30) {
        self.cachedir = cachedir
        self.cacheOnly = cacheOnly
        self.timeout = timeout
    }

    /// Without --cachedir, remote repositories are cached here.
    static let defaultCache = URL(fileURLWithPath: "/var/cache/treeforge")

    func cacheFolder(for repo: RepoDefinition) -> URL {
        (cachedir ?? Self.defaultCache).appendingPathComponent("repos/\(repo.id)")
    }

    /// Where a file of the repository is (or will be) on this machine.
    func localPath(_ relative: String, of repo: RepoDefinition) -> URL {
        repo.isRemote ? cacheFolder(for: repo).appendingPathComponent(relative) : repo.baseURL.appendingPathComponent(relative)
    }

    func remoteURL(_ relative: String, of repo: RepoDefinition) -> URL? {
        repo.isRemote ? URL(string: relative, relativeTo: repo.baseURL)?.absoluteURL : nil
    }

    /// repomd.xml, fetched afresh for a remote repository (it is what says
    /// whether anything changed), from the cache with `cacheOnly`.
    func repomd(of repo: RepoDefinition) throws -> URL {
        let path = localPath("repodata/repomd.xml", of: repo)
        guard repo.isRemote else { return path }
        if cacheOnly {
            guard FileManager.default.fileExists(atPath: path.path) else {
                throw ComposeError(.resolve, subject: "repo \(repo.id)", "--cache-only: no cached repodata in \(cacheFolder(for: repo).path) (run once with network, or with --download-only)")
            }
            return path
        }
        try fetch("repodata/repomd.xml", of: repo, to: path, stage: .resolve)
        return path
    }

    /// The repository's `gpgkey=` files on this machine: local ones where
    /// they are (the rpm child reports one that is missing), remote ones
    /// fetched afresh into `<cache>/gpgkeys/` (from the cache with
    /// `cacheOnly`). Keys carry no checksum in any metadata: the copy is
    /// trusted as the `.repo` file's author trusts its URL.
    func gpgKeyFiles(of repo: RepoDefinition) throws -> [URL] {
        try repo.gpgkeys.enumerated().map { index, key in
            guard !key.isFileURL else { return key }
            let cached = cacheFolder(for: repo).appendingPathComponent("gpgkeys/\(index)-\(key.lastPathComponent)")
            if cacheOnly {
                guard FileManager.default.fileExists(atPath: cached.path) else {
                    throw ComposeError(.resolve, subject: "repo \(repo.id)", "--cache-only: its gpgkey \(key.absoluteString) is not in the cache")
                }
                return cached
            }
            do {
                try HTTPDownloader(timeout: timeout).download(key, to: cached)
            } catch let failure as HTTPDownloader.Failure {
                throw ComposeError(.resolve, subject: "repo \(repo.id)", "cannot fetch its gpgkey: \(failure.description)")
            }
            return cached
        }
    }

    /// A file whose content is not what the metadata describes.
    struct ChecksumMismatch: Error {
        /// The file, or the URL it was fetched from.
        let source: String
        /// What differs (`FileCheck.damage`).
        let reason: String
    }

    /// A file named with its checksum (metadata, packages): the cached copy
    /// when it matches (size first, then checksum), otherwise fetched afresh
    /// and checked: a damaged cached copy is replaced, never used. Throws
    /// `ChecksumMismatch` when the file (fetched or local) does not match.
    func verifiedFile(_ relative: String, of repo: RepoDefinition, checksum: Checksum, expected: String, size: UInt64? = nil,
                      stage: Stage, subject: String) throws -> URL {
        let path = localPath(relative, of: repo)
        let exists = FileManager.default.fileExists(atPath: path.path)
        let damage = exists ? try FileCheck.damage(of: path.path, checksum: checksum, expected: expected, size: size) : nil
        if exists, damage == nil { return path }
        guard repo.isRemote else {
            if !exists {
                throw ComposeError(stage, subject: subject, "\(path.path) is missing from repo \(repo.id)")
            }
            throw ChecksumMismatch(source: path.path, reason: damage!)
        }
        if cacheOnly {
            throw Self.cacheOnlyError(stage, subject: subject, file: path, repoID: repo.id, damage: damage)
        }
        try fetch(relative, of: repo, to: path, stage: stage)
        if let damage = try FileCheck.damage(of: path.path, checksum: checksum, expected: expected, size: size) {
            try? FileManager.default.removeItem(at: path)
            throw ChecksumMismatch(source: remoteURL(relative, of: repo)!.absoluteString, reason: damage)
        }
        return path
    }

    /// With `--cache-only`, a file the cache lacks or holds damaged: which
    /// one, why, and how to get it.
    static func cacheOnlyError(_ stage: Stage, subject: String, file: URL, repoID: String, damage: String?) -> ComposeError {
        guard let damage else {
            return ComposeError(stage, subject: subject,
                                "--cache-only: \(file.path) of repo \(repoID) is not in the cache (run without --cache-only to fetch it, or fill the cache with --download-only)")
        }
        let remedy = "run without --cache-only to fetch it again, or refill the cache with --download-only"
        return ComposeError(stage, subject: subject,
                            "--cache-only: the cached copy \(file.path) of repo \(repoID) is damaged (\(damage)); \(remedy)")
    }

    private func fetch(_ relative: String, of repo: RepoDefinition, to path: URL, stage: Stage) throws {
        guard let url = remoteURL(relative, of: repo) else { return }
        do {
            try HTTPDownloader(timeout: timeout).download(url, to: path)
        } catch let failure as HTTPDownloader.Failure {
            throw ComposeError(stage, subject: "repo \(repo.id)", failure.description)
        }
    }
}

extension RepositoryAccess {
    /// Makes a remote package's RPM available at its cache path, checked
    /// against its repository's size and checksum: a damaged cached copy is
    /// fetched again, never used. Local packages are left to the installer's
    /// own check. Returns whether it was downloaded.
    @discardableResult
    func fetch(_ package: ResolvedPackage) throws -> Bool {
        guard let url = package.url.flatMap(URL.init(string:)) else { return false }
        let path = URL(fileURLWithPath: package.path)
        let exists = FileManager.default.fileExists(atPath: path.path)
        let damage = exists ? try package.damage(stage: .download) : nil
        if exists, damage == nil { return false }
        if cacheOnly {
            throw Self.cacheOnlyError(.download, subject: package.nevra, file: path, repoID: package.repository, damage: damage)
        }
        do {
            try HTTPDownloader(timeout: timeout).download(url, to: path)
        } catch let failure as HTTPDownloader.Failure {
            throw ComposeError(.download, subject: package.nevra, failure.description)
        }
        if let damage = try package.damage(stage: .download) {
            try? FileManager.default.removeItem(at: path)
            throw ComposeError(.download, subject: package.nevra,
                               "\(url.absoluteString) does not match repo \(package.repository)'s metadata: \(damage)")
        }
        return true
    }
}
