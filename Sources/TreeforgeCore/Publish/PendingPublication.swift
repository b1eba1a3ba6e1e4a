import Foundation
import LibOSTree

/// Finishes what an earlier compose of a ref left undone: it moved the ref,
/// then was killed, cancelled or failed before its deltas, summary or
/// signature were written. Undone means the summary does not list the head,
/// or the head's build still says `publishing` (it stopped between the
/// summary and its signature or record). A policy that asks for more than
/// the head was published with (a from-scratch delta, a signature) does not
/// make it undone: the next commit is published under that policy.
///
/// The caller holds the ref's lock. The build that made the head is then
/// recorded `succeeded`.
struct PendingPublication {
    let store: BuildStore
    let repository: OSTreeRepository
    let policy: PublishPolicy

    struct Completed: Sendable {
        let ref: String
        let commit: String
        /// The build that made the commit, when one is recorded.
        let owner: Int64?
        let missing: [String]
    }

    /// Publishes the ref's head if a publish left it undone; nil when there
    /// was nothing to do. `publisher` names who did it in the owner's log.
    func complete(ref: String, publisher who: String, build: Int64?, context: StageContext) throws -> Completed? {
        guard let head = try repository.resolve(ref: ref) else { return nil }
        let owner = try store.build(commit: head)
        let publication = Publication(repository: repository, policy: policy)
        guard try !publication.isListed(ref: ref, head: head) || owner?.status == .publishing else { return nil }
        var missing = try publication.missing(ref: ref, head: head)
        if missing.isEmpty { missing = ["its build record"] }
        context.events.emit(.publishResumed(ref: ref, commit: head, build: owner?.id, missing: missing))
        var publisher = Publisher(repository: repository, policy: policy)
        publisher.build = build
        let deltas = try publisher.run(head, in: context)
        let checked = try policy.verifyPullFrom.map { url in
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("treeforge-pull-check-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            return try PullCheck(url: url, ref: ref, commit: head, scratch: scratch).run(cancellation: context.cancellation)
        }
        if let ownerID = owner?.id {
            try store.recordDeltas(ownerID, deltas)
            let now = Date()
            try store.update(ownerID) {
                $0.status = .succeeded
                $0.publishedAt = now
                $0.finishedAt = $0.finishedAt ?? now
                $0.error = nil
                $0.failedStage = nil
                $0.pid = nil
                if let checked { $0.pullCheck = checked }
            }
            try store.appendLog(ownerID, stage: .publish, text: "\(who) published \(head) (missing: \(missing.joined(separator: "; ")))")
        }
        return Completed(ref: ref, commit: head, owner: owner?.id, missing: missing)
    }
}
