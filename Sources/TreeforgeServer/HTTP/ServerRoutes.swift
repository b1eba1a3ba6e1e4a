import Foundation
import HTTPTypes
import Hummingbird
import TreeforgeCore

/// Every route of the server. A handler decodes the request, calls one
/// `ServerServices` method, encodes the answer.
enum ServerRoutes {
    static func router(_ services: ServerServices) -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: RefuseUpgradeMiddleware())
        let routeMethods = RouteMethods()
        router.add(middleware: JSONErrorMiddleware(routes: routeMethods))
        let api = router.group("api/v1")

        // A change's body is decoded after its token is checked (`ServerServices.change`): a request
        // without one learns nothing about the body it sent, and every outcome is audited.
        api.post("composes") { request, context in
            var body = request
            let submitted = try await services.submit(idempotencyKey: request.headers[.idempotencyKey], request: request) {
                try await body.decodeJSON(ComposeSubmissionBody.self, context: context)
            }
            return try Response.json(SubmissionResponse(submitted), status: .accepted,
                                     headers: [.location: "/api/v1/builds/\(submitted.id)"])
        }
        api.get("builds") { request, _ in
            try Response.json(try await services.builds(try BuildFilter(query: request.uri.queryParameters.reduce(into: [:]) { $0[String($1.key)] = String($1.value) })))
        }
        api.get("builds/:id") { _, context in
            try Response.json(try await services.build(try context.parameters.buildID()))
        }
        api.get("builds/:id/events") { _, context in
            let lines = try await services.events(try context.parameters.buildID())
            // The lines as the compose wrote them (docs/events.md), in one JSON array.
            let body = "[" + lines.joined(separator: ",\n") + "]\n"
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        api.get("builds/:id/log") { request, context in
            let query = request.uri.queryParameters.reduce(into: [String: String]()) { $0[String($1.key)] = String($1.value) }
            return try await services.logStream(try context.parameters.buildID(), query: query,
                                                lastEventID: request.headers[.lastEventID])
        }
        // The flattened treefile and the lockfile a build used: `--ex-lockfile`
        // with the lockfile composes the same packages again.
        for name in [BuildInput.treefile, BuildInput.lockfile] {
            api.get("builds/:id/\(name)") { _, context in
                let text = try await services.input(try context.parameters.buildID(), name)
                return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
            }
        }
        api.get("builds/:id/diff/:other") { _, context in
            try Response.json(try await services.diff(try context.parameters.buildID(), try context.parameters.buildID("other")))
        }
        api.post("builds/:id/cancel") { request, context in
            let (id, status) = try await services.cancel(request: request) { try context.parameters.buildID() }
            return try Response.json(CancelResponse(id: id, status: status), status: .accepted)
        }
        api.get("refs") { _, _ in try Response.json(try await services.refs()) }
        api.get("treefiles") { _, _ in try Response.json(try await services.treefiles()) }

        api.get("schedules") { _, _ in try Response.json(try await services.schedules()) }
        api.post("schedules") { request, context in
            var body = request
            let schedule = try await services.createSchedule(request: request) { try await body.decodeJSON(ScheduleBody.self, context: context) }
            return try Response.json(schedule, status: .created, headers: [.location: schedule.url])
        }
        api.get("schedules/:name") { _, context in
            try Response.json(try await services.schedule(context.parameters.get("name") ?? ""))
        }
        api.patch("schedules/:name") { request, context in
            var body = request
            return try Response.json(try await services.updateSchedule(context.parameters.get("name") ?? "", request: request) {
                try await body.decodeJSON(ScheduleBody.self, context: context)
            })
        }
        api.delete("schedules/:name") { request, context in
            try await services.deleteSchedule(context.parameters.get("name") ?? "", request: request)
            return Response(status: .noContent)
        }
        api.post("schedules/:name/run") { request, context in
            let submitted = try await services.runSchedule(context.parameters.get("name") ?? "", request: request)
            return try Response.json(SubmissionResponse(submitted), status: .accepted,
                                     headers: [.location: "/api/v1/builds/\(submitted.id)"])
        }
        api.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }

        router.get("health") { _, _ in
            let report = await services.health()
            return try Response.json(report, status: report.status == "ok" ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: try await services.metrics())))
        }

        DashboardRoutes.add(to: router, services)

        let files = RepositoryFileServer(repo: services.configuration.repo, traffic: services.repoTraffic,
                                         deltaGracePeriod: services.configuration.deltaGracePeriod)
        for method in [HTTPRequest.Method.get, .head] {
            router.on("repo/**", method: method) { request, context in
                let prefix = "/repo/"
                let path = request.uri.path
                guard path.hasPrefix(prefix) else { throw APIError.notFound("no such file in the repository") }
                return try await files.respond(request, context: context, rawPath: path.dropFirst(prefix.count))
            }
        }
        routeMethods.set(router.routes.map { ("\($0.path)", $0.method.rawValue) })
        return router
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}

extension SubmissionResponse {
    init(_ submitted: Submitted) {
        self.init(id: submitted.id, url: "/api/v1/builds/\(submitted.id)", status: submitted.status.rawValue,
                  coalesced: submitted.coalesced)
    }
}

extension BuildFilter {
    /// `?ref=&status=&limit=&before=`; a bad value is a 400 naming it.
    init(query: [String: String]) throws {
        self.init()
        ref = query["ref"]
        if let text = query["status"] {
            guard let status = BuildRecord.Status(rawValue: text) else {
                throw APIError.badRequest("bad_filter", "status: \(text) is not a build status (\(BuildRecord.Status.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            self.status = status
        }
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw APIError.badRequest("bad_filter", "limit: \(text) is not a number from 1 to 1000")
            }
            limit = value
        }
        if let text = query["before"] {
            guard let value = Int64(text), value > 0 else { throw APIError.badRequest("bad_filter", "before: \(text) is not a build id") }
            before = value
        }
    }
}
