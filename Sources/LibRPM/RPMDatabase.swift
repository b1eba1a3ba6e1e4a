import CRpm
import Glibc

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

extension RPMDatabase {
    /// Records as netshared (rpm's file state 3) every installed file for
    /// which `isNetshared` holds, in the rpmdb of `root` at librpm's
    /// configured path. librpm sets that state as it unpacks; a `--justdb`
    /// transaction unpacks nothing and leaves such files "normal", which
    /// the same set installed whole would not. Returns how many it changed.
    public static func markNetshared(root: String, where isNetshared: (String) -> Bool) throws -> Int {
        let ts = rpmtsCreate()
        defer { rpmtsFree(ts) }
        guard rpmtsSetRootDir(ts, root) == 0 else {
            throw RPMError(function: "rpmtsSetRootDir", message: "invalid root directory \(root)")
        }
        let transaction = rpmtxnBegin(ts, rpmtxnFlags(RPMTXN_WRITE.rawValue))
        defer { rpmtxnEnd(transaction) }
        guard rpmtsOpenDB(ts, O_RDWR) == 0, let iterator = rpmtsInitIterator(ts, rpmDbiTagVal(RPMDBI_PACKAGES.rawValue), nil, 0) else {
            throw RPMError.fromLog("rpmtsOpenDB", fallback: "cannot open the rpm database in \(root) for writing")
        }
        // Freed before the transaction ends: that writes the last header back.
        defer { rpmdbFreeIterator(iterator) }
        _ = rpmdbSetIteratorRewrite(iterator, 1)
        var changed = 0
        while let header = rpmdbNextIterator(iterator) {
            let names = rpmtdNew(), states = rpmtdNew()
            defer { rpmtdFree(names); rpmtdFree(states) }
            guard headerGet(header, rpmTagVal(RPMTAG_FILENAMES.rawValue), names, headerGetFlags(HEADERGET_EXT.rawValue)) != 0,
                  headerGet(header, rpmTagVal(RPMTAG_FILESTATES.rawValue), states, headerGetFlags(HEADERGET_MINMEM.rawValue)) != 0,
                  let data = states?.pointee.data?.assumingMemoryBound(to: CChar.self),
                  rpmtdCount(names) == rpmtdCount(states) else { continue }
            var index = 0
            while let name = rpmtdNextString(names) {
                // States live in the header's own memory (MINMEM): changed in place, as librpm marks replaced files.
                if isNetshared(String(cString: name)), data[index] != CChar(RPMFILE_STATE_NETSHARED.rawValue) {
                    data[index] = CChar(RPMFILE_STATE_NETSHARED.rawValue)
                    _ = rpmdbSetIteratorModified(iterator, 1)
                    changed += 1
                }
                index += 1
            }
        }
        return changed
    }
}

extension RPMDatabase {
    /// Rebuilds the rpmdb of `root` from its headers (rpm's --rebuilddb).
    /// The file then depends only on the headers and their order, not on how
    /// they were written: a whole install and a `--justdb` one whose states
    /// were marked afterwards give the same bytes.
    public static func rebuild(root: String) throws {
        let ts = rpmtsCreate()
        defer { rpmtsFree(ts) }
        guard rpmtsSetRootDir(ts, root) == 0 else {
            throw RPMError(function: "rpmtsSetRootDir", message: "invalid root directory \(root)")
        }
        guard rpmtsRebuildDB(ts) == 0 else {
            throw RPMError.fromLog("rpmtsRebuildDB", fallback: "cannot rebuild the rpm database in \(root)")
        }
    }
}
