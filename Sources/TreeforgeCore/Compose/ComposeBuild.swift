import Foundation
import LibOSTree

/// One recorded compose while it runs: its build row, its stage runner, its
/// repository handle and its lock on the ref. Every write to the build
/// database happens here, on the orchestrator's thread between stages,
/// never from inside a stage.
final class ComposeBuild {
    let store: BuildStore
    let id: Int64
    let runner: StageRunner
    let repository: ComposeRepository
    let environment: ComposeEnvironment
    let policy: PublishPolicy
    private(set) var ref: String?
    private var refLock: RepositoryLock?
    /// The scratch folder, once made.
    private(set) var workdir: URL?
    /// Where the scratch folder went and why, for the install log.
    private var scratchNote: String?
    /// The commit, once written, and whether the ref moved to it.
    private(set) var commit: (result: Committer.Result, movedRef: Bool)?
    /// When its deltas and summary were written.
    private var publishedAt: Date?

    var events: ComposeEventSink { runner.events }
    var cancellation: Cancellation { runner.context.cancellation }

    private init(store: BuildStore, id: Int64, runner: StageRunner, repository: ComposeRepository,
                 environment: ComposeEnvironment, policy: PublishPolicy) {
        self.store = store
        self.id = id
        self.runner = runner
        self.repository = repository
        self.environment = environment
        self.policy = policy
    }

    /// Opens the build database, settles what dead composes left, and
    /// starts the build row (or adopts the queued one `--build-id` names).
    static func begin(treefile: String, environment: ComposeEnvironment, policy: PublishPolicy,
                      runner: StageRunner) throws -> ComposeBuild {
        let store = try BuildStore(repoPath: environment.repo)
        let repository = ComposeRepository(path: environment.repo)
        reconcile(store, repository: repository, events: runner.events)
        let id: Int64
        if let adopted = environment.buildID {
            try store.adopt(adopted)
            id = adopted
        } else {
            id = try store.start(treefilePath: treefile, trigger: environment.trigger)
        }
        return ComposeBuild(store: store, id: id, runner: runner, repository: repository, environment: environment, policy: policy)
    }

    /// Crash recovery first: the database must agree with the repository.
    static func reconcile(_ store: BuildStore, repository: ComposeRepository, events: ComposeEventSink) {
        do {
            let opened = try repository.existing()
            let reconciler = BuildReconciler(store: store, repository: opened)
            for change in try reconciler.reconcile() {
                events.warning("reconciled: \(change)")
            }
        } catch {
            events.warning("cannot reconcile the build database with the repository: \(error)")
        }
    }

    var holder: RepositoryLock.Holder { RepositoryLock.Holder(build: id) }

    // MARK: Planning

    /// The treefile is read: the row gets its ref and compose id, and the
    /// build announces itself.
    func loaded(_ treefile: Treefile, warnings: [String]) throws {
        ref = treefile.ref
        try store.update(id) {
            $0.ref = treefile.ref
            $0.treefileSHA256 = treefile.sha256
        }
        try store.setInput(id, BuildInput.treefile, text: treefile.printed + "\n")
        let composeID = try store.assignComposeID(id, name: treefile.ref.replacingOccurrences(of: "/", with: "-"),
                                                  version: treefile.releasever ?? "0", day: Date())
        if !warnings.isEmpty {
            try store.setLog(id, stage: .load, text: warnings.map { "warning: \($0)" }.joined(separator: "\n"))
        }
        events.emit(.buildStarted(build: id, composeID: composeID, ref: treefile.ref, treefile: treefile.path.path))
    }

    func resolved(_ packages: ResolvedSet) throws {
        try store.recordPackages(id, packages)
        try store.setInput(id, BuildInput.lockfile, text: Lockfile.text(packages))
    }

    // MARK: The ref

    /// Waits for the ref (one compose per ref, across processes) and holds
    /// it until `releaseRef`: through the change check, commit and publish.
    func lockRef(_ ref: String) throws {
        let lock = RepositoryLock.ref(ref, in: environment.repo)
        try runner.timed(.lock) {
            try lock.acquire(as: holder, wait: environment.waitForRef, stage: .lock, cancellation: cancellation) { current in
                events.emit(.waiting(ref: ref, holder: current?.description ?? "another process"))
            }
        }
        refLock = lock
    }

    func releaseRef() {
        refLock?.release()
        refLock = nil
    }

    /// The ref's head commit when it was built from exactly these inputs.
    func unchangedHead(_ ref: String, inputHash: String) throws -> String? {
        guard let repository = try repository.existing(), let head = try? repository.resolve(ref: ref),
              let info = try? repository.commitInfo(head) else { return nil }
        return info.metadata["treeforge.input-hash"] == .string(inputHash) ? head : nil
    }

