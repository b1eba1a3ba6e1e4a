import Foundation

/// Installs a resolved set into a fresh root with librpm: digests verified,
/// scriptlets run, rpmdb written. The transaction runs in a child process
/// (see `RPMTransactionChild`); this side verifies the files, hands over the
/// plan, and turns the child's progress stream into progress and errors.
public struct Installer {
    /// The treeforge executable, run as `internal rpm-transaction PLAN`.
    public var helperExecutable: URL
    /// Holds the plan, the transaction's log and (by default) the root.
    public var workdir: URL
    /// The new root; must not exist yet or be empty.
    public var root: URL
    public var databasePath = InstallPlan.defaultDatabasePath
    /// Install files marked as documentation (treefile `documentation`).
    public var documentation = true
    /// Whether the transaction (and so every scriptlet) runs under bubblewrap.
    public var sandboxMode = SandboxMode.auto
    /// A scriptlet running longer is stopped and the install fails, naming it.
    public var scriptletTimeout = Installer.defaultScriptletTimeout
    /// `SOURCE_DATE_EPOCH` for scriptlets: the environment's, else the compose's start.
    public var sourceDateEpoch = Installer.sourceDateEpoch(startedAt: Date())

    /// Ten minutes: far beyond what a scriptlet of a real distribution takes
    /// (seconds), short enough that a hung compose fails within a coffee break.
    public static let defaultScriptletTimeout: TimeInterval = 600

    /// The environment's `SOURCE_DATE_EPOCH` when it is a number, else `startedAt`.
    public static func sourceDateEpoch(startedAt: Date) -> Int {
        ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { Int($0) } ?? Int(startedAt.timeIntervalSince1970)
    }

    /// Languages whose `%lang()` files are installed (treefile
    /// `install-langs`); empty: all.
    public var installLanguages: [String] = []
    /// Treefile `ignore-devices`: packaged device nodes are skipped (true) or an error.
    public var ignoreDevices = true
    /// Treefile `remove-from-packages`: files librpm leaves out.
    public var removeFromPackages: [RemoveFromPackage] = []

    /// Written into the root before the transaction (see `PasswdSeed`).
    public var seedFiles: [SeedFile] = []

    /// Lay the root out from this package cache (`--cachedir`) instead of
    /// unpacking every package, where it gives the same tree.
    public var packageCache: PackageCache?
    /// How the last install laid the root out.
    let layout = RootLayout()

    /// librpm's messages and every scriptlet's output.
    public var logFile: URL { workdir.appendingPathComponent("install.log") }

    public init(helperExecutable: URL, workdir: URL, root: URL? = nil) {
        self.helperExecutable = helperExecutable
        self.workdir = workdir
        self.root = root ?? workdir.appendingPathComponent("rootfs")
    }

