import Foundation
import LibSolv

/// Loads one rpm-md repository into a pool: repomd.xml, then primary (and
/// filelists when asked), each checked against the checksum repomd.xml gives
/// for it (libsolv does not check). The parsed result is cached as a
/// `SolvCacheFile` keyed by repomd.xml's own checksum, which names every
/// metadata file by checksum: a warm load parses no XML. A cache file that
/// fails its check (or that libsolv refuses) is discarded with a warning and
/// the XML parsed again: a damaged cache costs time, never the answer.
struct RepositoryLoader {
    let pool: SolvPool
    let access: RepositoryAccess
    /// Where `.solv` files go; nil: no cache.
    let solvCache: URL?
    /// Told about what does not stop the resolve (a cache file discarded).
    var warn: (String) -> Void = { _ in }

    func load(_ definition: RepoDefinition, withFilelists: Bool) throws -> RepoState {
        let subject = "repo \(definition.id)"
        if !definition.isRemote {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: definition.baseURL.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ComposeError(.resolve, subject: subject, "repository directory \(definition.baseURL.path) does not exist (defined at \(definition.definedAt))")
            }
        }
        let repomd = try access.repomd(of: definition)
        guard FileManager.default.fileExists(atPath: repomd.path) else {
            throw ComposeError(.resolve, subject: subject, "\(repomd.path) does not exist: not an rpm-md repository (run createrepo_c on it)")
        }
        // dnf: a lower priority number wins; among equals, a lower cost.
        let (priority, subpriority) = definition.solvPriorities
        let repo = pool.addRepository(name: definition.id, priority: priority, subpriority: subpriority)
        // Only the primary data is cached: libsolv writes a repository with
        // millions of file-list entries very slowly (about 80 s for Debian's
        // 7.9M), while parsing filelists.xml again takes a few seconds.
        let repomdSHA256 = try Checksum.sha256.hex(ofFileAt: repomd.path)
        let cache = solvCache.map {
            SolvCacheFile(url: $0.appendingPathComponent("\(definition.id)-\(repomdSHA256).solv"), repoID: definition.id, key: repomdSHA256)
        }
        let keys = definition.gpgcheck ? try access.gpgKeyFiles(of: definition) : []
        func state() -> RepoState {
            var state = RepoState(id: definition.id, path: access.localPath("", of: definition).path, revision: repo.revision,
                                  repomdSHA256: repomdSHA256, packageCount: repo.packageCount, gpgcheck: definition.gpgcheck,
                                  gpgkeys: keys.map(\.path))
            (state.priority, state.cost) = (definition.priority, definition.cost)
            (state.excludePackages, state.includePackages) = (definition.excludePackages, definition.includePackages)
            return state
        }
        let cached = cache.map { loadCached($0, into: repo, subject: subject) } ?? false
        if !cached {
            do {
                try repo.addRepomd(path: repomd.path)
            } catch {
                throw unreadableRepomd(repomd, of: definition, error)
            }
            guard let primary = repo.repomdEntry("primary") else {
                throw ComposeError(.resolve, subject: subject, "\(repomd.path) lists no primary metadata")
            }
            try loadVerified(primary, into: repo, definition: definition, extending: false)
            if let cache {
                // A cache that cannot be written costs speed, not correctness.
                do {
                    try cache.write(try repo.solvContents())
                } catch {
                    warn("\(subject): cannot write the metadata cache file \(cache.url.path): \(error); the next resolve parses the XML again")
                }
            }
        }
        if withFilelists, let filelists = repo.repomdEntry("filelists") {
            try loadVerified(filelists, into: repo, definition: definition, extending: true)
        }
        return state()
    }

    /// Fills the repository from its cache file when the file passes its
    /// check and libsolv reads it; otherwise discards the file (the caller
    /// parses the XML and writes it again) and leaves the repository empty.
    private func loadCached(_ cache: SolvCacheFile, into repo: SolvRepository, subject: String) -> Bool {
        let problem: String
        switch cache.read() {
        case .missing:
            return false
        case .usable(let contents):
            do {
                try repo.addSolv(contents: contents)
                return true
            } catch {
                // The wrapper has emptied the repository: nothing half-loaded stays in the pool.
                problem = "libsolv could not read it: \(error)"
            }
        case .damaged(let reason):
            problem = reason
        }
        warn("\(subject): discarded a damaged metadata cache file \(cache.url.path) (\(problem)); re-parsing the repository's XML metadata")
        try? FileManager.default.removeItem(at: cache.url)
        return false
    }

    /// repomd.xml could not be parsed: say which copy and what to do.
    private func unreadableRepomd(_ repomd: URL, of definition: RepoDefinition, _ error: Error) -> ComposeError {
        let subject = "repo \(definition.id)"
        // libsolv's parser message ("no element found at line 5:103"), without the path said again.
        let why = (error as? SolvError)?.message ?? "\(error)"
        guard definition.isRemote else {
            return ComposeError(.resolve, subject: subject, "cannot read \(repomd.path): \(why) (truncated or corrupt: rerun createrepo_c)")
        }
        if access.cacheOnly {
            return ComposeError(.resolve, subject: subject,
                                "the cached repomd.xml \(repomd.path) is truncated or corrupt (\(why)); --cache-only cannot fetch it again: run without --cache-only, or refill the cache with --download-only")
        }
        let url = access.remoteURL("repodata/repomd.xml", of: definition)?.absoluteString ?? repomd.path
        return ComposeError(.resolve, subject: subject, "repomd.xml as fetched from \(url) cannot be read: \(why) (the server's copy is truncated or corrupt)")
    }

    private func loadVerified(_ entry: SolvRepository.RepomdEntry, into repo: SolvRepository, definition: RepoDefinition,
                              extending: Bool) throws {
        let subject = "repo \(definition.id)"
        guard let kind = entry.checksumType, let expected = entry.checksum else {
            throw ComposeError(.resolve, subject: subject, "repomd.xml gives no usable checksum for \(entry.location)")
        }
        let path: URL
        do {
            path = try access.verifiedFile(entry.location, of: definition, checksum: kind, expected: expected,
                                           size: entry.size, stage: .resolve, subject: subject)
        } catch let mismatch as RepositoryAccess.ChecksumMismatch {
            throw ComposeError(.resolve, subject: subject,
                               "\(entry.location) does not match repomd.xml: \(mismatch.source): \(mismatch.reason) (stale or corrupt repodata; rerun createrepo_c)")
        }
        do {
            try repo.addRpmmd(path: path.path, extending: extending)
        } catch {
            throw ComposeError(.resolve, subject: subject, "cannot parse \(entry.type) metadata \(entry.location): \(error)")
        }
    }
}
