import CSolv
import Foundation

/// A repository inside a `SolvPool`. The pool owns the C object; this value
/// keeps the pool alive.
public final class SolvRepository {
    public let pool: SolvPool
    let raw: UnsafeMutablePointer<Repo>

    init(pool: SolvPool, raw: UnsafeMutablePointer<Repo>) {
        self.pool = pool
        self.raw = raw
    }

    public var name: String { String(cString: raw.pointee.name) }
    public var packageCount: Int { Int(raw.pointee.nsolvables) }

    /// One entry of repomd.xml: the file of one data type and its checksum.
    public struct RepomdEntry: Sendable, Equatable {
        public let type: String
        public let location: String
        public let checksumType: Checksum?
        public let checksum: String?
    }

    /// Reads repomd.xml into the repository's metadata.
    public func addRepomd(path: String) throws {
        try withFile(path, compressed: false) { fp in
            repo_add_repomdxml(raw, fp, 0)
        }
    }

    /// The repomd.xml entry for a data type, once `addRepomd` has run.
    public func repomdEntry(_ type: String) -> RepomdEntry? {
        var location: UnsafePointer<CChar>?
        var checksumType: Id = 0
        var checksum: UnsafePointer<UInt8>?
        guard csolv_repomd_entry(raw, type, &location, &checksumType, &checksum) != 0,
              let location else { return nil }
        var kind: Checksum?
        var hex: String?
        if let checksum, checksumType != 0 {
            kind = solv_chksum_type2str(checksumType).flatMap { Checksum(repomdName: String(cString: $0)) }
            hex = Checksum.hexString(checksum, count: Int(solv_chksum_len(checksumType)))
        }
        return RepomdEntry(type: type, location: String(cString: location), checksumType: kind, checksum: hex)
    }

    /// repomd.xml's `<revision>`, which names this state of the repository.
    public var revision: String? { csolv_repomd_revision(raw).map { String(cString: $0) } }

    /// Adds primary.xml (or, with `extending`, filelists.xml to the packages
    /// already added). Compressed files are read through libsolv's xfopen.
    public func addRpmmd(path: String, extending: Bool = false) throws {
        // File lists go to a local string pool: millions of paths would bloat the global one.
        let flags = extending ? Int32(REPO_EXTEND_SOLVABLES | REPO_LOCALPOOL) : 0
        try withFile(path, compressed: true) { fp in
            repo_add_rpmmd(raw, fp, nil, flags)
        }
    }

    fileprivate func withFile(_ path: String, compressed: Bool, _ body: (UnsafeMutablePointer<FILE>) -> Int32) throws {
        let opened = compressed ? solv_xfopen(path, "r") : fopen(path, "r")
        guard let fp = opened else {
            throw SolvError(function: "fopen", message: String(cString: strerror(errno)), path: path)
        }
        let rc = body(fp)
        // A truncated gzip stream shows up as a read error at close.
        let closed = fclose(fp)
        if rc != 0 {
            throw SolvError(function: "repo_add", message: pool.lastError, path: path)
        }
        if closed != 0 {
            throw SolvError(function: "fclose", message: "the file is truncated or not valid compressed data", path: path)
        }
    }
}

extension SolvRepository {
    /// Adds a repository from libsolv's own `.solv` format (written by
    /// `writeSolv`): no XML is parsed.
    public func addSolv(path: String) throws {
        try withFile(path, compressed: false) { fp in repo_add_solv(raw, fp, 0) }
    }

    /// Writes the repository (packages and repomd metadata) as a `.solv`
    /// file, atomically: a temporary file renamed into place.
    public func writeSolv(path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard let fp = fopen(temporary, "w") else {
            throw SolvError(function: "fopen", message: String(cString: strerror(errno)), path: temporary)
        }
        let rc = repo_write(raw, fp)
        let closed = fclose(fp)
        guard rc == 0, closed == 0 else {
            unlink(temporary)
            throw SolvError(function: "repo_write", message: pool.lastError, path: path)
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw SolvError(function: "rename", message: String(cString: strerror(errno)), path: path)
        }
    }
}
