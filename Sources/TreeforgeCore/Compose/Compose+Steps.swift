import Foundation
import LibRPM

/// `compose install` and `compose commit`: the two halves of a compose as
/// separate steps, as rpm-ostree has them.
extension Compose {
    /// load → resolve → download → install → postprocess into
    /// `destination/rootfs`; nothing is committed or recorded. With
    /// `previousFrom`, the ref's head in that repository seeds users and
    /// groups (`preserve-passwd`), is what `check-passwd: previous` compares
    /// with and what the version counts from.
    public func installRoot(into destination: URL, previousFrom repository: URL? = nil) throws -> (plan: ComposePlan, root: URL) {
        let runner = StageRunner(context: context)
        let planned = try plan(runner)
        let plan = ComposePlan(treefile: planned.treefile, packages: try runner.run(fetcher(), planned.packages))
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        let opened = try repository.flatMap { try ComposeRepository(path: $0).existing() }
        let previous = try PreviousCommit.head(of: plan.treefile.ref, in: opened)
        let root = try buildRoot(plan, in: destination, previous: previous, repository: opened, runner: runner).root
        try context.cancellation.check(.postprocess)
        events.emit(.outcome(ComposeResult(status: .installed, ref: plan.treefile.ref, exitStatus: 0)))
        return (plan, root)
    }

    /// Commits an installed root with the treefile's ref and metadata, then
    /// publishes and records it, holding the ref's lock as `compose tree`
    /// does. The package list comes from the root's rpmdb. A cancel is
    /// recorded, then thrown as `ComposeCancelled`.
    public func commitRoot(_ root: URL) throws -> ComposeSummary {
        let runner = StageRunner(context: context)
        let build: ComposeBuild
        do {
            build = try ComposeBuild.begin(treefile: request.treefileURL.path, environment: environment, policy: policy, runner: runner)
        } catch {
            throw reportUnrecorded(error)
        }
        do {
            let treefile = try runner.run(loader(), request.treefileURL)
            let warnings = try treefile.checkComposable()
            for warning in warnings { events.warning(warning) }
            try build.loaded(treefile, warnings: warnings)
            let packages = try installedPackages(root)
            // Reading the rpmdb leaves SQLite's -shm/-wal beside it: transaction state, not content.
            try RPMDatabaseLayout.removeTransactionState(root)
            try build.lockRef(treefile.ref)
            try build.completePendingPublication(of: treefile.ref)
            // The ref's head here may differ from the one `compose install` saw (if any).
            let previous = try build.previousCommit(of: treefile.ref)
            try runner.timed(.postprocess) {
                try PasswdCheck.run(root: root, treefile: treefile, previous: previous, events: events)
            }
            try build.resolved(packages)
            let plan = ComposePlan(treefile: treefile, packages: packages)
            let inputHash = try InputHash.compute(treefile: treefile, packages: packages, scriptFolder: scriptFolder(treefile))
            // The version `compose install` wrote into os-release (mutate-os-release)
            // is the commit's, unless --version says otherwise.
            let version = request.version ?? OSRelease.ostreeVersion(in: RootDirectory(root))
            return try commitAndPublish(root, plan: plan, version: version, inputHash: inputHash, build: build)
        } catch {
            if case .cancelled(_, let stage)? = build.cancelled(error) { throw context.cancellation.cancelled(in: stage) }
            throw build.failed(error)
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
