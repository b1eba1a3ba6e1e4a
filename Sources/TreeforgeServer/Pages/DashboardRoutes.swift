import Foundation
import Hummingbird
import TreeforgeCore

/// The pages' routes. Each decodes, asks `ServerServices` for the page, and
/// answers HTML; an error is an HTML page with the same status and message
/// the API would give.
enum DashboardRoutes {
    static func add(to router: Router<ServerContext>, _ services: ServerServices) {
        let pages = router.group().add(middleware: HTMLErrorMiddleware())
        pages.get("/") { _, _ in html(try await services.homePage()) }
        pages.get("builds/:id") { request, context in
            html(try await services.buildPage(try context.parameters.buildID(), host: request.head.authority ?? "HOST:PORT"))
        }
        pages.get("builds/:id/diff") { request, context in
            guard let text = request.uri.queryParameters["other"], let other = Int64(text), other > 0 else {
                throw APIError.badRequest("bad_build_id", "compare with which build? (?other=N)")
            }
            return html(try await services.diffPage(try context.parameters.buildID(), other))
        }
        pages.get("refs/**") { request, _ in
            let ref = String(request.uri.path.dropFirst("/refs/".count)).removingPercentEncoding ?? ""
            return html(try await services.refPage(ref))
        }
        pages.get("schedules") { _, _ in html(try await services.schedulesPage()) }
        router.get("assets/app.css") { _, _ in asset(Assets.css, type: "text/css; charset=utf-8") }
        router.get("assets/live.js") { _, _ in asset(Assets.script, type: "text/javascript; charset=utf-8") }
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A page that fails is a page: the status, and what went wrong in words.
struct HTMLErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return DashboardRoutes.html(HTML.page(title: "\(error.status.code) \(error.status.reasonPhrase)", current: "", """
                <h1>\(error.status.code) \(HTML.escape(error.status.reasonPhrase))</h1>
                <p class="error" role="alert">\(HTML.escape(error.message))</p>
                <p><a href="/">Back to the builds</a></p>
                """), status: error.status)
        }
    }
}
