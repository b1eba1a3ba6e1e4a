import Foundation
import Hummingbird

/// Every error the server answers with: the HTTP status, a stable code that
/// scripts can test, and a message for people, as
/// `{"error": {"code": "…", "message": "…"}}`.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    struct Body: Codable, Equatable {
        struct Detail: Codable, Equatable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONEncoder().encode(Body(error: .init(code: code, message: message)))
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
    static func badRequest(_ code: String, _ message: String) -> APIError { APIError(.badRequest, code, message) }
    static func conflict(_ code: String, _ message: String) -> APIError { APIError(.conflict, code, message) }
    static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, "unauthorized", message) }
    static func forbidden(_ code: String, _ message: String) -> APIError { APIError(.forbidden, code, message) }
}

/// Turns every error a handler lets out into the JSON error form: an
/// `APIError` as it is, Hummingbird's own (a body too large, a route's
/// method) with a code, anything else a 500 that names no internals.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The routes, to tell a wrong method (405) from a wrong path (404).
    var routes = RouteMethods()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPResponseError where error.status == .notFound {
            let allowed = routes.methods(for: request.uri.path)
            guard !allowed.isEmpty else { throw APIError.notFound("no such route: \(request.method) \(request.uri.path)") }
            var response = try APIError(.methodNotAllowed, "method_not_allowed",
                                        "\(request.uri.path) answers \(allowed.joined(separator: ", ")), not \(request.method)")
                .response(from: request, context: context)
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        } catch let error as RangeNotSatisfiable {
            throw error
        } catch let error as HTTPResponseError {
            let code = switch error.status {
            case .notFound: "not_found"
            case .methodNotAllowed: "method_not_allowed"
            case .contentTooLarge: "body_too_large"
            case .badRequest: "bad_request"
            case .unsupportedMediaType: "unsupported_media_type"
            default: "http_\(error.status.code)"
            }
            throw APIError(error.status, code, error.status.reasonPhrase)
        } catch let error as DecodingError {
            throw APIError(.badRequest, "malformed_json", "the request body is not the JSON this endpoint takes: \(Self.describe(error))")
        } catch {
            context.logger.error("unexpected error: \(error)")
            throw APIError(.internalServerError, "internal", "the server failed to answer this request; its log says why")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context): return context.debugDescription
        case .keyNotFound(let key, _): return "`\(key.stringValue)` is missing"
        case .typeMismatch(_, let context): return "`\(context.codingPath.map(\.stringValue).joined(separator: "."))` has the wrong type"
        case .valueNotFound(_, let context): return "`\(context.codingPath.map(\.stringValue).joined(separator: "."))` is null"
        @unknown default: return "\(error)"
        }
    }
}

/// Answers a request that asks to switch protocols (libostree's libcurl
/// asks every new connection for `Upgrade: h2c`) with `Connection: close`.
/// The HTTP/1 parser stops reading a connection after such a request, so a
/// client that kept it open for its next request would wait forever; closed,
/// it opens a new one.
struct RefuseUpgradeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.upgrade] != nil else { return try await next(request, context) }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.connection] = "close"
        return response
    }
}

/// Which methods each route pattern answers (`/api/v1/builds/:id`,
/// `/repo/**`), filled once the router is built.
final class RouteMethods: @unchecked Sendable {
    private let lock = NSLock()
    private var patterns: [(parts: [Substring], methods: [String])] = []

    func set(_ routes: [(path: String, method: String)]) {
        let grouped = Dictionary(grouping: routes, by: \.path)
        lock.withLock {
            patterns = grouped.map { path, routes in
                (path.split(separator: "/"), routes.map(\.method).sorted())
            }
        }
    }

    /// The methods of every route `path` matches.
    func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/")
        let matching = lock.withLock { patterns.filter { Self.matches($0.parts, parts) } }
        return Array(Set(matching.flatMap(\.methods))).sorted()
    }

    private static func matches(_ pattern: [Substring], _ parts: [Substring]) -> Bool {
        for (index, piece) in pattern.enumerated() {
            if piece == "**" { return parts.count > index }
            guard index < parts.count, piece.hasPrefix(":") || piece == parts[index] else { return false }
        }
        return pattern.count == parts.count
    }
}
