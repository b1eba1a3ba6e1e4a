import Foundation

extension ComposeBuild {
    /// Finishes an earlier compose's undone publish of the ref's head
    /// (`PendingPublication`). Runs holding the ref's lock, before the change
    /// check, so "No changes" is never said of an unpublished head.
    func completePendingPublication(of ref: String) throws {
        guard let opened = try repository.existing() else { return }
        let pending = PendingPublication(store: store, repository: opened, policy: policy)
        guard let completed = try pending.complete(ref: ref, publisher: "build #\(id)", build: id, context: runner.context) else { return }
        try store.appendLog(id, stage: .publish, text: "before composing: published \(completed.commit)"
                            + (completed.owner.map { " of build #\($0)" } ?? "") + " (missing: \(completed.missing.joined(separator: "; ")))")
    }
}
