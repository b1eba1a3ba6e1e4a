import Foundation

/// The treefile keys that shape an installed root, applied in rpm-ostree's
/// order: first what rpm-ostree does while importing packages
/// (`readonly-executables`; `remove-from-packages` is done by librpm
/// itself, see `InstallSkips`), then its `compose_postprocess` sequence
/// (`units`, `default-target`, `mutate-os-release`, `remove-files`,
/// `add-files`, then the `postprocess` scripts and `postprocess-script`).
///
/// It runs on the root as librpm left it — `/etc` still at `/etc`, the rpmdb
/// already linked into place (`Postprocess.beforeTreeShaping`) — before the
/// OSTree layout rules move things into place; rpm-ostree gets the same
/// result by moving `/usr/etc` back to `/etc` around these steps.
public struct TreeShaping {
    public var treefile: Treefile
    /// The version the commit will get (for `mutate-os-release`).
    public var version: String?
    /// How postprocess scripts run: as scriptlets do (`--sandbox`).
    public var confinement = Confinement.unconfined(reason: nil)
    /// Seconds a postprocess script may run (`--scriptlet-timeout`).
    public var scriptTimeout = Installer.defaultScriptletTimeout
    public var sourceDateEpoch = Installer.sourceDateEpoch(startedAt: Date())
    /// Where postprocess scripts' output goes.
    public var scriptLog: URL
    /// What of the treefile's folder postprocess scripts may read (default: all of it).
    public var scriptFolder: TreefileFolder?
    public var events: ComposeEventSink
    /// Stops a running postprocess script.
    public var cancellation: Cancellation?

    public init(treefile: Treefile, version: String?, scriptLog: URL, events: ComposeEventSink) {
        self.treefile = treefile
        self.version = version
        self.scriptLog = scriptLog
        self.events = events
    }

    /// Applies every key the treefile sets; returns what was done, one line
    /// per change, for the build log.
    public func run(on rootURL: URL) throws -> [String] {
        let config = treefile.config
        let root = RootDirectory(rootURL)
        var log: [String] = []
        if config.readonlyExecutables {
            log += try ReadonlyExecutables.apply(root: root)
        }
        if !config.units.isEmpty {
            var units = SystemdUnits(root: root, events: events)
            for file in config.addFiles {
                units.added[String(file.destination.drop { $0 == "/" })] = treefile.externalFile("add-files", file.source)
            }
            log += try units.enable(config.units)
        }
        if let target = config.defaultTarget {
            log += try SystemdUnits(root: root, events: events).setDefaultTarget(target)
        }
        if let base = config.mutateOsRelease {
            log += try OSRelease(root: root).mutate(baseVersion: base, nextVersion: version)
        }
        let files = TreefileFiles(root: root, treefile: treefile)
        log += try files.remove(config.removeFiles)
        log += try files.add(config.addFiles)
        log += try PostprocessScripts(root: rootURL, treefile: treefile, confinement: confinement, timeout: scriptTimeout,
                                      sourceDateEpoch: sourceDateEpoch, logFile: scriptLog,
                                      folder: scriptFolder ?? TreefileFolder(treefile.directory, excluding: []), events: events, cancellation: cancellation).run()
        return log
    }
}