    func previousCommit(of ref: String) throws -> PreviousCommit? {
        try PreviousCommit.head(of: ref, in: try repository.existing())
    }

    // MARK: Outcomes

    func unchanged(ref: String, head: String, inputHash: String) throws -> UnchangedSummary {
        let stageInputs = runner.stageIDs
        try store.update(id) {
            $0.status = .unchanged
            $0.finishedAt = Date()
            $0.commit = head
            $0.inputHash = inputHash
            $0.stageInputs = stageInputs
            $0.pid = nil
        }
        releaseRef()
        events.emit(.outcome(ComposeResult(status: .unchanged, build: id, ref: ref, commit: head,
                                           exitStatus: ComposeResult.unchangedExitStatus)))
        return UnchangedSummary(buildID: id, ref: ref, commit: head, inputHash: inputHash)
    }

    /// The commit is written: kept here first (what the outcome reports must
    /// not depend on the database write that follows), then recorded. When
    /// the ref moved, the build is `publishing` until its deltas and summary
    /// are written.
    func committed(_ result: Committer.Result, movedRef: Bool, inputHash: String) throws {
        commit = (result, movedRef)
        try store.update(id) {
            if movedRef { $0.status = .publishing }
            $0.commit = result.commit
            $0.parent = result.parent
            $0.version = result.version
            $0.inputHash = inputHash
            $0.treeSize = result.size.bytes
            $0.treeFiles = result.size.files
        }
    }

    /// The commit's deltas and summary are written (nil: the ref was not
    /// moved, so nothing was published).
    func published(_ deltas: [Publisher.PublishedDelta], pullCheck: String?) throws {
        publishedAt = Date()
        try store.recordDeltas(id, deltas)
        if let pullCheck {
            try store.update(id) { $0.pullCheck = pullCheck }
            try store.appendLog(id, stage: .publish, text: pullCheck)
        }
    }

    func succeeded(plan: ComposePlan) throws -> ComposeSummary {
        guard let (result, _) = commit else { throw ComposeError(.record, "no commit to record") }
        // The record is the last step: a signal that arrives once the commit
        // is published is too late to cancel anything.
        try runner.timed(.record, cancellable: false) {
            let seconds = runner.secondsByStage
            let stageInputs = runner.stageIDs
            let (now, publishedAt) = (Date(), publishedAt)
            try store.update(id) {
                $0.status = .succeeded
                $0.finishedAt = now
                $0.publishedAt = publishedAt
                $0.stageSeconds = seconds
                $0.stageInputs = stageInputs
                $0.pid = nil
            }
        }
        releaseRef()
        events.emit(.outcome(ComposeResult(status: .committed, build: id, ref: plan.treefile.ref, commit: result.commit,
                                           version: result.version, parent: result.parent, exitStatus: 0)))
        // A `--workdir` the user gave stays for inspection.
        if environment.workdir == nil { removeWorkdir() }
        return ComposeSummary(buildID: id, ref: plan.treefile.ref, commit: result.commit, parent: result.parent,
                              version: result.version, packages: plan.packages, timings: runner.timings)
    }

    /// The commit on the ref, not yet published: what a failure or cancel leaves.
    private var unpublishedHead: Committer.Result? {
        guard let (result, movedRef) = commit, movedRef, publishedAt == nil else { return nil }
        return result
    }

    /// A cancelled compose: recorded `cancelled` (or, when its commit is
    /// already on the ref, left `publishing` for the next compose to
    /// finish), its scratch folder removed. nil when `error` is not a cancel.
    func cancelled(_ error: Error) -> ComposeOutcome? {
        guard error is ComposeCancelled || cancellation.isCancelled else { return nil }
        let stage = (error as? ComposeCancelled)?.stage ?? (error as? ComposeError)?.stage ?? .record
        let reason = cancellation.reason ?? "cancelled"
        let head = unpublishedHead
        let note = head.map { "cancelled (\(reason)) while publishing \($0.commit): the next compose of \(ref ?? "the ref") or `treeforge publish` finishes it" }
            ?? "cancelled (\(reason)) during \(stage); nothing was committed"
        finish(head == nil ? .cancelled : .publishing, stage: stage, message: note, logLine: note, postprocessLog: stage == .postprocess)
        let result = ComposeResult(status: .cancelled, build: id, ref: ref, commit: head?.commit, version: head?.version,
                                   parent: head?.parent, exitStatus: cancellation.cancelled(in: stage).exitStatus)
        // The outcome before the folder goes: removing a large root takes
        // seconds, in which a second signal would otherwise lose the outcome.
        events.emit(.outcome(result))
        removeWorkdir()
        return .cancelled(result, stage: stage)
    }

