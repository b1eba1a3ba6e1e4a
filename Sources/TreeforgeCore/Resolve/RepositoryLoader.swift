import Foundation
import LibSolv

/// Loads one rpm-md repository into a pool, verifying each metadata file
/// against the checksum repomd.xml gives for it (libsolv does not check).
struct RepositoryLoader {
    let pool: SolvPool
    let cachedir: URL?

    func load(_ definition: RepoDefinition) throws -> RepoState {
        let base = definition.baseURL
        let subject = "repo \(definition.id)"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ComposeError(.resolve, subject: subject, "repository directory \(base.path) does not exist (defined at \(definition.definedAt))")
        }
        let repomd = base.appendingPathComponent("repodata/repomd.xml").path
        guard FileManager.default.fileExists(atPath: repomd) else {
            throw ComposeError(.resolve, subject: subject, "\(repomd) does not exist: not an rpm-md repository (run createrepo_c on it)")
        }
        // repomd.xml names every metadata file by checksum, so its own
        // checksum identifies the parsed result exactly.
        let cacheFile = try cachedir.map { dir -> URL in
            let key = try Checksum.sha256.hex(ofFileAt: repomd)
            return dir.appendingPathComponent("solv/\(definition.id)-\(key).solv")
        }
        let repo = pool.addRepository(name: definition.id)
        if let cacheFile, FileManager.default.fileExists(atPath: cacheFile.path),
           (try? repo.addSolv(path: cacheFile.path)) != nil {
            return RepoState(id: definition.id, path: base.path, revision: repo.revision, packageCount: repo.packageCount)
        }
        do {
            try repo.addRepomd(path: repomd)
        } catch {
            throw ComposeError(.resolve, subject: subject, "cannot read repomd.xml: \(error)")
        }
        guard let primary = repo.repomdEntry("primary") else {
            throw ComposeError(.resolve, subject: subject, "\(repomd) lists no primary metadata")
        }
        try loadVerified(primary, into: repo, base: base, extending: false, subject: subject)
        // File dependencies outside /etc and *bin/ need the full file lists.
        if let filelists = repo.repomdEntry("filelists") {
            try loadVerified(filelists, into: repo, base: base, extending: true, subject: subject)
        }
        if let cacheFile { writeCache(repo, to: cacheFile) }
        return RepoState(id: definition.id, path: base.path, revision: repo.revision, packageCount: repo.packageCount)
    }

    /// A cache that cannot be written costs speed, not correctness.
    private func writeCache(_ repo: SolvRepository, to file: URL) {
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? repo.writeSolv(path: file.path)
    }

    private func loadVerified(_ entry: SolvRepository.RepomdEntry, into repo: SolvRepository, base: URL,
                              extending: Bool, subject: String) throws {
        let path = base.appendingPathComponent(entry.location).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ComposeError(.resolve, subject: subject, "\(entry.type) metadata \(path) named by repomd.xml is missing")
        }
        guard let kind = entry.checksumType, let expected = entry.checksum else {
            throw ComposeError(.resolve, subject: subject, "repomd.xml gives no usable checksum for \(entry.location)")
        }
        let actual = try kind.hex(ofFileAt: path)
        guard actual == expected else {
            throw ComposeError(.resolve, subject: subject,
                               "\(entry.location) does not match repomd.xml: \(kind.rawValue) is \(actual), expected \(expected) (stale or corrupt repodata; rerun createrepo_c)")
        }
        do {
            try repo.addRpmmd(path: path, extending: extending)
        } catch {
            throw ComposeError(.resolve, subject: subject, "cannot parse \(entry.type) metadata: \(error)")
        }
    }
}
