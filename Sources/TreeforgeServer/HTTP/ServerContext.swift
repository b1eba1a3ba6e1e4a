import Foundation
import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basic one with a body
/// limit the API's small JSON bodies never come near.
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// Bodies are a submission or a schedule: a few hundred bytes.
    public var maxUploadSize: Int { 64 * 1024 }
}

extension Response {
    /// `value` as the API writes JSON (ISO 8601 times, sorted keys).
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        let data = try JSONEncoder.api.encode(value)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Request {
    /// The body as `T`, within the context's size limit; malformed JSON is a
    /// 400 that says where.
    mutating func decodeJSON<T: Decodable>(_ type: T.Type, context: ServerContext) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: context.maxUploadSize)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "body_too_large", "the body is over \(context.maxUploadSize / 1024) KiB")
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the body is over \(context.maxUploadSize / 1024) KiB")
        }
        guard buffer.readableBytes > 0 else {
            throw APIError.badRequest("malformed_json", "this endpoint takes a JSON body; the request has none")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badRequest("malformed_json", "the request body is not the JSON this endpoint takes: \(JSONErrorMiddleware<ServerContext>.describe(error))")
        }
    }
}

extension Parameters {
    /// A path parameter that must be a build id.
    func buildID(_ name: String = "id") throws -> Int64 {
        guard let text = get(name), let id = Int64(text), id > 0 else {
            throw APIError.badRequest("bad_build_id", "`\(get(name) ?? "")` is not a build id (a positive number)")
        }
        return id
    }
}
