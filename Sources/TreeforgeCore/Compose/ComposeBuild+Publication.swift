import Foundation

extension ComposeBuild {
    /// Finishes what an earlier compose of the ref left undone: it moved the
    /// ref, then was killed, cancelled or failed before its deltas, summary
    /// or signature were written. Runs holding the ref's lock, before the
    /// change check, so "No changes" is never said of an unpublished head.
    /// The build that made the head is then recorded `succeeded`.
    ///
    /// Undone means the summary does not list the head, or the head's build
    /// still says `publishing` (it stopped between the summary and its
    /// signature or record). A policy that asks for more than the head was
    /// published with (a from-scratch delta, a signature) does not make it
    /// undone: the next commit is published under that policy.
    func completePendingPublication(of ref: String) throws {
        guard let opened = try repository.existing(), let head = try opened.resolve(ref: ref) else { return }
        let owner = try store.build(commit: head)
        let publication = Publication(repository: opened, policy: policy)
        guard try !publication.isListed(ref: ref, head: head) || owner?.status == .publishing else { return }
        var missing = try publication.missing(ref: ref, head: head)
        if missing.isEmpty { missing = ["its build record"] }
        events.emit(.publishResumed(ref: ref, commit: head, build: owner?.id, missing: missing))
        var publisher = Publisher(repository: opened, policy: policy)
        publisher.build = id
        let deltas = try publisher.run(head, in: runner.context)
        let note = "published \(head) (missing: \(missing.joined(separator: "; ")))"
        if let owner, let ownerID = owner.id {
            try store.recordDeltas(ownerID, deltas)
            let now = Date()
            try store.update(ownerID) {
                $0.status = .succeeded
                $0.publishedAt = now
                $0.finishedAt = $0.finishedAt ?? now
                $0.error = nil
                $0.failedStage = nil
                $0.pid = nil
            }
            try store.appendLog(ownerID, stage: .publish, text: "build #\(id) \(note)")
        }
        try store.appendLog(id, stage: .publish, text: "before composing: \(note)" + (owner?.id.map { ", for build #\($0)" } ?? ""))
    }
}
