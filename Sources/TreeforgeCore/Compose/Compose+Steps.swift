import Foundation
import LibRPM

/// `compose install` and `compose commit`: the two halves of a compose as
/// separate steps, as rpm-ostree has them.
extension Compose {
    /// load → resolve → download → install → postprocess into
    /// `destination/rootfs`; nothing is committed or recorded. With
    /// `previousFrom`, the ref's head in that repository seeds users and
    /// groups (`preserve-passwd`) and is what `check-passwd: previous` compares with.
    public func installRoot(into destination: URL, previousFrom repository: URL? = nil) throws -> (plan: ComposePlan, root: URL) {
        let timer = StageTimer(progress: progress)
        let plan = try self.plan(timer)
        _ = try timer.time(.download) { try PackageFetcher(access: access).run(plan.packages, progress: progress) }
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        let previous = try repository.flatMap { try PreviousCommit.head(of: plan.treefile.ref, in: $0) }
        // Without a repository there is no previous version to count from.
        var committer = committer()
        if repository == nil { committer.repoPath = destination.appendingPathComponent("no-repository") }
        let root = try buildRoot(plan, in: destination, previous: previous, committer: committer, timer: timer).root
        return (plan, root)
    }

    /// Commits an installed root with the treefile's ref and metadata, then
    /// publishes and records it. The package list comes from the root's rpmdb.
    public func commitRoot(_ root: URL) throws -> ComposeSummary {
        let store = try BuildStore(repoPath: options.repo)
        reconcile(store)
        let buildID = try store.start(treefilePath: options.treefile.standardizedFileURL.path, trigger: "compose-commit")
        let timer = StageTimer(progress: progress)
        do {
            let loader = TreefileLoader(basearch: options.basearch, variables: options.variables)
            let treefile = try timer.time(.load) { try loader.run(options.treefile, progress: progress) }
            let warnings = try treefile.checkComposable()
            for warning in warnings { progress.warning(warning) }
            try record(treefile, warnings: warnings, buildID: buildID, store: store)
            let packages = try installedPackages(root)
            // Reading the rpmdb leaves SQLite's -shm/-wal beside it: transaction state, not content.
            try RPMDatabaseLayout.removeTransactionState(root)
            // The ref's head here may differ from the one `compose install` saw (if any).
            let previous = try PreviousCommit.head(of: treefile.ref, in: options.repo)
            try timer.time(.postprocess) { try PasswdCheck.run(root: root, treefile: treefile, previous: previous, progress: progress) }
            try store.recordPackages(buildID, packages)
            let plan = ComposePlan(treefile: treefile, packages: packages)
            let inputHash = try InputHash.compute(treefile: treefile, packages: packages, scriptFolder: scriptFolder(treefile))
            // The version `compose install` wrote into os-release (mutate-os-release)
            // is the commit's, unless --version says otherwise.
            let version = options.version ?? OSRelease.ostreeVersion(in: RootDirectory(root))
            return try commitAndPublish(root, plan: plan, inputHash: inputHash, buildID: buildID, store: store, timer: timer,
                                        version: version)
        } catch {
            throw recordFailure(error, buildID: buildID, store: store, timer: timer)
        }
    }

    /// The packages an installed root's rpmdb lists, as a resolved set
    /// without repositories.
    private func installedPackages(_ root: URL) throws -> ResolvedSet {
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(String(InstallPlan.defaultDatabasePath.dropFirst())).path) else {
            throw ComposeError(.load, subject: root.path, "no rpm database at \(InstallPlan.defaultDatabasePath): not a root installed by treeforge (compose install)")
        }
        do {
            try RPMConfiguration.load(databasePath: InstallPlan.defaultDatabasePath)
            let installed = try RPMDatabase.installedPackages(root: root.path)
            return ResolvedSet(packages: installed.map {
                ResolvedPackage(info: .init(name: $0.name, epoch: $0.epoch, version: $0.version, release: $0.release, arch: $0.arch,
                                            repository: "", location: "", checksumType: nil, checksum: nil,
                                            downloadSize: 0, installSize: 0), path: "")
            }, repos: [])
        } catch let error as RPMError {
            throw ComposeError(.load, subject: root.path, "cannot read the rpm database: \(error)")
        }
    }
}
