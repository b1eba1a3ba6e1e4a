import Foundation
import TreeforgeCore

/// Turns "compose this treefile" into a queued build: the treefile found by
/// its name under the treefiles folder and loaded for its ref, then
/// submitted (coalescing with a build already queued for the ref). The API
/// and the scheduler both queue through it.
struct ComposeQueue: Sendable {
    let catalog: TreefileCatalog
    let store: any ServerStore

    /// The treefile's file and ref. Blocks (file IO).
    func locate(_ name: String) throws -> (file: URL, ref: String) {
        let file = try catalog.resolve(name)
        let treefile = try catalog.load(name)
        guard !treefile.ref.isEmpty else {
            throw APIError(.unprocessableContent, "bad_treefile", "\(name) sets no ref: it is not a treefile to compose (an include?)")
        }
        return (file, treefile.ref)
    }

    /// Queues a compose. Blocks (SQLite).
    func submit(_ name: String, located: (file: URL, ref: String), force: Bool, version: String?, by: String, trigger: String,
                idempotencyKey: String? = nil) throws -> Submitted {
        var request = ComposeRequest(treefile: located.file.path)
        request.force = force
        request.version = version
        return try store.submit(Submission(treefileName: name, ref: located.ref, request: request, submittedBy: by, trigger: trigger,
                                           idempotencyKey: idempotencyKey))
    }
}
