import Foundation
import LibOSTree

/// The compose pipeline, as one engine that the CLI and the server drive:
///
///     plan:     load → resolve                      (ComposePlan; --dry-run stops here)
///     lock:     the ref (one compose per ref); finish an earlier unpublished head; change check
///     execute:  download → install → postprocess → commit → publish → record
///
/// Each stage is a `ComposeStage` configured from the request, the
/// environment and the publish policy (`Compose+Stages.swift`); a
/// `StageRunner` chains them, `ComposeBuild` keeps the build record. Events
/// go to the sink as it runs; the cancellation stops it between stages or
/// inside one.
///
/// Threading: `run` blocks its thread for the whole compose (libostree and
/// the rpm child are synchronous): never call it from Swift's cooperative pool.
public final class Compose {
    public let request: ComposeRequest
    public let environment: ComposeEnvironment
    public let policy: PublishPolicy
    let context: StageContext
    /// Scriptlets get it as SOURCE_DATE_EPOCH unless the environment sets one.
    let startedAt = Date()

    public init(request: ComposeRequest, environment: ComposeEnvironment, policy: PublishPolicy = PublishPolicy(),
                events: ComposeEventSink = SilentEvents(), cancellation: Cancellation = Cancellation()) {
        self.request = request
        self.environment = environment
        self.policy = policy
        context = StageContext(events: events, cancellation: cancellation)
    }

    var events: ComposeEventSink { context.events }

    public func run() throws -> ComposeOutcome {
        let runner = StageRunner(context: context)
        switch request.mode {
        case .dryRun:
            return try unrecorded {
                let plan = try plan(runner)
                try context.cancellation.check(.resolve)
                return .planned(plan)
            }
        case .downloadOnly:
            return try unrecorded {
                let plan = try plan(runner)
                _ = try runner.run(fetcher(), plan.packages)
                try context.cancellation.check(.download)
                return .downloaded(plan)
            }
        case .compose:
            break
        }
        let build: ComposeBuild
        do {
            build = try ComposeBuild.begin(treefile: request.treefileURL.path, environment: environment, policy: policy, runner: runner)
        } catch {
            // No build row to record in: the database or `--build-id` is at fault.
            throw reportUnrecorded(error)
        }
        do {
            let plan = try self.plan(runner, build: build)
            let ref = plan.treefile.ref
            try build.lockRef(ref)
            try build.completePendingPublication(of: ref)
            let inputHash = try InputHash.compute(treefile: plan.treefile, packages: plan.packages, scriptFolder: scriptFolder(plan.treefile))
            if !request.force, let head = try build.unchangedHead(ref, inputHash: inputHash) {
                return .unchanged(try build.unchanged(ref: ref, head: head, inputHash: inputHash))
            }
            let fetched = ComposePlan(treefile: plan.treefile, packages: try runner.run(fetcher(), plan.packages))
            let workdir = try build.makeWorkdir(installSize: fetched.packages.installSize)
            let shaped = try buildRoot(fetched, in: workdir, previous: try build.previousCommit(of: ref),
                                       repository: try build.repository.existing(), runner: runner)
            build.saveLogs(postprocess: false)
            try build.store.setLog(build.id, stage: .postprocess, text: shaped.log)
            return .committed(try commitAndPublish(shaped.root, plan: fetched, version: shaped.version, inputHash: inputHash, build: build))
        } catch {
            if let outcome = build.cancelled(error) { return outcome }
            throw build.failed(error)
        }
    }

    /// load → resolve: what to build, decided before anything is installed.
    /// Nothing is recorded; `compose why` and library callers use it alone.
    public func plan() throws -> ComposePlan {
        try plan(StageRunner(context: context))
    }

    /// load → resolve, recording the treefile and the packages in `build`.
    func plan(_ runner: StageRunner, build: ComposeBuild? = nil) throws -> ComposePlan {
        let treefile = try runner.run(loader(), request.treefileURL)
        let warnings = try treefile.checkComposable()
        for warning in warnings { events.warning(warning) }
        try build?.loaded(treefile, warnings: warnings)
        let packages = try runner.run(try resolver(), treefile)
        // Caught here rather than after the install: the resolved set is what gets installed.
        let names = Set(packages.packages.map(\.name))
        if let missing = treefile.config.removeFromPackages.first(where: { !names.contains($0.package) }) {
            throw ComposeError(.resolve, subject: "remove-from-packages: \(missing.package)",
                               "\(missing.package) is not in the resolved package set; add it to packages or drop the entry")
        }
        try build?.resolved(packages)
        if let target = request.outputs.lockfile {
            try Lockfile.write(packages, to: URL(fileURLWithPath: target))
        }
        return ComposePlan(treefile: treefile, packages: packages)
    }

