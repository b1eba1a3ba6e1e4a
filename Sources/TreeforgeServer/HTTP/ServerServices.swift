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
    let sessions: SessionSigner
    public let startedAt = Date()

    /// `sessionKeyFolder`: where the pages' session key is kept (the
    /// repository); none, a key for this process only.
    public init(configuration: ServerConfiguration, store: any ServerStore, runner: JobRunner, tokens: TokenRegistry,
                sessionsIn repo: URL? = nil) throws {
        sessions = try repo.map { try SessionSigner.load(repo: $0) }
            ?? SessionSigner(key: Data((0..<32).map { _ in UInt8.random(in: 0...255) }))
        self.configuration = configuration
        self.store = store
        self.runner = runner
        self.tokens = tokens
        catalog = TreefileCatalog(folder: configuration.treefiles)
        queue = ComposeQueue(catalog: catalog, store: store)
    }

    // MARK: Authorization

    /// A change the request's token may make: its scope is checked, then
    /// `body` looks up what it touches and checks the ref with `grant.allow`.
    /// Every outcome — done, refused, or failed with a 4xx — is one row of
    /// the audit log.
    func change<T: Sendable>(_ request: Request, _ scope: TokenScope, action: String, target: String?,
                             _ body: (Grant) async throws -> T) async throws -> T {
        try await change(token: tokens.token(forAuthorization: request.headers[.authorization]),
                         credentialsGiven: request.headers[.authorization] != nil, scope, action: action, target: target, body)
    }

    /// A change by `token` (a bearer token's, or a signed-in session's).
    func change<T: Sendable>(token: APIToken?, credentialsGiven: Bool, _ scope: TokenScope, action: String, target: String?,
                             _ body: (Grant) async throws -> T) async throws -> T {
        var audited = target
        var result: Result<T, any Error>
        if !credentialsGiven {
            result = .failure(APIError.unauthorized("this request changes something: it needs `Authorization: Bearer TOKEN` (or a signed-in session) with the \(scope.rawValue) scope"))
        } else if let token {
            if token.allows(scope) {
                let grant = Grant(token: token, target: target)
                do {
                    result = .success(try await body(grant))
                } catch {
                    result = .failure(error)
                }
                audited = grant.target
            } else {
                result = .failure(APIError.forbidden("missing_scope", "token \(token.name) lacks the \(scope.rawValue) scope"))
            }
        } else {
            result = .failure(APIError.unauthorized("the token is unknown or revoked"))
        }
        let refusal: APIError? = switch result {
        case .success: nil
        case .failure(let error as APIError): error
        case .failure: APIError(.internalServerError, "internal", "failed")
        }
        let entry = AuditEntry(token: token?.name, action: action, target: audited, result: refusal?.code ?? "ok", detail: refusal?.message)
        let store = self.store
        try await Blocking.run { try store.audit(entry) }
        return try result.get()
    }

    /// What a change's token may do, and what it touches (for the audit log).
    final class Grant: @unchecked Sendable {
        let token: APIToken
        /// Set once the request's body says (a submission's treefile).
        var target: String?

        init(token: APIToken, target: String?) {
            self.token = token
            self.target = target
        }

        /// Refuses a ref outside the token's prefixes.
        func allow(ref: String) throws {
            guard token.allows(ref: ref) else {
                throw APIError.forbidden("ref_not_allowed", "token \(token.name) may not touch \(ref) (its refs: \((token.refs ?? []).joined(separator: ", ")))")
            }
        }
    }

    // MARK: Composes

    /// Queues a compose of a treefile for the token.
    func submit(idempotencyKey: String?, request: Request,
                _ decode: () async throws -> ComposeSubmissionBody) async throws -> Submitted {
        let queue = self.queue
        return try await change(request, .submit, action: "submit", target: nil) { grant in
            let body = try await decode()
            let name = body.treefile
            grant.target = name
            if let key = idempotencyKey, key.isEmpty || key.count > 200 {
                throw APIError.badRequest("bad_idempotency_key", "Idempotency-Key must be 1 to 200 characters")
            }
            if let version = body.version, version.isEmpty || version.count > 128 || version.contains(where: { $0.isNewline }) {
                throw APIError.badRequest("bad_version", "version must be 1 to 128 characters on one line")
            }
            // The ref decides what the token may touch, so the treefile is read before anything is queued.
            let located = try await Blocking.run { try queue.locate(name) }
            try grant.allow(ref: located.ref)
            return try await Blocking.run {
                try queue.submit(name, located: located, force: body.force ?? false, version: body.version, by: grant.token.name,
                                 trigger: "api", idempotencyKey: idempotencyKey)
            }
        }
    }

    /// Cancels a build: a queued one at once, a running one through its compose.
    func cancel(request: Request, _ buildID: () throws -> Int64) async throws -> (Int64, String) {
        try await cancel(token: tokens.token(forAuthorization: request.headers[.authorization]),
                         credentialsGiven: request.headers[.authorization] != nil, target: request.uri.path, buildID)
    }

    func cancel(token: APIToken?, credentialsGiven: Bool, target: String, _ buildID: () throws -> Int64) async throws -> (Int64, String) {
        let store = self.store
        let runner = self.runner
        return try await change(token: token, credentialsGiven: credentialsGiven, .cancel, action: "cancel", target: target) { grant in
            let id = try buildID()
            grant.target = "build #\(id)"
            guard let build = try await Blocking.run({ try store.builds.build(id) }) else {
                throw APIError.notFound("no build #\(id)")
            }
            try grant.allow(ref: build.ref ?? "")
            switch try await Blocking.run({ try store.requestCancel(id, at: Date()) }) {
            case .cancelledWhileQueued:
                return (id, "cancelled")
            case .stopRunning:
                // Not one of this server's children (a `compose tree` someone ran by hand, adopting
                // nothing): its process is cancelled the same way, with SIGTERM.
                if await !runner.cancel(id), try await !Blocking.run({ build.signalComposeProcess(SIGTERM) }) {
                    throw APIError.conflict("build_not_running", "build #\(id) is \(build.status.rawValue) but no process runs it: it is settled within seconds")
                }
                return (id, "cancelling")
            case .alreadyFinished(let status):
                throw APIError.conflict("build_finished", "build #\(id) is \(status.rawValue): there is nothing to cancel")
            case .notFound:
                throw APIError.notFound("no build #\(id)")
            }
        }
    }
}

/// `POST /api/v1/composes`'s body.
struct ComposeSubmissionBody: Codable, Sendable {
    var treefile: String
    var force: Bool?
    var version: String?
}
