import Foundation
import Hummingbird
import TreeforgeCore

/// What the HTTP handlers call: the domain services behind the API. A
/// handler decodes, calls one of these, encodes; no handler touches the
/// store, the repository or the job runner itself.
public struct ServerServices: Sendable {
    public let configuration: ServerConfiguration
    public let store: any ServerStore
    public let runner: JobRunner
    public let tokens: TokenRegistry
    let catalog: TreefileCatalog
    let queue: ComposeQueue
    let repoTraffic = RepositoryTraffic()
    public let startedAt = Date()

    public init(configuration: ServerConfiguration, store: any ServerStore, runner: JobRunner, tokens: TokenRegistry) {
        self.configuration = configuration
        self.store = store
        self.runner = runner
        self.tokens = tokens
        catalog = TreefileCatalog(folder: configuration.treefiles)
        queue = ComposeQueue(catalog: catalog, store: store)
    }

    // MARK: Authorization

    /// The request's token, if it may do `scope` (and touch `ref`); every
    /// decision is written to the audit log.
    func authorize(_ request: Request, _ scope: TokenScope, action: String, target: String?, ref: String? = nil) async throws -> APIToken {
        let token = tokens.token(forAuthorization: request.headers[.authorization])
        var refusal: APIError?
        if request.headers[.authorization] == nil {
            refusal = .unauthorized("this request changes something: it needs `Authorization: Bearer TOKEN` with the \(scope.rawValue) scope")
        } else if token == nil {
            refusal = .unauthorized("the token is unknown or revoked")
        } else if let token, !token.allows(scope) {
            refusal = .forbidden("missing_scope", "token \(token.name) lacks the \(scope.rawValue) scope")
        } else if let token, let ref, !token.allows(ref: ref) {
            refusal = .forbidden("ref_not_allowed", "token \(token.name) may not touch \(ref) (its refs: \((token.refs ?? []).joined(separator: ", ")))")
        }
        let entry = AuditEntry(token: token?.name, action: action, target: target, result: refusal?.code ?? "ok",
                               detail: refusal?.message)
        let store = self.store
        try await Blocking.run { try store.audit(entry) }
        if let refusal { throw refusal }
        return token!
    }

    /// Records the end of an authorized action that failed after the check.
    func auditFailure(_ token: APIToken, action: String, target: String?, _ error: APIError) async {
        let store = self.store
        let entry = AuditEntry(token: token.name, action: action, target: target, result: error.code, detail: error.message)
        try? await Blocking.run { try store.audit(entry) }
    }

    // MARK: Composes

    /// Queues a compose of a treefile for the token.
    func submit(_ body: ComposeSubmissionBody, idempotencyKey: String?, request: Request) async throws -> Submitted {
        let queue = self.queue
        let name = body.treefile
        if let key = idempotencyKey, key.isEmpty || key.count > 200 {
            throw APIError.badRequest("bad_idempotency_key", "Idempotency-Key must be 1 to 200 characters")
        }
        if let version = body.version, version.isEmpty || version.count > 128 || version.contains(where: { $0.isNewline }) {
            throw APIError.badRequest("bad_version", "version must be 1 to 128 characters on one line")
        }
        // The ref decides what the token may touch, so the treefile is read before anything is queued.
        let located = try await Blocking.run { try queue.locate(name) }
        let token = try await authorize(request, .submit, action: "submit", target: name, ref: located.ref)
        return try await Blocking.run {
            try queue.submit(name, located: located, force: body.force ?? false, version: body.version, by: token.name, trigger: "api",
                             idempotencyKey: idempotencyKey)
        }
    }

    /// Cancels a build: a queued one at once, a running one through its compose.
    func cancel(_ id: Int64, request: Request) async throws -> String {
        let store = self.store
        guard let build = try await Blocking.run({ try store.builds.build(id) }) else {
            throw APIError.notFound("no build #\(id)")
        }
        let token = try await authorize(request, .cancel, action: "cancel", target: "build #\(id)", ref: build.ref ?? "")
        switch try await Blocking.run({ try store.requestCancel(id, at: Date()) }) {
        case .cancelledWhileQueued:
            return "cancelled"
        case .stopRunning:
            _ = await runner.cancel(id)
            return "cancelling"
        case .alreadyFinished(let status):
            let error = APIError.conflict("build_finished", "build #\(id) is \(status.rawValue): there is nothing to cancel")
            await auditFailure(token, action: "cancel", target: "build #\(id)", error)
            throw error
        case .notFound:
            throw APIError.notFound("no build #\(id)")
        }
    }
}

/// `POST /api/v1/composes`'s body.
struct ComposeSubmissionBody: Codable, Sendable {
    var treefile: String
    var force: Bool?
    var version: String?
}
