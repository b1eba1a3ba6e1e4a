import Foundation

/// One step of turning an installed root into a tree OSTree can deploy.
/// Each rule is rpm-ostree's behaviour for a part of the layout, in a file
/// of its own.
protocol PostprocessRule: Sendable {
    /// Shapes the root; errors name the path and the setting involved.
    func apply(_ context: PostprocessContext) throws
}

/// Prepares an installed root for commit by running the postprocess rules in
/// rpm-ostree's order (`compose_postprocess`, `compose_prepare_rootfs`, then
/// `postprocess_final`, then `check_passwd_group_entries`).
///
/// Before install, `PasswdSeed` puts the previous commit's users and groups
/// in the root (`preserve-passwd`); that is not a rule here because it runs
/// before librpm does.
public struct Postprocess {
    public var treefile: Treefile
    /// The ref's head: what `check-passwd: previous` compares with.
    public var previous: PreviousCommit?
    /// The treefile's tree-shaping keys (which need the install's sandbox
    /// and the commit's version); nil leaves them out.
    public var shaping: TreeShaping?
    /// The kernel and its initramfs (which need the sandbox and the cache);
    /// nil leaves the kernel where its package put it.
    public var kernel: KernelProcessing?

    public init(treefile: Treefile, previous: PreviousCommit?) {
        self.treefile = treefile
        self.previous = previous
    }

    /// rpm-ostree links the rpmdb into place before units and scripts, so
    /// that a postprocess script's `rpm -q` reads the tree's database.
    static let beforeTreeShaping: [any PostprocessRule] = [
        RPMDatabaseLayout(),
    ]

    static let rules: [any PostprocessRule] = [
        // ── Before these rules, `shaping` (Postprocess/TreeShaping/) has
        // applied the treefile's tree-shaping keys on the root as librpm left
        // it (/etc still at /etc) once `beforeTreeShaping` ran.
        // ── Layout, as rpm-ostree's compose_postprocess does it:
        EtcLayout(),
        // ── compose_prepare_rootfs: a fresh toplevel.
        ToplevelLayout(),
        // ── postprocess_final:
        UseraddDefaults(),
        DeviceNodes(),
        PasswdMigration(),
        UsrLocalLayout(),
        VarToTmpfiles(),
        MachineID(),
        // ── Before commit: check_passwd_group_entries.
        PasswdCheck(),
    ]

    /// Runs the rules and the tree-shaping keys in rpm-ostree's order;
    /// returns what the tree-shaping keys did, a line per change.
    @discardableResult
    public func run(root: URL, events: ComposeEventSink) throws -> [String] {
        let context = PostprocessContext(root: root, treefile: treefile, previous: previous, events: events)
        for rule in Self.beforeTreeShaping {
            try rule.apply(context)
        }
        let log = try shaping?.run(on: root) ?? []
        // A postprocess script's `rpm -q` leaves SQLite's transient files too.
        try RPMDatabaseLayout.removeTransactionState(root)
        // After the treefile's own postprocessing, as rpm-ostree runs dracut:
        // the tree's dracut configuration and units are in place, /etc still at /etc.
        let kernelLog = try kernel?.run(root: root, treefile: treefile) ?? []
        for rule in Self.rules {
            try rule.apply(context)
        }
        return log + kernelLog
    }
}
