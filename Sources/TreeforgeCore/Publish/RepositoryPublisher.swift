import Foundation
import LibOSTree

/// `treeforge publish`: finishes every undone publish of the repository's
/// refs (or of one), each holding its ref's lock, without composing.
public struct RepositoryPublisher {
    public var repo: URL
    public var policy: PublishPolicy
    public var waitForRef = true

    public init(repo: URL, policy: PublishPolicy) {
        self.repo = repo
        self.policy = policy
    }

    public struct Report: Sendable {
        /// The refs whose heads were published now, with what was missing.
        public var published: [(ref: String, commit: String, build: Int64?, missing: [String])] = []
        /// The refs that were published already, with their heads.
        public var alreadyPublished: [(ref: String, commit: String)] = []
    }

    public func run(ref: String?, events: ComposeEventSink, cancellation: Cancellation = Cancellation()) throws -> Report {
        let handle = ComposeRepository(path: repo)
        guard let repository = try handle.existing() else {
            throw ComposeError(.publish, subject: repo.path, "no OSTree repository here")
        }
        let store = try BuildStore(repoPath: repo)
        ComposeBuild.reconcile(store, repository: handle, events: events)
        let refs: [String]
        do {
            refs = try ref.map { [$0] } ?? repository.refs().keys.sorted()
        } catch let error as OSTreeError {
            throw ComposeError(.publish, subject: repo.path, "cannot list the refs: \(error)")
        }
        var report = Report()
        let context = StageContext(events: events, cancellation: cancellation)
        for ref in refs {
            let lock = RepositoryLock.ref(ref, in: repo)
            try lock.acquire(as: .init(build: nil), wait: waitForRef, stage: .lock, cancellation: cancellation) { holder in
                events.emit(.waiting(ref: ref, holder: holder?.description ?? "another process"))
            }
            defer { lock.release() }
            // Read holding the lock: a compose it waited for may have moved the ref.
            guard let head = try? repository.resolve(ref: ref) else {
                throw ComposeError(.publish, subject: "ref \(ref)", "no such ref in \(repo.path)")
            }
            let pending = PendingPublication(store: store, repository: repository, policy: policy)
            if let done = try pending.complete(ref: ref, publisher: "treeforge publish", build: nil, context: context) {
                report.published.append((ref, done.commit, done.owner, done.missing))
            } else {
                report.alreadyPublished.append((ref, head))
            }
        }
        events.emit(.outcome(ComposeResult(status: .published, ref: ref, exitStatus: 0)))
        return report
    }
}
