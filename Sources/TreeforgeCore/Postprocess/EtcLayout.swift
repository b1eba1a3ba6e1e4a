/// `/etc` → `/usr/etc`: the tree's defaults live in /usr; OSTree merges them
/// with the machine's /etc at deploy time.
struct EtcLayout: PostprocessRule {
    /// Lock and backup files shadow-utils leaves beside the user database:
    /// state, not defaults (rpm-ostree's passwd_cleanup).
    static let lockAndBackupFiles = [".pwd.lock", "passwd-", "group-", "shadow-", "gshadow-", "subuid-", "subgid-"]

    func apply(_ context: PostprocessContext) throws {
        let root = context.root
        if root.exists("etc") {
            if root.exists("usr/etc") {
                throw ComposeError(.postprocess, subject: "/usr/etc",
                                   "a package installed /usr/etc, where the tree's /etc must go (OSTree keeps the default /etc there)")
            }
            try root.move("etc", to: "usr/etc")
        }
        for name in Self.lockAndBackupFiles {
            try root.removeIfPresent("usr/etc/" + name)
        }
    }
}
