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

    /// One entry of repomd.xml: the file of one data type, its checksum and size.
    public struct RepomdEntry: Sendable, Equatable {
        public let type: String
        public let location: String
        public let checksumType: Checksum?
        public let checksum: String?
        /// Bytes; nil when repomd.xml gives no `<size>`.
        public let size: UInt64?
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
        var size: UInt64 = 0
        guard csolv_repomd_entry(raw, type, &location, &checksumType, &checksum, &size) != 0,
              let location else { return nil }
        var kind: Checksum?
        var hex: String?
        if let checksum, checksumType != 0 {
            kind = solv_chksum_type2str(checksumType).flatMap { Checksum(repomdName: String(cString: $0)) }
            hex = Checksum.hexString(checksum, count: Int(solv_chksum_len(checksumType)))
        }
        return RepomdEntry(type: type, location: String(cString: location), checksumType: kind, checksum: hex,
                           size: size == 0 ? nil : size)
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
    /// The version of the libsolv running now. libsolv's `.solv` format is
    /// its own: a file is only worth reading by the version that wrote it.
    public static var libsolvVersion: String { String(cString: csolv_runtime_version()) }

    /// Adds packages from libsolv's own `.solv` format (as `solvContents`
    /// gives it): no XML is parsed.
    ///
    /// libsolv trusts these bytes: a truncated `.solv` file can crash it
    /// (libsolv 0.7.23 dereferences a bad pointer on an 8-byte file), so
    /// callers check them first (size and checksum). They are read from
    /// memory, never from a file: libsolv then loads every page at once
    /// instead of reading pages later from a file that may have changed.
    ///
    /// When libsolv fails part-way, the packages it had added are removed:
    /// the repository is left empty, ready to be filled again from XML.
    public func addSolv(contents: Data) throws {
        guard !contents.isEmpty else {
            throw SolvError(function: "repo_add_solv", message: "no data")
        }
        let rc: Int32 = try contents.withUnsafeBytes { bytes in
            // Read-only ("r"): fmemopen never writes through the pointer.
            guard let fp = fmemopen(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count, "r") else {
                throw SolvError(function: "fmemopen", message: String(cString: strerror(errno)))
            }
            defer { fclose(fp) }
            return repo_add_solv(raw, fp, 0)
        }
        if rc != 0 {
            let message = pool.lastError
            repo_empty(raw, 1)
            throw SolvError(function: "repo_add_solv", message: message)
        }
    }

    /// The repository (packages and repomd metadata) in libsolv's `.solv`
    /// format, for `addSolv(contents:)` to read back.
    public func solvContents() throws -> Data {
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let fp = open_memstream(&buffer, &size) else {
            throw SolvError(function: "open_memstream", message: String(cString: strerror(errno)))
        }
        let rc = repo_write(raw, fp)
        // fclose flushes the stream and sets buffer and size.
        let closed = fclose(fp)
        defer { free(buffer) }
        guard rc == 0, closed == 0, let buffer else {
            throw SolvError(function: "repo_write", message: pool.lastError)
        }
        return Data(bytes: buffer, count: size)
    }
}
