import Foundation
import LibOSTree

/// Whether a ref's head is published: the summary lists the ref at that
/// commit, every static delta the policy wants for it is completely
/// written, and the summary is signed when the policy signs. Until all hold,
/// mirrors and clients do not see the new version (or pull it slowly), so a
/// compose that moved the ref but did not get this far left work undone —
/// the next compose of the ref, or `treeforge publish`, finishes it.
struct Publication {
    let repository: OSTreeRepository
    let policy: PublishPolicy

    /// Whether the summary mirrors read lists `ref` at `head`.
    func isListed(ref: String, head: String) throws -> Bool {
        do {
            return try repository.summaryRefs()?[ref] == head
        } catch let error as OSTreeError {
            throw ComposeError(.publish, subject: "ref \(ref) in \(repository.path)", "cannot read the summary: \(error)")
        }
    }

    /// What is missing for `head` of `ref` to be published under the
    /// policy, a phrase each; empty when it is published.
    func missing(ref: String, head: String) throws -> [String] {
        var missing: [String] = []
        do {
            let listed = try repository.summaryRefs()
            if listed?[ref] != head {
                missing.append(listed == nil ? "no summary" : "the summary does not list \(ref) at \(head)")
            }
            let publisher = Publisher(repository: repository, policy: policy)
            for from in try publisher.deltaSources(for: head) where !repository.hasStaticDelta(from: from, to: head) {
                missing.append("static delta \(from.map { String($0.prefix(12)) } ?? "(scratch)") → \(head.prefix(12))")
            }
        } catch let error as OSTreeError {
            throw ComposeError(.publish, subject: "ref \(ref) in \(repository.path)", "cannot tell whether its head is published: \(error)")
        }
        if policy.gpgKey != nil, !repository.summaryIsSigned {
            missing.append("the summary's signature")
        }
        return missing
    }
}
