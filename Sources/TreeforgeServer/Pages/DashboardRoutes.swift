import Foundation
import Hummingbird
import TreeforgeCore

/// The pages' routes. Each decodes, asks `ServerServices` for the page, and
/// answers HTML; an error is an HTML page with the same status and message
/// the API would give.
enum DashboardRoutes {
    static func add(to router: Router<ServerContext>, _ services: ServerServices) {
        let pages = router.group().add(middleware: HTMLErrorMiddleware())
        pages.get("/") { request, _ in html(try await services.homePage(session: services.session(request))) }
        pages.get("builds/:id") { request, context in
            html(try await services.buildPage(try context.parameters.buildID(), host: request.head.authority ?? "HOST:PORT",
                                              session: services.session(request)))
        }
        pages.get("builds/:id/diff") { request, context in
            guard let text = request.uri.queryParameters["other"], let other = Int64(text), other > 0 else {
                throw APIError.badRequest("bad_build_id", "compare with which build? (?other=N)")
            }
            return html(try await services.diffPage(try context.parameters.buildID(), other, session: services.session(request)))
        }
        pages.get("refs/**") { request, _ in
            let ref = String(request.uri.path.dropFirst("/refs/".count)).removingPercentEncoding ?? ""
            return html(try await services.refPage(ref, session: services.session(request)))
        }
        pages.get("schedules") { request, _ in html(try await services.schedulesPage(session: services.session(request))) }

        // Signing in and out, and the actions: forms posted by the pages.
        pages.get("signin") { request, _ in
            html(services.signInPage(next: request.uri.queryParameters["next"].map(String.init), message: nil))
        }
        pages.post("signin") { request, context in
            var request = request
            let form = try await form(&request, context)
            let next = safeNext(form["next"])
            guard let token = services.tokens.token(forAuthorization: "Bearer " + (form["token"] ?? "")) else {
                return html(services.signInPage(next: next, message: "That token is unknown or revoked."), status: .unauthorized)
            }
            let value = services.sessions.cookieValue(for: token.name)
            return Response(status: .seeOther, headers: [
                .location: next,
                .setCookie: "\(SessionSigner.cookieName)=\(value); Path=/; Max-Age=\(Int(SessionSigner.lifetime)); HttpOnly; SameSite=Strict",
            ])
        }
        pages.post("signout") { request, context in
            var request = request
            _ = try await signedIn(&request, context, services)
            return Response(status: .seeOther, headers: [
                .location: "/", .setCookie: "\(SessionSigner.cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict",
            ])
        }
        pages.post("builds/:id/cancel") { request, context in
            var request = request
            let session = try await signedIn(&request, context, services)
            let (id, _) = try await services.cancel(token: session.token, credentialsGiven: true, target: request.uri.path) {
                try context.parameters.buildID()
            }
            return Response(status: .seeOther, headers: [.location: "/builds/\(id)"])
        }
        pages.post("schedules/:name/:action") { request, context in
            var request = request
            let session = try await signedIn(&request, context, services)
            let name = context.parameters.get("name") ?? ""
            switch context.parameters.get("action") {
            case "run":
                let submitted = try await services.runSchedule(name, token: session.token, credentialsGiven: true)
                return Response(status: .seeOther, headers: [.location: "/builds/\(submitted.id)"])
            case let action? where action == "pause" || action == "resume":
                _ = try await services.updateSchedule(name, token: session.token, credentialsGiven: true) {
                    var body = ScheduleBody()
                    body.paused = action == "pause"
                    return body
                }
                return Response(status: .seeOther, headers: [.location: "/schedules"])
            default:
                throw APIError.notFound("no such action on a schedule (run, pause, resume)")
            }
        }
        router.get("assets/app.css") { _, _ in asset(Assets.css, type: "text/css; charset=utf-8") }
        router.get("assets/live.js") { _, _ in asset(Assets.script, type: "text/javascript; charset=utf-8") }
    }

    /// A form's fields (at most 16 KiB).
    static func form(_ request: inout Request, _ context: ServerContext) async throws -> [String: String] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 16 * 1024)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the form is over 16 KiB")
        }
        return FormBody.decode(Data(buffer.readableBytesView))
    }

    /// The signed-in session of a posted form, its CSRF token checked:
    /// without a session 401, with a wrong or missing token 403; nothing changes.
    static func signedIn(_ request: inout Request, _ context: ServerContext, _ services: ServerServices) async throws -> PageSession {
        let fields = try await form(&request, context)
        guard let session = services.session(request) else {
            throw APIError.unauthorized("sign in first: this changes something, and needs a token with the right scope")
        }
        guard let sent = fields["csrf"], SessionSigner.constantTimeEqual(sent, session.csrf) else {
            throw APIError.forbidden("bad_csrf", "the form's CSRF token is missing or wrong: reload the page and try again")
        }
        return session
    }

    /// Only a path of this site: never another origin (`//host`, `https://…`).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), !next.contains("\r"), !next.contains("\n") else {
            return "/"
        }
        return next
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
