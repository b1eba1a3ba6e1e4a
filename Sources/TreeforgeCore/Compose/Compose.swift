import Foundation
import LibOSTree

/// What `treeforge compose tree` was asked to do.
public struct ComposeOptions: Sendable {
    public var treefile: URL
    /// The OSTree repository (created as `archive` when missing).
    public var repo: URL
    /// Scratch space; a fresh temporary folder when nil (removed after a
    /// successful compose, kept after a failed one for inspection).
    public var workdir: URL?
    /// Where remote repositories and parsed metadata (libsolv `.solv` files
    /// keyed by repomd.xml's checksum) are cached.
    public var cachedir: URL?
    /// Use only the cache for remote repositories: no network.
    public var cacheOnly = false
    /// Seconds per HTTP attempt.
    public var httpTimeout: TimeInterval = 30
    /// Print the resolved transaction and stop: nothing installed, committed or recorded.
    public var dryRun = false
    /// Fetch metadata and packages into the cache, then stop.
    public var downloadOnly = false
    /// The commit's version; automatic (`YYYYMMDD.N`) when nil.
    public var version: String?
    public var basearch = Resolver.hostArchitecture
    /// Treefile variables given on the command line; they win over the treefile's.
    public var variables: [String: JSONValue] = [:]
    /// rpm-ostree lockfiles (`--ex-lockfile`), merged in order.
    public var lockfiles: [URL] = []
    /// With lockfiles: install nothing that is not locked.
    public var lockfileStrict = false
    /// Write the resolved set as an rpm-ostree lockfile (dry runs too).
    public var writeLockfileTo: URL?
    /// Compose even when the inputs equal those of the ref's head.
    public var forceNocache = false
    /// Touched when a new commit was made (for scripts).
    public var touchIfChanged: URL?
    /// Write the new commit's checksum here and leave the ref where it is.
    public var writeCommitIDTo: URL?
    /// Commit metadata from the command line (over the treefile's `add-commit-metadata`).
    public var addMetadata: [String: JSONValue] = [:]
    /// The version automatic versioning counts from (default: the ref head's).
    public var previousVersion: String?
    public var parent = Committer.ParentChoice.refHead
    /// rpm-ostree's compose JSON for the new commit.
    public var writeComposeJSONTo: URL?
    /// Sign commits and the summary with this GPG key.
    public var gpgKey: GPGKey?
    /// libostree's static delta tunables.
    public var deltaOptions = StaticDeltaOptions()
    /// Static deltas from this many previous commits of the ref (0: none).
    public var staticDeltaDepth = 2
    /// Also a from-scratch static delta (off by default: it compresses the whole tree).
    public var staticDeltaFromScratch = false
    /// The treeforge executable, for the rpm child process.
    public var helperExecutable: URL
    /// Whether scriptlets run under bubblewrap (`--sandbox`).
    public var sandbox = SandboxMode.auto
    /// Seconds a scriptlet may run before it is stopped and the compose fails.
    public var scriptletTimeout = Installer.defaultScriptletTimeout

    public init(treefile: URL, repo: URL, helperExecutable: URL) {
        self.treefile = treefile
        self.repo = repo
        self.helperExecutable = helperExecutable
    }
}

/// What a compose produced.
public enum ComposeOutcome: Sendable {
    case dryRun(ComposePlan)
    case downloaded(ComposePlan)
    case committed(ComposeSummary)
    /// The inputs equal those of the ref's head commit: nothing was built.
    case unchanged(UnchangedSummary)
}

public struct UnchangedSummary: Sendable {
    public var buildID: Int64
    public var ref: String
    public var commit: String
    public var inputHash: String
}

public struct ComposeSummary: Sendable {
    public var buildID: Int64
    public var ref: String
    public var commit: String
    public var parent: String?
    public var version: String
    public var packages: ResolvedSet
    /// Seconds per stage, in pipeline order.
    public var timings: [(Stage, Double)]
}

/// The compose pipeline: load → resolve → install → postprocess → commit →
/// record. The CLI (and later the server) are thin shells over this.
public final class Compose {
    public let options: ComposeOptions
    let progress: ComposeProgress
    /// Scriptlets get it as SOURCE_DATE_EPOCH unless the environment sets one.
    let startedAt = Date()

    public init(options: ComposeOptions, progress: ComposeProgress = SilentProgress()) {
        self.options = options
        self.progress = progress
    }

    var access: RepositoryAccess {
        RepositoryAccess(cachedir: options.cachedir, cacheOnly: options.cacheOnly, timeout: options.httpTimeout)
    }

