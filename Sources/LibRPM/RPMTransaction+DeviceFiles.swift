import CRpm

/// A device node a package ships.
public struct RPMDeviceFile: Sendable, Equatable, CustomStringConvertible {
    public let package: String
    public let path: String
    public let isCharacterDevice: Bool
    public let major: UInt32
    public let minor: UInt32

    public init(package: String, path: String, isCharacterDevice: Bool, major: UInt32, minor: UInt32) {
        self.package = package
        self.path = path
        self.isCharacterDevice = isCharacterDevice
        self.major = major
        self.minor = minor
    }

    public var description: String {
        "\(path) (\(isCharacterDevice ? "character" : "block") device \(major):\(minor), from \(package))"
    }
}

extension RPMTransaction {
    /// The device nodes the package file at `path` ships, read from its
    /// header (digests are checked when the package is added). librpm reads
    /// `%_netsharedpath` when a transaction is created, so this comes first.
    public static func deviceFiles(inPackageAt path: String) throws -> [RPMDeviceFile] {
        let ts = rpmtsCreate()
        defer { rpmtsFree(ts) }
        // Only the file list is read here; signatures are checked per
        // repository and digests when the package joins the transaction.
        _ = rpmtsSetVSFlags(ts, rpmtsVSFlags(ts) | CRPM_VSF_MASK_NOSIGNATURES)
        guard let fd = Fopen(path, "r.ufdio"), Ferror(fd) == 0 else {
            throw RPMError(function: "Fopen", package: path, message: "cannot open the package file")
        }
        defer { Fclose(fd) }
        var header: Header?
        guard rpmReadPackageFile(ts, fd, path, &header) == RPMRC_OK, let header else {
            header.map { _ = headerFree($0) }
            throw RPMError.fromLog("rpmReadPackageFile", package: path, fallback: "the package header is unreadable")
        }
        defer { headerFree(header) }
        return deviceFiles(in: header, package: nevra(of: header))
    }

    static func deviceFiles(in header: Header, package: String) -> [RPMDeviceFile] {
        guard let files = rpmfilesNew(nil, header, rpmTagVal(RPMTAG_BASENAMES.rawValue), CRPM_FI_FLAGS_QUERY) else { return [] }
        defer { rpmfilesFree(files) }
        var devices: [RPMDeviceFile] = []
        for index in 0..<Int32(rpmfilesFC(files)) {
            let type = UInt32(rpmfilesFMode(files, index)) & UInt32(S_IFMT)
            guard type == UInt32(S_IFCHR) || type == UInt32(S_IFBLK), let name = rpmfilesFN(files, index) else { continue }
            let device = UInt32(rpmfilesFRdev(files, index))
            devices.append(RPMDeviceFile(package: package, path: String(cString: name), isCharacterDevice: type == UInt32(S_IFCHR),
                                         major: (device >> 8) & 0xfff, minor: (device & 0xff) | ((device >> 12) & 0xfff00)))
        }
        return devices
    }
}
