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
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
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