    public func run() throws -> ComposeOutcome {
        if options.dryRun {
            return .dryRun(try plan(StageTimer(progress: progress)))
        }
        if options.downloadOnly {
            let timer = StageTimer(progress: progress)
            let plan = try plan(timer)
            _ = try timer.time(.download) { try PackageFetcher(access: access).run(plan.packages, progress: progress) }
            return .downloaded(plan)
        }
        let store = try BuildStore(repoPath: options.repo)
        reconcile(store)
        let buildID = try store.start(treefilePath: options.treefile.standardizedFileURL.path)
        let timer = StageTimer(progress: progress)
        var workdir: URL?
        do {
            let plan = try self.plan(timer) { treefile, warnings in
                try record(treefile, warnings: warnings, buildID: buildID, store: store)
            } resolved: { packages in
                try store.recordPackages(buildID, packages)
            }
            let inputHash = try InputHash.compute(treefile: plan.treefile, packages: plan.packages, scriptFolder: scriptFolder(plan.treefile))
            if !options.forceNocache, let head = try unchangedHead(plan.treefile.ref, inputHash: inputHash) {
                try store.update(buildID) {
                    $0.status = .unchanged
                    $0.finishedAt = Date()
                    $0.commit = head
                    $0.inputHash = inputHash
                    $0.pid = nil
                }
                return .unchanged(UnchangedSummary(buildID: buildID, ref: plan.treefile.ref, commit: head, inputHash: inputHash))
            }
            let summary = try execute(plan, inputHash: inputHash, buildID: buildID, store: store, timer: timer, workdir: &workdir)
            if let touch = options.touchIfChanged {
                FileManager.default.createFile(atPath: touch.path, contents: Data())
            }
            if options.workdir == nil, let workdir { try? FileManager.default.removeItem(at: workdir) }
            return .committed(summary)
        } catch {
            throw recordFailure(error, buildID: buildID, store: store, timer: timer,
                                installLog: workdir?.appendingPathComponent("install.log"))
        }
    }

    /// Records a build as failed — the stage, the error, the install log when
    /// there is one — and returns the error to throw.
    func recordFailure(_ error: Error, buildID: Int64, store: BuildStore, timer: StageTimer, installLog: URL? = nil) -> ComposeError {
        let failure = error as? ComposeError ?? ComposeError(.record, "\(error)")
        if let log = installLog.flatMap({ try? String(contentsOf: $0, encoding: .utf8) }), !log.isEmpty {
            try? store.setLog(buildID, stage: .install, text: log)
        }
        let scriptLog = installLog?.deletingLastPathComponent().appendingPathComponent("postprocess.log")
        if let log = scriptLog.flatMap({ try? String(contentsOf: $0, encoding: .utf8) }), !log.isEmpty, failure.stage == .postprocess {
            try? store.setLog(buildID, stage: .postprocess, text: log)
        }
        try? store.setLog(buildID, stage: failure.stage, text: "error: \(failure)")
        let seconds = timer.secondsByStage
        try? store.update(buildID) {
            $0.status = .failed
            $0.finishedAt = Date()
            $0.failedStage = failure.stage.rawValue
            $0.error = failure.description
            $0.stageSeconds = seconds
            $0.pid = nil
        }
        return failure
    }

