import CRpm

/// What a package file ships, read from its header before any transaction:
/// librpm takes `%_netsharedpath` (paths to skip) when a transaction is
/// created, so what to skip must be known first.
public struct RPMPackageFileList: Sendable, Equatable {
    public let name: String
    public let nevra: String
    public let files: [Entry]

    public struct Entry: Sendable, Equatable {
        public let path: String
        /// st_mode bits, file type included.
        public let mode: UInt32
        /// For devices: major and minor numbers.
        public let major: UInt32
        public let minor: UInt32

        public init(path: String, mode: UInt32, major: UInt32 = 0, minor: UInt32 = 0) {
            self.path = path
            self.mode = mode
            self.major = major
            self.minor = minor
        }

        public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
        public var isCharacterDevice: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFCHR) }
        public var isBlockDevice: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFBLK) }
        public var isFIFO: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFIFO) }
    }

    public init(name: String, nevra: String, files: [Entry]) {
        self.name = name
        self.nevra = nevra
        self.files = files
    }

    /// Reads the header of the package file at `path`. Signatures are not
    /// checked here (each repository's keys are, before the transaction) and
    /// digests are when the package joins the transaction.
    public init(packageAt path: String) throws {
        let package = try OpenedPackage(path: path)
        let header = package.header
        // The header and file belong to `package`: keep it to the end.
        defer { withExtendedLifetime(package) {} }
        name = headerGetString(header, rpmTagVal(RPMTAG_NAME.rawValue)).map { String(cString: $0) } ?? ""
        nevra = RPMTransaction.nevra(of: header)
        var entries: [Entry] = []
        if let files = rpmfilesNew(nil, header, rpmTagVal(RPMTAG_BASENAMES.rawValue), CRPM_FI_FLAGS_QUERY) {
            defer { rpmfilesFree(files) }
            for index in 0..<Int32(rpmfilesFC(files)) {
                guard let name = rpmfilesFN(files, index) else { continue }
                let device = UInt32(rpmfilesFRdev(files, index))
                entries.append(Entry(path: String(cString: name), mode: UInt32(rpmfilesFMode(files, index)),
                                     major: (device >> 8) & 0xfff, minor: (device & 0xff) | ((device >> 12) & 0xfff00)))
            }
        }
        files = entries
    }
}

/// A package file opened and its header read, its digests checked but not
/// its signatures: each repository's keys are checked before anything is
/// installed or imported, and the file's checksum against the repository
/// metadata when it is fetched. The file is left at the payload's start.
final class OpenedPackage {
    let fd: FD_t
    let header: Header

    init(path: String) throws {
        let ts = rpmtsCreate()
        defer { rpmtsFree(ts) }
        _ = rpmtsSetVSFlags(ts, rpmtsVSFlags(ts) | CRPM_VSF_MASK_NOSIGNATURES)
        guard let fd = Fopen(path, "r.ufdio"), Ferror(fd) == 0 else {
            throw RPMError(function: "Fopen", package: path, message: "cannot open the package file")
        }
        var read: Header?
        guard rpmReadPackageFile(ts, fd, path, &read) == RPMRC_OK, let read else {
            read.map { _ = headerFree($0) }
            Fclose(fd)
            throw RPMError.fromLog("rpmReadPackageFile", package: path, fallback: "the package header is unreadable")
        }
        self.fd = fd
        header = read
    }

    deinit {
        headerFree(header)
        Fclose(fd)
    }
}
