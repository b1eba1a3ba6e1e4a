import CRpm
import Foundation

/// A package file's header and its payload, read without installing: each
/// file of the payload in archive order, with the content librpm would write
/// for it. What the package cache imports into OSTree objects.
///
/// Reads on the calling thread and uses no transaction, so several packages
/// can be read at once on several threads (librpm's global state is only
/// touched by `rpmReadConfigFiles`, done once before).
public final class RPMPackageArchive {
    public let path: String
    public let name: String
    public let nevra: String
    /// The header's SHA-256 (the signature header's `SHA256HEADER`): the
    /// package's identity, whatever the file is called or compressed with.
    public let headerSHA256: String
    /// The install-time scriptlets the header carries, as rpm names them
    /// (`%pretrans`, `%pre`, `%post`, `%posttrans`), in that order.
    public let installScriptlets: [String]
    /// Whether the header carries triggers or file triggers of any kind:
    /// scriptlets that run on other packages' installs.
    public let hasTriggers: Bool

    /// One entry of the payload, as the header describes it.
    public struct Entry: Sendable, Equatable {
        /// Absolute, as installed (`/usr/bin/bash`).
        public let path: String
        /// st_mode bits, file type included.
        public let mode: UInt32
        public let user: String
        public let group: String
        /// Bytes of content (regular files).
        public let size: UInt64
        /// The target (symbolic links).
        public let linkTarget: String
        /// RPMFILE_* flags (%config, %doc, %license, …).
        public let flags: UInt32
        /// File capabilities as text (`cap_net_raw=ep`), empty when none.
        public let capabilities: String
        /// Names in its hardlink set (1 when none).
        public let links: Int
        /// Device number (character and block devices).
        public let rdev: UInt32
        /// For a member of a hardlink set, the set's identity (the same for
        /// every member); nil otherwise.
        public let hardlinkSet: Int?

        // S_IFMT and friends, spelled out: both Glibc and librpm's headers
        // export them to this module.
        public var isRegular: Bool { mode & 0o170000 == 0o100000 }
        public var isDirectory: Bool { mode & 0o170000 == 0o040000 }
        public var isSymlink: Bool { mode & 0o170000 == 0o120000 }
        public var isDocumentation: Bool { flags & (UInt32(RPMFILE_DOC.rawValue) | UInt32(RPMFILE_LICENSE.rawValue)) != 0 }
    }

    /// Reads the header of the package at `path` (`OpenedPackage`).
    public init(packageAt path: String) throws {
        self.path = path
        let package = try OpenedPackage(path: path)
        defer { withExtendedLifetime(package) {} }
        name = headerGetString(package.header, rpmTagVal(RPMTAG_NAME.rawValue)).map { String(cString: $0) } ?? ""
        nevra = RPMTransaction.nevra(of: package.header)
        guard let digest = headerGetString(package.header, rpmTagVal(RPMTAG_SHA256HEADER.rawValue)).map({ String(cString: $0) }), !digest.isEmpty else {
            throw RPMError(function: "headerGetString", package: path, message: "the package has no SHA-256 header digest (built by an rpm older than 4.14?)")
        }
        headerSHA256 = digest
        let header = package.header
        let present = { (tag: rpmTag_e) in headerIsEntry(header, rpmTagVal(tag.rawValue)) != 0 }
        // A body, or only a program (`%post -p /sbin/ldconfig`).
        let scriptlets: [(body: rpmTag_e, program: rpmTag_e, name: String)] = [
            (RPMTAG_PRETRANS, RPMTAG_PRETRANSPROG, "%pretrans"), (RPMTAG_PREIN, RPMTAG_PREINPROG, "%pre"),
            (RPMTAG_POSTIN, RPMTAG_POSTINPROG, "%post"), (RPMTAG_POSTTRANS, RPMTAG_POSTTRANSPROG, "%posttrans"),
        ]
        installScriptlets = scriptlets.filter { present($0.body) || present($0.program) }.map(\.name)
        hasTriggers = [RPMTAG_TRIGGERNAME, RPMTAG_FILETRIGGERNAME, RPMTAG_TRANSFILETRIGGERNAME].contains { present($0) }
    }

