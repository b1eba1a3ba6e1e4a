import Foundation
import Logging
import ServiceLifecycle
import TreeforgeCore

/// Runs the queue: starts each queued compose as a child process
/// (`treeforge compose tree --progress=json --build-id N --server-pid PID`: librpm
/// chroots its process, so never in the server), at most `maxParallel` at
/// once and one per ref, records each child's event stream, and supervises:
///
/// - a child that died without an outcome has its build reconciled
///   (`interrupted`, or `publishing` when its commit is on the ref) at once;
/// - a ref whose head is left unpublished gets a `treeforge publish --ref`
///   child in the publish lane, which never waits for a compose slot;
/// - every few seconds the builds of dead processes are reconciled, and the
///   running jobs' heartbeats written;
/// - on graceful shutdown (SIGTERM) the running composes are cancelled
///   through the engine (SIGTERM), and queued again once at the next start.
///
/// Children die with the server (`--server-pid`): a server killed outright
/// leaves no compose running, and the next start reconciles their builds.
public actor JobRunner: Service {
    let store: any ServerStore
    let configuration: ServerConfiguration
    let executable: URL
    let logger: Logger
    /// Seconds between supervision rounds.
    let tick: Duration

    /// Where the server listens, once it does: composes check their
    /// publication by pulling from its `/repo/`, so none starts before.
    let address: ServerAddress
    private var composes: [Int64: RunningJob] = [:]
    /// The lane: a publish or a prune per ref, never waiting for a compose slot.
    private var lane: [String: ChildProcess] = [:]
    /// When a ref's publish last failed: the lane tries it again a minute later, not every round.
    private var publishFailedAt: [String: Date] = [:]
    private var draining = false
    private var lastSupervision = Date.distantPast

    struct RunningJob {
        let ref: String
        let child: ChildProcess
        /// Its exit is being settled: the entry stays (no second start) until that is done.
        var exiting = false
    }

    public init(store: any ServerStore, configuration: ServerConfiguration, executable: URL, logger: Logger,
                address: ServerAddress = ServerAddress(), tick: Duration = .milliseconds(250)) {
        self.address = address
        self.store = store
        self.configuration = configuration
        self.executable = executable
        self.logger = logger
        self.tick = tick
    }

    /// What runs now, for health and metrics.
    public struct Snapshot: Sendable {
        public var running: [Int64]
        public var publishing: [String]
    }

    public var snapshot: Snapshot { Snapshot(running: composes.keys.sorted(), publishing: lane.keys.sorted()) }

    public func run() async throws {
        try await startUp()
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    await self.round()
                    try await Task.sleep(for: self.tick)
                }
            }
        } catch is CancellationError {
            // Graceful shutdown: fall through to the drain.
        }
        await drain()
    }

    /// Settles what a previous run of the server left, then queues again
    /// (once) the composes its drain cancelled.
    private func startUp() async throws {
        let store = self.store
        let repo = configuration.repo
        let changes = try await Blocking.run { try store.builds.reconcile(repo: repo) }
        for change in changes { logger.info("reconciled: \(change)") }
        let requeues = try await Blocking.run { try store.takeRequeues() }
        for job in requeues {
            let submission = Submission(treefileName: job.treefileName, ref: job.ref, request: job.request,
                                        submittedBy: job.submittedBy, trigger: "requeued")
            let submitted = try await Blocking.run { try store.submit(submission) }
            try await Blocking.run { try store.linkRequeue(job.id, to: submitted.id) }
            logger.info("build #\(job.id) was cancelled by the last shutdown: queued again as build #\(submitted.id)")
        }
    }

    /// One round: start what may start, supervise what runs.
    private func round() async {
        guard !draining else { return }
        do {
            try await startQueued()
            if Date().timeIntervalSince(lastSupervision) >= 2 {
                lastSupervision = Date()
                try await supervise()
            }
        } catch {
            logger.error("job runner: \(error)")
        }
    }

    private func startQueued() async throws {
        guard address.repository != nil else { return }
        let store = self.store
        let queued = try await Blocking.run { try store.queued() }
        var refs = Set(composes.values.map(\.ref))
        for job in queued where composes.count < configuration.maxParallel && !refs.contains(job.ref) && composes[job.id] == nil {
            // Reentrancy: a round that ran while this one awaited may have started it.
            guard !draining, composes[job.id] == nil else { continue }
            await start(job)
            refs.insert(job.ref)
        }
    }

    private func start(_ job: QueuedJob) async {
        var arguments = ["compose", "tree", job.request.treefile, "--repo", configuration.repo.path, "--progress", "json",
                         "--build-id", String(job.id), "--server-pid", String(getpid()),
                         "--static-delta-depth", String(configuration.staticDeltaDepth)]
        if let repository = address.repository { arguments += ["--verify-pull", repository.absoluteString] }
        if job.request.force { arguments.append("--force-nocache") }
        if let version = job.request.version { arguments += ["--version", version] }
        if let cachedir = configuration.cachedir { arguments += ["--cachedir", cachedir.path] }
        if let workdir = configuration.workdir { arguments += ["--workdir", workdir.appendingPathComponent("build-\(job.id)").path] }
        let child = ChildProcess(executable: executable, arguments: arguments)
        let store = self.store
        let id = job.id
        // Seen on the reader thread, read when the child has exited (after both streams ended).
        let sawOutcome = LockedFlag()
        do {
            try child.start(onLine: { line in
                guard let event = try? ComposeEventLine.decoder().decode(ComposeEventLine.self, from: Data(line.utf8)) else { return }
                try? store.appendEvent(id, seq: event.seq, type: event.event.type, line: line)
                if case .outcome = event.event { sawOutcome.set() }
            }, onExit: { [weak self] status in
                guard let self else { return }
                Task { await self.composeExited(id, status: status, sawOutcome: sawOutcome.isSet) }
            })
        } catch {
            // Not started (no process): the build fails now, rather than holding a slot and its ref for good.
            logger.error("build #\(id): cannot start its compose: \(error)")
            _ = try? await Blocking.run {
                try store.builds.update(id, if: { $0.status == .queued }) {
                    $0.status = .failed
                    $0.finishedAt = Date()
                    $0.failedStage = Stage.record.rawValue
                    $0.error = "the server cannot start the compose process \(self.executable.path): \(error)"
                }
            }
            return
        }
        composes[job.id] = RunningJob(ref: job.ref, child: child)
        logger.info("build #\(job.id): started \(job.treefileName) (\(job.ref)) as pid \(child.pid)")
        try? await Blocking.run { try store.started(id, at: Date()) }
    }

    private func composeExited(_ id: Int64, status: Int32, sawOutcome: Bool) async {
        guard let job = composes[id], !job.exiting else { return }
        composes[id]?.exiting = true
        defer { composes.removeValue(forKey: id) }
        logger.info("build #\(id): the compose ended with status \(status)")
        let store = self.store
        let output = job.child.lastOutput
        // A child that ended before adopting its build (it could not open the
        // database, say) would be started again and again: its build fails here.
        if let build = try? await Blocking.run({ try store.builds.build(id) }), build.status == .queued {
            // Stopped by a drain before it adopted its build: it stays queued for the next start.
            guard !draining else { return }
            try? await Blocking.run {
                try store.recordChildOutput(id, output)
                try store.builds.update(id, if: { $0.status == .queued }) {
                    $0.status = .failed
                    $0.finishedAt = Date()
                    $0.failedStage = Stage.record.rawValue
                    $0.error = "the compose process ended (status \(status)) before it started the build: \(output.suffix(2000))"
                }
            }
            logger.error("build #\(id): the compose ended before it started the build (status \(status))")
            return
        }
        guard !sawOutcome else {
            await publishIfPending(job.ref)
            // Committed (exit 0): the ref's history is pruned, when the server is asked to.
            if status == 0 { pruneIfConfigured(job.ref) }
            return
        }
        // Died without saying how it ended (killed, crashed): keep its last words, settle its build.
        let repo = configuration.repo
        do {
            try await Blocking.run { try store.recordChildOutput(id, output) }
            let changes = try await Blocking.run { try store.builds.reconcile(repo: repo) }
            for change in changes { logger.warning("reconciled: \(change)") }
        } catch {
            logger.error("build #\(id): cannot settle the build of the compose that died: \(error)")
        }
        await publishIfPending(job.ref)
    }

    /// Reconciles dead composes' builds, writes heartbeats, and starts a
    /// publish for each ref whose head a compose left unpublished.
    private func supervise() async throws {
        let store = self.store
        let repo = configuration.repo
        let running = composes.keys.sorted()
        try await Blocking.run { try store.heartbeat(running, at: Date()) }
        let changes = try await Blocking.run { try store.builds.reconcile(repo: repo) }
        for change in changes { logger.warning("reconciled: \(change)") }
        let grace = configuration.deltaGracePeriod
        let expired = try await Blocking.run { RetiredDeltas(repo: repo).removeExpired(gracePeriod: grace) }
        if !expired.isEmpty { logger.info("removed \(expired.count) retired static deltas whose grace period is over") }
        let pending = try await Blocking.run { try store.builds(BuildFilter(status: .publishing, limit: 1000)) }
        for ref in Set(pending.filter { $0.pid == nil }.compactMap(\.ref)) { await publishIfPending(ref) }
    }

    /// The publish lane: one `treeforge publish --ref` per ref, outside the
    /// compose slots; nothing to do when a compose of the ref runs (it
    /// lane first) or the head is published.
    private func publishIfPending(_ ref: String) async {
        guard !draining, lane[ref] == nil, !composes.values.contains(where: { $0.ref == ref }),
              let repository = address.repository else { return }
        if let failed = publishFailedAt[ref], Date().timeIntervalSince(failed) < 60 { return }
        let store = self.store
        guard let pending = try? await Blocking.run({ try store.builds(BuildFilter(ref: ref, status: .publishing, limit: 1)) }),
              let build = pending.first, build.pid == nil else { return }
        // Reentrancy: another caller may have started the lane's child while this one awaited.
        guard !draining, lane[ref] == nil, !composes.values.contains(where: { $0.ref == ref }) else { return }
        startInLane(ref, what: "publishing \(ref) (build #\(build.id ?? 0) left it unpublished)", arguments: [
            "publish", "--ref", ref, "--repo", configuration.repo.path, "--server-pid", String(getpid()), "--progress", "json",
            "--static-delta-depth", String(configuration.staticDeltaDepth), "--verify-pull", repository.absoluteString,
        ]) { runner, status in
            // A failed publish is tried again a minute later, not every round.
            await runner.setPublishFailed(ref, status != 0)
        }
    }

    /// `prune-keep-last`: after each commit, `treeforge prune` of its ref in
    /// the lane (it takes the ref's lock, so a compose of the ref waits for it).
    private func pruneIfConfigured(_ ref: String) {
        guard let keep = configuration.pruneKeepLast, !draining, lane[ref] == nil else { return }
        startInLane(ref, what: "pruning \(ref) to its last \(keep) commits", arguments: [
            "prune", "--ref", ref, "--keep-last", String(keep), "--repo", configuration.repo.path, "--server-pid", String(getpid()),
            "--delta-grace-period", "\(Int(configuration.deltaGracePeriod))s",
        ]) { _, _ in }
    }

    /// Starts a treeforge child in the ref's lane; when it ends, the lane is
    /// free again, a failure is logged with its last words, then `ended` runs.
    private func startInLane(_ ref: String, what: String, arguments: [String],
                             ended: @escaping @Sendable (JobRunner, Int32) async -> Void) {
        let child = ChildProcess(executable: executable, arguments: arguments)
        lane[ref] = child
        do {
            try child.start(onLine: { _ in }, onExit: { [weak self] status in
                guard let self else { return }
                Task {
                    await self.laneExited(ref, status: status, what: what)
                    await ended(self, status)
                }
            })
            logger.info("lane: \(what)")
        } catch {
            lane[ref] = nil
            logger.error("lane: cannot start \(what): \(error)")
        }
    }

    private func laneExited(_ ref: String, status: Int32, what: String) {
        let child = lane.removeValue(forKey: ref)
        if status != 0 {
            logger.error("lane: \(what) failed (status \(status)): \(child?.lastOutput.suffix(2000) ?? "")")
        }
    }

    private func setPublishFailed(_ ref: String, _ failed: Bool) {
        publishFailedAt[ref] = failed ? Date() : nil
    }

    /// Stops a running compose through the engine (SIGTERM: the rpm child,
    /// libostree and scripts stop; the build is recorded `cancelled`).
    public func cancel(_ id: Int64) -> Bool {
        guard let job = composes[id] else { return false }
        job.child.signal(SIGTERM)
        return true
    }

    /// Graceful shutdown: every running compose is cancelled and waited for
    /// (a minute at most), and queued again once at the next start.
    private func drain() async {
        draining = true
        let cancelled = composes.keys.sorted()
        guard !cancelled.isEmpty || !lane.isEmpty else { return }
        logger.info("shutting down: cancelling builds \(cancelled.map { "#\($0)" }.joined(separator: ", "))")
        for job in composes.values { job.child.signal(SIGTERM) }
        for child in lane.values { child.signal(SIGTERM) }
        let deadline = Date().addingTimeInterval(60)
        while (!composes.isEmpty || !lane.isEmpty) && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        for job in composes.values { job.child.signal(SIGKILL) }
        for child in lane.values { child.signal(SIGKILL) }
        let store = self.store
        let repo = configuration.repo
        do {
            try await Blocking.run {
                // Queued again once: not a build someone cancelled, nor one that already is a requeue.
                let ended = try cancelled.filter { id in
                    guard let build = try store.builds.build(id), build.status == .cancelled, build.trigger != "requeued" else { return false }
                    return try store.job(id)?.cancelRequestedAt == nil
                }
                try store.markForRequeue(ended)
                _ = try store.builds.reconcile(repo: repo)
            }
        } catch {
            logger.error("shutting down: cannot record the cancelled builds for the next start: \(error)")
        }
    }
}

/// The address the HTTP server listens on, known once it does (`--listen
/// 127.0.0.1:0` picks a port).
public final class ServerAddress: @unchecked Sendable {
    private let lock = NSLock()
    private var base: URL?

    public init(_ base: URL? = nil) {
        self.base = base
    }

    /// `http://HOST:PORT/`; a wildcard host is reached on loopback.
    public func listening(host: String, port: Int) {
        let reachable = switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "[::]": "[::1]"
        default: host.contains(":") ? "[\(host)]" : host
        }
        lock.withLock { base = URL(string: "http://\(reachable):\(port)/") }
    }

    public var url: URL? { lock.withLock { base } }
    /// The repository as clients pull it.
    public var repository: URL? { url?.appendingPathComponent("repo/") }
}

/// A flag one thread sets and another reads.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