    /// The ref's head commit when it was built from exactly these inputs.
    private func unchangedHead(_ ref: String, inputHash: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: options.repo.appendingPathComponent("config").path),
              let repository = try? Committer(repoPath: options.repo).openRepository(),
              let head = try? repository.resolve(ref: ref),
              let info = try? repository.commitInfo(head) else { return nil }
        return info.metadata["treeforge.input-hash"] == .string(inputHash) ? head : nil
    }

    /// download → install → postprocess, then commit → publish → record.
    private func execute(_ plan: ComposePlan, inputHash: String, buildID: Int64, store: BuildStore, timer: StageTimer,
                         workdir: inout URL?) throws -> ComposeSummary {
        _ = try timer.time(.download) { try PackageFetcher(access: access).run(plan.packages, progress: progress) }
        let scratch = try makeWorkdir()
        workdir = scratch
        let built = try buildRoot(plan, in: scratch, previous: try PreviousCommit.head(of: plan.treefile.ref, in: options.repo),
                                  committer: committer(), timer: timer)
        if let log = try? String(contentsOf: scratch.appendingPathComponent("install.log"), encoding: .utf8), !log.isEmpty {
            try store.setLog(buildID, stage: .install, text: log)
        }
        try store.setLog(buildID, stage: .postprocess, text: built.postprocessLog)
        return try commitAndPublish(built.root, plan: plan, inputHash: inputHash, buildID: buildID, store: store, timer: timer,
                                    version: built.version)
    }

    func makeInstaller(_ plan: ComposePlan, workdir: URL) -> Installer {
        var installer = Installer(helperExecutable: options.helperExecutable, workdir: workdir)
        installer.documentation = plan.treefile.config.documentation
        installer.installLanguages = plan.treefile.config.installLangs
        installer.ignoreDevices = plan.treefile.config.ignoreDevices
        installer.removeFromPackages = plan.treefile.config.removeFromPackages
        installer.sandboxMode = options.sandbox
        installer.scriptletTimeout = options.scriptletTimeout
        installer.sourceDateEpoch = Installer.sourceDateEpoch(startedAt: startedAt)
        return installer
    }

    /// commit → publish → record.
    func commitAndPublish(_ root: URL, plan: ComposePlan, inputHash: String, buildID: Int64, store: BuildStore,
                          timer: StageTimer, version: String? = nil) throws -> ComposeSummary {
        var committer = committer()
        if let version { committer.version = version }
        // The commit names its build, so a crash after the ref moved can be reconciled.
        committer.extraMetadata = ["treeforge.build-id": .uint64(UInt64(buildID)), "treeforge.input-hash": .string(inputHash)]
        let committed = try timer.time(.commit) { try committer.run((root, plan), progress: progress) }
        if let target = options.writeCommitIDTo {
            try Data((committed.commit + "\n").utf8).write(to: target)
        }
        if let target = options.writeComposeJSONTo {
            // The package changes from the parent's build, when treeforge recorded one.
            let parentBuild = try committed.parent.flatMap { try store.build(commit: $0) }?.id
            let diff = try parentBuild.map { BuildDiff(from: try store.packages(of: $0), to: plan.packages.packages.map(BuildPackage.init)) }
            try ComposeJSON.write(to: target, ref: plan.treefile.ref, committed: committed, inputHash: inputHash, packageDiff: diff)
        }
        var publisher = Publisher(repoPath: options.repo)
        publisher.deltaDepth = options.staticDeltaDepth
        publisher.fromScratch = options.staticDeltaFromScratch
        publisher.deltaOptions = options.deltaOptions
        publisher.gpgKey = options.gpgKey
        let deltas = try timer.time(.publish) { try publisher.run(committed.commit, progress: progress) }
        try store.recordDeltas(buildID, deltas)
        try timer.time(.record) {
            let seconds = timer.secondsByStage
            try store.update(buildID) {
                $0.status = .succeeded
                $0.finishedAt = Date()
                $0.commit = committed.commit
                $0.parent = committed.parent
                $0.version = committed.version
                $0.inputHash = inputHash
                $0.stageSeconds = seconds
                $0.pid = nil
            }
        }
        return ComposeSummary(
            buildID: buildID, ref: plan.treefile.ref, commit: committed.commit, parent: committed.parent,
            version: committed.version, packages: plan.packages, timings: timer.timings)
    }

    /// The treefile's folder as its postprocess scripts see it (nil without
    /// scripts): what they can read is an input, the compose's own output
    /// folders are not.
    func scriptFolder(_ treefile: Treefile) -> TreefileFolder? {
        guard !treefile.config.postprocess.isEmpty || treefile.config.postprocessScript != nil else { return nil }
        return TreefileFolder(treefile.directory, excluding: [options.repo, options.workdir, options.cachedir].compactMap { $0 })
    }

    /// The committer the options describe.
    func committer() -> Committer {
        var committer = Committer(repoPath: options.repo, version: options.version)
        committer.moveRef = options.writeCommitIDTo == nil
        committer.addedMetadata = options.addMetadata
        committer.previousVersion = options.previousVersion
        committer.parentChoice = options.parent
        committer.gpgKey = options.gpgKey
        return committer
    }

    /// install → postprocess into `workdir/rootfs`: everything before the
    /// commit, shared by `compose tree` and `compose install`. `previous`
    /// seeds users and groups; `committer` gives the version the commit will
    /// get (for `mutate-os-release`). The postprocess log is one line per
    /// change the treefile made, then what its scripts printed.
    func buildRoot(_ plan: ComposePlan, in workdir: URL, previous: PreviousCommit?, committer: Committer,
                   timer: StageTimer) throws -> (root: URL, version: String, postprocessLog: String) {
        var installer = makeInstaller(plan, workdir: workdir)
        installer.seedFiles = try PasswdSeed(treefile: plan.treefile, previous: previous).files()
        let root = try timer.time(.install) { try installer.run(plan.packages, progress: progress) }
        let version = try committer.nextVersion(for: plan.treefile)

        var shaping = TreeShaping(treefile: plan.treefile, version: version,
                                  scriptLog: workdir.appendingPathComponent("postprocess.log"), progress: progress)
        if let folder = scriptFolder(plan.treefile) {
            shaping.confinement = try options.sandbox.resolve(sourceDateEpoch: installer.sourceDateEpoch)
            shaping.scriptFolder = folder
        }
        shaping.scriptTimeout = options.scriptletTimeout
        shaping.sourceDateEpoch = installer.sourceDateEpoch
        var postprocess = Postprocess(treefile: plan.treefile, previous: previous)
        postprocess.shaping = shaping
        let lines = try timer.time(.postprocess) { try postprocess.run(root: root, progress: progress) }
        let output = (try? String(contentsOf: shaping.scriptLog, encoding: .utf8)) ?? ""
        return (root, version, (lines + (output.isEmpty ? [] : ["", output])).joined(separator: "\n"))
    }

    /// Crash recovery first: the database must agree with the repository.
    func reconcile(_ store: BuildStore) {
        let repository = FileManager.default.fileExists(atPath: options.repo.appendingPathComponent("config").path)
            ? try? Committer(repoPath: options.repo).openRepository() : nil
        do {
            for change in try BuildReconciler(store: store, repository: repository).reconcile() {
                progress.warning("reconciled: \(change)")
            }
        } catch {
            progress.warning("cannot reconcile the build database with the repository: \(error)")
        }
    }

    func record(_ treefile: Treefile, warnings: [String], buildID: Int64, store: BuildStore) throws {
        try store.update(buildID) {
            $0.ref = treefile.ref
            $0.treefileSHA256 = treefile.sha256
        }
        _ = try store.assignComposeID(buildID, name: treefile.ref.replacingOccurrences(of: "/", with: "-"),
                                      version: treefile.releasever ?? "0", day: Date())
        if !warnings.isEmpty {
            try store.setLog(buildID, stage: .load, text: warnings.map { "warning: \($0)" }.joined(separator: "\n"))
        }
    }

    /// load → resolve: what to build, decided before anything is installed.
    func plan(_ timer: StageTimer, loaded: (Treefile, [String]) throws -> Void = { _, _ in },
                      resolved: (ResolvedSet) throws -> Void = { _ in }) throws -> ComposePlan {
        let loader = TreefileLoader(basearch: options.basearch, variables: options.variables)
        let treefile = try timer.time(.load) { try loader.run(options.treefile, progress: progress) }
        let warnings = try treefile.checkComposable()
        for warning in warnings { progress.warning(warning) }
        try loaded(treefile, warnings)
        var resolver = Resolver(basearch: options.basearch, access: access)
        if !options.lockfiles.isEmpty {
            resolver.lockfile = try Lockfile.load(options.lockfiles)
            resolver.lockfileStrict = options.lockfileStrict
        }
        let packages = try timer.time(.resolve) { try resolver.run(treefile, progress: progress) }
        // Caught here rather than after the install: the resolved set is what gets installed.
        let names = Set(packages.packages.map(\.name))
        if let missing = treefile.config.removeFromPackages.first(where: { !names.contains($0.package) }) {
            throw ComposeError(.resolve, subject: "remove-from-packages: \(missing.package)",
                               "\(missing.package) is not in the resolved package set; add it to packages or drop the entry")
        }
        try resolved(packages)
        if let target = options.writeLockfileTo {
            try Lockfile.write(packages, to: target)
        }
        return ComposePlan(treefile: treefile, packages: packages)
    }

    func makeWorkdir() throws -> URL {
        if let workdir = options.workdir {
            try FileManager.default.createDirectory(at: workdir, withIntermediateDirectories: true)
            return workdir
        }
        // /var/tmp: a root can be large and should not live in a tmpfs /tmp.
        let template = "/var/tmp/treeforge-compose-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard mkdtemp(&bytes) != nil else {
            throw ComposeError(.install, subject: "/var/tmp", "cannot create a work directory: \(String(cString: strerror(errno)))")
        }
        return URL(fileURLWithPath: String(cString: bytes))
    }
}