    /// Every entry of the payload in archive order, with its content for
    /// regular files (the whole file; nil for directories and links, and for
    /// the members of a hardlink set but the last, which carries the set's
    /// content: librpm gives the one inode that member's metadata).
    /// `%ghost` files are in the header only, never in the payload, and are
    /// not visited.
    public func forEachEntry(_ body: (Entry, UnsafeRawBufferPointer?) throws -> Void) throws {
        // Opened again, the file at the payload's start.
        let package = try OpenedPackage(path: path)
        let header = package.header
        // The header and file belong to `package`: keep it to the end.
        defer { withExtendedLifetime(package) {} }
        let compressor = headerGetString(header, rpmTagVal(RPMTAG_PAYLOADCOMPRESSOR.rawValue)).map { String(cString: $0) } ?? "gzip"
        guard let payload = Fdopen(package.fd, "r.\(compressor)") else {
            throw RPMError(function: "Fdopen", package: path, message: "cannot read a payload compressed with \(compressor)")
        }
        guard let files = rpmfilesNew(nil, header, rpmTagVal(RPMTAG_BASENAMES.rawValue), CRPM_FI_FLAGS_INSTALL) else {
            throw RPMError(function: "rpmfilesNew", package: path, message: "the header's file list is unreadable")
        }
        defer { rpmfilesFree(files) }
        guard let archive = rpmfiNewArchiveReader(payload, files, Int32(RPMFI_ITER_READ_ARCHIVE.rawValue)) else {
            throw RPMError(function: "rpmfiNewArchiveReader", package: path, message: "the payload is not an archive librpm reads")
        }
        defer { rpmfiFree(archive) }
        var buffer = [UInt8]()
        while true {
            let index = rpmfiNext(archive)
            if index == -1 { break }
            guard index >= 0 else {
                throw RPMError(function: "rpmfiNext", package: path, message: "the payload is damaged: \(Self.archiveError(index))")
            }
            var members: UnsafePointer<Int32>?
            let links = Int(rpmfiFLinks(archive, &members))
            let entry = Entry(
                path: rpmfiFN(archive).map { String(cString: $0) } ?? "",
                mode: UInt32(rpmfiFMode(archive)),
                user: rpmfiFUser(archive).map { String(cString: $0) } ?? "root",
                group: rpmfiFGroup(archive).map { String(cString: $0) } ?? "root",
                size: UInt64(rpmfiFSize(archive)),
                linkTarget: rpmfiFLink(archive).map { String(cString: $0) } ?? "",
                flags: UInt32(rpmfiFFlags(archive)),
                capabilities: rpmfiFCaps(archive).map { String(cString: $0) } ?? "",
                links: max(1, links),
                rdev: UInt32(rpmfiFRdev(archive)),
                hardlinkSet: links > 1 ? members.flatMap { set in (0..<links).map { Int(set[$0]) }.min() } : nil)
            guard entry.isRegular, rpmfiArchiveHasContent(archive) != 0 else {
                try body(entry, nil)
                continue
            }
            let size = Int(entry.size)
            if buffer.count < size { buffer = [UInt8](repeating: 0, count: size) }
            var total = 0
            while total < size {
                let count = buffer.withUnsafeMutableBytes { rpmfiArchiveRead(archive, $0.baseAddress! + total, size - total) }
                guard count > 0 else {
                    throw RPMError(function: "rpmfiArchiveRead", package: path,
                                   message: "the payload ends inside \(entry.path) (\(total) of \(size) bytes)")
                }
                total += count
            }
            try buffer.withUnsafeBytes { try body(entry, UnsafeRawBufferPointer(rebasing: $0[0..<size])) }
        }
        // The archive's trailer: a payload cut short fails here.
        let closed = rpmfiArchiveClose(archive)
        guard closed == 0 else {
            throw RPMError(function: "rpmfiArchiveClose", package: path, message: "the payload is damaged: \(Self.archiveError(closed))")
        }
    }

    private static func archiveError(_ code: Int32) -> String {
        guard let text = rpmfileStrerror(code) else { return "error \(code)" }
        defer { free(text) }
        return String(cString: text)
    }
}
