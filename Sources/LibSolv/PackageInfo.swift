import CSolv

/// What the repository metadata says about one package, copied out of the
/// pool into Swift values.
public struct PackageInfo: Codable, Hashable, Sendable {
    public let name: String
    public let epoch: String
    public let version: String
    public let release: String
    public let arch: String
    public let repository: String
    /// The RPM's path relative to the repository's base URL.
    public let location: String
    public let checksumType: String?
    public let checksum: String?
    public let downloadSize: UInt64
    public let installSize: UInt64
    /// The source RPM's file name, when the metadata gives it.
    public var sourceRPM: String? = nil

    /// name-[epoch:]version-release.arch, epoch shown only when set, as dnf prints it.
    public var nevra: String {
        let evr = epoch.isEmpty || epoch == "0" ? "\(version)-\(release)" : "\(epoch):\(version)-\(release)"
        return "\(name)-\(evr).\(arch)"
    }

    public init(name: String, epoch: String, version: String, release: String, arch: String,
                repository: String, location: String, checksumType: String?, checksum: String?,
                downloadSize: UInt64, installSize: UInt64) {
        self.name = name
        self.epoch = epoch
        self.version = version
        self.release = release
        self.arch = arch
        self.repository = repository
        self.location = location
        self.checksumType = checksumType
        self.checksum = checksum
        self.downloadSize = downloadSize
        self.installSize = installSize
    }

    init(pool: UnsafeMutablePointer<Pool>, id: Id) {
        let s = pool.pointee.solvables.advanced(by: Int(id))
        name = String(cString: pool_id2str(pool, s.pointee.name))
        arch = String(cString: pool_id2str(pool, s.pointee.arch))
        (epoch, version, release) = Self.split(evr: String(cString: pool_id2str(pool, s.pointee.evr)))
        repository = String(cString: s.pointee.repo.pointee.name)
        var medium: UInt32 = 0
        location = solvable_lookup_location(s, &medium).map { String(cString: $0) } ?? ""
        var type: Id = 0
        if let hex = solvable_lookup_checksum(s, Id(SOLVABLE_CHECKSUM.rawValue), &type) {
            checksum = String(cString: hex)
            checksumType = solv_chksum_type2str(type).map { String(cString: $0) }
        } else {
            checksum = nil
            checksumType = nil
        }
        downloadSize = solvable_lookup_num(s, Id(SOLVABLE_DOWNLOADSIZE.rawValue), 0)
        installSize = solvable_lookup_num(s, Id(SOLVABLE_INSTALLSIZE.rawValue), 0)
        sourceRPM = solvable_lookup_sourcepkg(s).map { String(cString: $0) }
    }

    /// Splits libsolv's "[epoch:]version[-release]".
    static func split(evr: String) -> (String, String, String) {
        var rest = Substring(evr)
        var epoch = ""
        if let colon = rest.firstIndex(of: ":") {
            epoch = String(rest[..<colon])
            rest = rest[rest.index(after: colon)...]
        }
        if let dash = rest.lastIndex(of: "-") {
            return (epoch, String(rest[..<dash]), String(rest[rest.index(after: dash)...]))
        }
        return (epoch, String(rest), "")
    }
}