    /// install → postprocess into `workdir/rootfs`: everything before the
    /// commit, shared by `compose tree` and `compose install`. `previous`
    /// seeds users and groups; `repository` gives the version the commit
    /// will get (for `mutate-os-release`). The log is one line per change
    /// the treefile made, then what its scripts printed.
    func buildRoot(_ plan: ComposePlan, in workdir: URL, previous: PreviousCommit?, repository: OSTreeRepository?,
                   runner: StageRunner) throws -> (root: URL, version: String, log: String) {
        var installer = installer(plan, workdir: workdir)
        installer.seedFiles = try PasswdSeed(treefile: plan.treefile, previous: previous).files()
        let root = try runner.run(installer, plan.packages)
        let version = try Committer.nextVersion(for: plan.treefile, version: request.version, previousVersion: request.previousVersion,
                                                repository: repository)
        let postprocess = try postprocess(plan, previous: previous, version: version, workdir: workdir,
                                          sourceDateEpoch: installer.sourceDateEpoch)
        let shaped = try installer.withWritableRoot { try runner.run(postprocess, $0) }
        let output = postprocess.shaping.flatMap { try? String(contentsOf: $0.scriptLog, encoding: .utf8) } ?? ""
        return (root, version, (shaped.changes + (output.isEmpty ? [] : ["", output])).joined(separator: "\n"))
    }

    /// commit → publish → record. From the commit on, the build is
    /// `publishing` until its deltas and summary are written. A commit that
    /// does not move the ref (`--write-commitid-to`) is not published: no
    /// summary lists it.
    func commitAndPublish(_ root: URL, plan: ComposePlan, version: String?, inputHash: String, build: ComposeBuild) throws -> ComposeSummary {
        let repository = try build.repository.openOrCreate()
        var committer = committer(repository, version: version)
        // The commit names its build, so a crash after the ref moved can be reconciled.
        committer.extraMetadata = ["treeforge.build-id": .uint64(UInt64(build.id)), "treeforge.input-hash": .string(inputHash)]
        let committed = try build.runner.run(committer, (root, plan))
        try build.committed(committed, movedRef: committer.moveRef, inputHash: inputHash)
        if committer.moveRef {
            var publisher = Publisher(repository: repository, policy: policy)
            publisher.build = build.id
            let deltas = try build.runner.run(publisher, committed.commit)
            // Published means pulled, when asked: until the client's pull worked, the head is not published.
            let pullCheck = try policy.verifyPullFrom.map { url in
                try PullCheck(url: url, ref: plan.treefile.ref, commit: committed.commit, scratch: try build.makeWorkdir())
                    .run(cancellation: context.cancellation)
            }
            try build.published(deltas, pullCheck: pullCheck)
        }
        // After publishing: a file that cannot be written does not leave the head unpublished.
        try writeOutputs(committed, plan: plan, inputHash: inputHash, store: build.store)
        let summary = try build.succeeded(plan: plan)
        if let touch = request.outputs.touchIfChanged {
            FileManager.default.createFile(atPath: touch, contents: Data())
        }
        return summary
    }

    /// `--write-commitid-to` and `--write-composejson-to`.
    private func writeOutputs(_ committed: Committer.Result, plan: ComposePlan, inputHash: String, store: BuildStore) throws {
        func write(_ target: String, what: String, _ body: () throws -> Void) throws {
            do {
                try body()
            } catch {
                throw ComposeError(.record, subject: target,
                                   "cannot write the \(what) (\(error.localizedDescription)); commit \(committed.commit) was written")
            }
        }
        if let target = request.outputs.commitID {
            try write(target, what: "commit id") { try Data((committed.commit + "\n").utf8).write(to: URL(fileURLWithPath: target)) }
        }
        if let target = request.outputs.composeJSON {
            // The package changes from the parent's build, when treeforge recorded one.
            let parentBuild = try committed.parent.flatMap { try store.build(commit: $0) }?.id
            let diff = try parentBuild.map { BuildDiff(from: try store.packages(of: $0), to: plan.packages.packages.map(BuildPackage.init)) }
            try write(target, what: "compose JSON") {
                try ComposeJSON.write(to: URL(fileURLWithPath: target), ref: plan.treefile.ref, committed: committed, inputHash: inputHash,
                                      packageDiff: diff)
            }
        }
    }

    /// Runs a compose that keeps no record (a dry run, a download): its
    /// failure or cancel still ends the event stream with an outcome.
    private func unrecorded(_ body: () throws -> ComposeOutcome) throws -> ComposeOutcome {
        do {
            let outcome = try body()
            if case .planned = outcome { events.emit(.outcome(ComposeResult(status: .planned, exitStatus: 0))) }
            if case .downloaded = outcome { events.emit(.outcome(ComposeResult(status: .downloaded, exitStatus: 0))) }
            return outcome
        } catch let cancelled as ComposeCancelled {
            let result = ComposeResult(status: .cancelled, exitStatus: cancelled.exitStatus)
            events.emit(.outcome(result))
            return .cancelled(result, stage: cancelled.stage)
        } catch {
            throw reportUnrecorded(error)
        }
    }

    func reportUnrecorded(_ error: Error) -> ComposeError {
        let failure = error as? ComposeError ?? ComposeError(.record, "\(error)")
        events.emit(.error(failure))
        events.emit(.outcome(ComposeResult(status: .failed, exitStatus: ComposeResult.failedExitStatus)))
        return failure
    }
}
