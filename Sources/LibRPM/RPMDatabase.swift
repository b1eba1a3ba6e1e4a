import CRpm

/// Reads the rpmdb of an installed root (no chroot: reading only).
///
/// Uses librpm's process-wide configuration: call `RPMConfiguration.load`
/// first, and keep this out of a long-lived server process (run it in a
/// child, as transactions are).
public enum RPMDatabase {
    public struct InstalledPackage: Sendable, Equatable {
        public let name: String
        public let epoch: String
        public let version: String
        public let release: String
        public let arch: String
    }

    public static func installedPackages(root: String) throws -> [InstalledPackage] {
        let ts = rpmtsCreate()
        defer { rpmtsFree(ts) }
        guard rpmtsSetRootDir(ts, root) == 0 else {
            throw RPMError(function: "rpmtsSetRootDir", message: "invalid root directory \(root)")
        }
        guard let iterator = rpmtsInitIterator(ts, rpmDbiTagVal(RPMDBI_PACKAGES.rawValue), nil, 0) else {
            throw RPMError.fromLog("rpmtsInitIterator", fallback: "cannot open the rpm database in \(root)")
        }
        defer { rpmdbFreeIterator(iterator) }
        var packages: [InstalledPackage] = []
        while let header = rpmdbNextIterator(iterator) {
            func string(_ tag: rpmTag_e) -> String {
                headerGetString(header, rpmTagVal(tag.rawValue)).map { String(cString: $0) } ?? ""
            }
            let epoch = headerIsEntry(header, rpmTagVal(RPMTAG_EPOCH.rawValue)) != 0
                ? String(headerGetNumber(header, rpmTagVal(RPMTAG_EPOCH.rawValue))) : ""
            packages.append(InstalledPackage(name: string(RPMTAG_NAME), epoch: epoch, version: string(RPMTAG_VERSION),
                                             release: string(RPMTAG_RELEASE), arch: string(RPMTAG_ARCH)))
        }
        return packages.sorted { ($0.name, $0.arch) < ($1.name, $1.arch) }
    }
}
