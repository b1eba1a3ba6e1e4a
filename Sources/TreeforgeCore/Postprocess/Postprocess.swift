import Foundation

/// Prepares an installed root for commit. Today: removes what librpm leaves
/// behind that is transaction state rather than content (database locks, an
/// empty SQLite WAL, and the regular file librpm's chrooted scriptlet runner
/// creates as /dev/null when the root has no device nodes). The full OSTree layout rules (/etc → /usr/etc, /var
/// as tmpfiles.d, users and groups) are their own issue.
public struct Postprocess: Sendable {
    public var databasePath: String

    public init(databasePath: String = InstallPlan.defaultDatabasePath) {
        self.databasePath = databasePath
    }

    public func run(root: URL) throws {
        let files = FileManager.default
        let database = root.appendingPathComponent(String(databasePath.drop(while: { $0 == "/" })))
        for transient in [".rpm.lock", ".dbenv.lock", "rpmdb.sqlite-shm"] {
            let path = database.appendingPathComponent(transient).path
            if files.fileExists(atPath: path) { try files.removeItem(atPath: path) }
        }
        // A WAL with content would hold committed rows; only an empty one is state.
        let wal = database.appendingPathComponent("rpmdb.sqlite-wal").path
        if let size = (try? files.attributesOfItem(atPath: wal))?[.size] as? Int, size == 0 {
            try files.removeItem(atPath: wal)
        }
        try removeRegularFilesInDev(root)
        guard files.fileExists(atPath: database.path) else {
            throw ComposeError(.postprocess, subject: root.path, "no rpm database at \(databasePath) after install")
        }
    }

    /// /dev in a tree is a mount point; a regular file there is never content.
    func removeRegularFilesInDev(_ root: URL) throws {
        let dev = root.appendingPathComponent("dev")
        let files = FileManager.default
        for name in (try? files.contentsOfDirectory(atPath: dev.path)) ?? [] {
            let path = dev.appendingPathComponent(name).path
            if (try? files.attributesOfItem(atPath: path))?[.type] as? FileAttributeType == .typeRegular {
                try files.removeItem(atPath: path)
            }
        }
    }
}