    /// Cancelling `context.cancellation` stops the rpm child with every
    /// scriptlet it runs; the install then throws `ComposeCancelled`.
    public func install(_ set: ResolvedSet, context: StageContext) throws {
        guard getuid() == 0 else {
            throw ComposeError(.install, subject: root.path,
                               "installing needs root: librpm chroots into the new root to run scriptlets and sets file owners")
        }
        let packages = try Self.planPackages(set)
        try verifyFiles(set.packages)
        if let leftover = try? FileManager.default.contentsOfDirectory(atPath: root.path), !leftover.isEmpty {
            throw ComposeError(.install, subject: root.path, "the root to install into is not empty")
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let confinement = try sandboxMode.resolve(sourceDateEpoch: sourceDateEpoch)
        var plan = InstallPlan(
            root: root.path, databasePath: databasePath, documentation: documentation,
            installLanguages: installLanguages, packages: packages)
        plan.ignoreDevices = ignoreDevices
        plan.removeFromPackages = removeFromPackages
        if case .sandboxed = confinement { plan.mountPoints = Sandbox.mountPoints.map { "/" + $0 } }
        if let packageCache, try installFromCache(set, plan: plan, cache: packageCache, confinement: confinement, context: context) {
            return
        }
        try writeSeedFiles()
        try run(plan, packages: set.packages, confinement: confinement, context: context)
    }

    /// Runs one plan in the rpm child and turns its failures into errors.
    func run(_ plan: InstallPlan, packages: [ResolvedPackage], confinement: Confinement, context: StageContext) throws {
        let planRoot = URL(fileURLWithPath: plan.root)
        let planFile = workdir.appendingPathComponent(plan.phase == .install ? "install-plan.json" : "install-plan-\(plan.phase.rawValue).json")
        try JSONEncoder().encode(plan).write(to: planFile)
        let createdMountPoints = MountPoints.missing(in: planRoot)
        let run = try runChild(planFile: planFile, root: planRoot, packages: packages, keyFiles: plan.packages.flatMap { $0.signatureKeys ?? [] },
                               confinement: confinement, context: context)
        try context.cancellation.check(.install)
        if let stuck = run.timedOut {
            throw ComposeError(.install, subject: stuck.nevra,
                               "the \(stuck.scriptlet) scriptlet of \(stuck.nevra) did not finish within \(Self.seconds(scriptletTimeout)); it was stopped (--scriptlet-timeout)",
                               details: Self.logTail(logFile) + ["(full log: \(logFile.path))"])
        }
        if let error = Self.failure(in: run.events, exitStatus: run.status, logFile: logFile) {
            throw error
        }
        if case .sandboxed = confinement {
            MountPoints.removeCreated(createdMountPoints, in: planRoot)
        }
    }

    func writeSeedFiles() throws {
        for seed in seedFiles {
            let file = root.appendingPathComponent(seed.path)
            do {
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
                try seed.contents.write(to: file)
                try FileManager.default.setAttributes([.posixPermissions: Int(seed.mode)], ofItemAtPath: file.path)
            } catch {
                throw ComposeError(.install, subject: file.path, "cannot seed the root before install: \(error.localizedDescription)")
            }
        }
    }

    /// Every RPM file must exist and match the checksum its repository's
    /// metadata gives, before librpm sees it.
    func verifyFiles(_ packages: [ResolvedPackage]) throws {
        for package in packages {
            guard FileManager.default.fileExists(atPath: package.path) else {
                throw ComposeError(.install, subject: package.nevra, "the package file \(package.path) is missing from repo \(package.repository)")
            }
            if let damage = try package.damage(stage: .install) {
                let cause = package.url == nil ? "the file is damaged or the repodata is stale: rerun createrepo_c on the repository"
                                               : "corrupt download or stale repodata"
                throw ComposeError(.install, subject: package.nevra,
                                   "\(package.path) does not match repo \(package.repository)'s metadata: \(damage) (\(cause))")
            }
        }
    }

    /// The first thing that went wrong, as a ComposeError naming the package
    /// (and scriptlet) and quoting the end of the transaction's log.
    static func failure(in events: [InstallEvent], exitStatus: Int32, logFile: URL) -> ComposeError? {
        let log = logTail(logFile) + ["(full log: \(logFile.path))"]
        for event in events {
            switch event {
            case .scriptletFailed(let nevra, let scriptlet, _):
                let status = Self.exitStatus(of: scriptlet, nevra: nevra, in: log).map { " (exit status \($0))" } ?? ""
                return ComposeError(.install, subject: nevra, "the \(scriptlet) scriptlet failed\(status)", details: log)
            case .unpackFailed(let nevra):
                return ComposeError(.install, subject: nevra, "unpacking the payload failed (corrupt package?)", details: log)
            case .failed(let message, let package, let details):
                return ComposeError(.install, subject: package, message, details: details + log)
            default:
                continue
            }
        }
        if exitStatus != 0 || !events.contains(where: { if case .finished = $0 { true } else { false } }) {
            return ComposeError(.install, "the rpm transaction process ended with status \(exitStatus) without finishing", details: log)
        }
        return nil
    }

    /// librpm logs "%post(NEVRA) scriptlet failed, exit status N".
    static func exitStatus(of scriptlet: String, nevra: String, in log: [String]) -> Int? {
        let marker = "\(scriptlet)(\(nevra)) scriptlet failed, exit status "
        for line in log.reversed() {
            if let range = line.range(of: marker) {
                return Int(line[range.upperBound...].prefix(while: \.isNumber))
            }
        }
        return nil
    }

    static func seconds(_ interval: TimeInterval) -> String {
        interval == interval.rounded() ? "\(Int(interval)) s" : "\(interval) s"
    }

    static func logTail(_ file: URL, lines: Int = 20) -> [String] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        let all = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        return Array(all.suffix(lines))
    }
}