    /// Records a failure — the stage, the error, the logs — and returns the
    /// error to throw. A failure after the ref moved and before its publish
    /// finished leaves the build `publishing`: its commit is on the ref.
    func failed(_ error: Error) -> ComposeError {
        let failure = error as? ComposeError ?? ComposeError(.record, "\(error)")
        let head = unpublishedHead
        finish(head == nil ? .failed : .publishing, stage: failure.stage, message: failure.description,
               logLine: "error: \(failure)", postprocessLog: failure.stage == .postprocess)
        events.emit(.error(failure))
        let written = commit?.result
        events.emit(.outcome(ComposeResult(status: .failed, build: id, ref: ref, commit: written?.commit, version: written?.version,
                                           parent: written?.parent, exitStatus: ComposeResult.failedExitStatus)))
        return failure
    }

    /// Ends the row of a compose that did not succeed: its logs (the note
    /// added, never replacing what librpm and the scriptlets wrote), status,
    /// stage, message, timings; then the ref is released.
    private func finish(_ status: BuildRecord.Status, stage: Stage, message: String, logLine: String, postprocessLog: Bool) {
        saveLogs(postprocess: postprocessLog)
        try? store.appendLog(id, stage: stage, text: logLine)
        let seconds = runner.secondsByStage
        let stageInputs = runner.stageIDs
        let publishedAt = publishedAt
        try? store.update(id) {
            $0.status = status
            $0.finishedAt = Date()
            $0.publishedAt = publishedAt
            $0.failedStage = stage.rawValue
            $0.error = message
            $0.stageSeconds = seconds
            $0.stageInputs = stageInputs
            $0.pid = nil
        }
        releaseRef()
    }

    // MARK: Scratch space and logs

    /// The scratch folder: `--workdir`, or a fresh one in memory or in
    /// /var/tmp (`ScratchSpace`) for packages that install `installSize` bytes.
    func makeWorkdir(installSize: UInt64 = 0) throws -> URL {
        if let workdir { return workdir }
        let made: URL
        if let given = environment.workdir {
            try FileManager.default.createDirectory(at: given, withIntermediateDirectories: true)
            made = given
        } else {
            let (prefix, reason) = ScratchSpace.prefix(for: environment.scratchPlacement, installSize: installSize)
            var bytes = Array((prefix + "XXXXXX").utf8CString)
            guard mkdtemp(&bytes) != nil else {
                throw ComposeError(.install, subject: String(prefix.dropLast("treeforge-compose-".count)),
                                   "cannot create a work directory: \(String(cString: strerror(errno)))")
            }
            made = URL(fileURLWithPath: String(cString: bytes))
            // Recorded, so that a killed compose's root does not fill /var/tmp (or memory) for good.
            let path = made.path
            try store.update(id) { $0.scratchFolder = path }
            scratchNote = "scratch folder \(path): \(reason)"
        }
        workdir = made
        return made
    }

    /// What a compose leaves in its workdir; all of it when treeforge made the folder.
    static let workdirContents = ["rootfs", "install-plan.json", "install-plan-scriptlets.json", "install-plan-database.json",
                                  Installer.scriptletRootName, Installer.postprocessRootName, "install.log", "postprocess.log"]

    func removeWorkdir() {
        guard let workdir else { return }
        if environment.workdir == nil {
            try? FileManager.default.removeItem(at: workdir)
            try? store.update(id) { $0.scratchFolder = nil }
        } else {
            for name in Self.workdirContents { try? FileManager.default.removeItem(at: workdir.appendingPathComponent(name)) }
        }
    }

    /// The install log (librpm, scriptlets) and, when asked, the postprocess
    /// scripts' log, into the build record.
    func saveLogs(postprocess: Bool = true) {
        guard let workdir else { return }
        let log = (try? String(contentsOf: workdir.appendingPathComponent("install.log"), encoding: .utf8)) ?? ""
        let text = [scratchNote, log.isEmpty ? nil : log].compactMap { $0 }.joined(separator: "\n")
        if !text.isEmpty { try? store.setLog(id, stage: .install, text: text) }
        if postprocess, let log = try? String(contentsOf: workdir.appendingPathComponent("postprocess.log"), encoding: .utf8), !log.isEmpty {
            try? store.setLog(id, stage: .postprocess, text: log)
        }
    }
}
