import Foundation

/// The rpmdb where rpm-ostree keeps it: librpm writes it to /usr/share/rpm
/// (`InstallPlan.defaultDatabasePath`); /usr/lib/sysimage/rpm is a symlink to
/// it in the tree, /var/lib/rpm a symlink that `VarToTmpfiles` turns into a
/// tmpfiles.d entry, and a macro file tells the deployed system's rpm where
/// the database is.
struct RPMDatabaseLayout: PostprocessRule {
    static let location = "usr/share/rpm"
    static let sysimageLink = "usr/lib/sysimage/rpm"
    static let traditionalLink = "var/lib/rpm"
    static let macroFile = "usr/lib/rpm/macros.d/macros.rpm-ostree"

    func apply(_ context: PostprocessContext) throws {
        let root = context.root
        try Self.removeTransactionState(root.url)
        guard root.exists(Self.location + "/rpmdb.sqlite") else {
            throw ComposeError(.postprocess, subject: root.url.path, "no rpm database at /\(Self.location) after install")
        }
        try root.removeIfPresent(Self.traditionalLink)
        try root.symlink(Self.traditionalLink, to: "../../" + Self.location)
        try root.removeIfPresent(Self.sysimageLink)
        try root.symlink(Self.sysimageLink, to: "../../share/rpm")
        try root.write(Self.macroFile, Data("%_dbpath /\(Self.location)\n".utf8))
    }

    /// Removes what librpm leaves beside the database that is transaction
    /// state rather than content: locks, Berkeley DB environments, SQLite's
    /// shared-memory index and an empty write-ahead log. Reading the database
    /// (`compose commit`) leaves the SQLite files too.
    static func removeTransactionState(_ root: URL) throws {
        let database = RootDirectory(root)
        guard database.isDirectory(location) else { return }
        for name in try database.entries(location) {
            let path = location + "/" + name
            let isState = [".rpm.lock", ".dbenv.lock", "rpmdb.sqlite-shm"].contains(name) || name.hasPrefix("__db.")
            // A WAL with content would hold committed rows; only an empty one is state.
            let isEmptyLog = name == "rpmdb.sqlite-wal" && database.status(path)?.st_size == 0
            if isState || isEmptyLog { try database.removeIfPresent(path) }
        }
    }
}