/// Times each stage and reports its start and end.
final class StageTimer {
    let progress: ComposeProgress
    private(set) var timings: [(Stage, Double)] = []
    /// Fault injection for crash tests: `TREEFORGE_FAULT_KILL_AT=STAGE` makes
    /// the process SIGKILL itself as that stage starts.
    private let killAt = ProcessInfo.processInfo.environment["TREEFORGE_FAULT_KILL_AT"]

    init(progress: ComposeProgress) { self.progress = progress }

    /// An error that is not a `ComposeError` (a file operation's, say) is
    /// reported as this stage's, not as the record stage's.
    func time<T>(_ stage: Stage, _ body: () throws -> T) throws -> T {
        if killAt == stage.rawValue { kill(getpid(), SIGKILL) }
        progress.stageStarted(stage)
        let start = Date()
        defer {
            let seconds = Date().timeIntervalSince(start)
            timings.append((stage, seconds))
            progress.stageFinished(stage, seconds: seconds)
        }
        do {
            return try body()
        } catch let error as ComposeError {
            throw error
        } catch {
            throw ComposeError(stage, error.localizedDescription)
        }
    }

    var secondsByStage: [String: Double] {
        Dictionary(timings.map { ($0.0.rawValue, $0.1) }, uniquingKeysWith: { first, _ in first })
    }
}
