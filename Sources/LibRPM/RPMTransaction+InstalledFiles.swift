import CRpm

/// A path as the rpmdb records it: the metadata librpm gave (or meant to
/// give) the file on disk.
public struct RPMInstalledFile: Sendable, Equatable {
    public let path: String
    /// st_mode bits, file type included.
    public let mode: UInt32
    public let user: String
    public let group: String
    /// Seconds since the epoch.
    public let mtime: Int
}

extension RPMTransaction {
    /// The rpmdb's entry for `path` (an absolute path in the root), from the
    /// first package that owns it; nil when no installed package does.
    public func installedFile(_ path: String) -> RPMInstalledFile? {
        path.withCString { key in
            guard let iterator = rpmtsInitIterator(handle, rpmDbiTagVal(RPMDBI_INSTFILENAMES.rawValue), key, 0) else {
                return nil
            }
            defer { rpmdbFreeIterator(iterator) }
            guard let header = rpmdbNextIterator(iterator),
                  let files = rpmfilesNew(nil, header, rpmTagVal(RPMTAG_BASENAMES.rawValue), CRPM_FI_FLAGS_QUERY) else {
                return nil
            }
            defer { rpmfilesFree(files) }
            let index = rpmfilesFindFN(files, key)
            guard index >= 0 else { return nil }
            return RPMInstalledFile(
                path: path, mode: UInt32(rpmfilesFMode(files, index)),
                user: rpmfilesFUser(files, index).map { String(cString: $0) } ?? "root",
                group: rpmfilesFGroup(files, index).map { String(cString: $0) } ?? "root",
                mtime: Int(rpmfilesFMtime(files, index)))
        }
    }
}
