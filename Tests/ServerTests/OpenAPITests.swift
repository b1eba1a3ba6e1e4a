import Foundation
import Logging
import Testing
import TestSupport
import TreeforgeCore
@testable import TreeforgeServer

/// The OpenAPI document describes exactly the routes the server has.
@Suite struct OpenAPITests {
    @Test func theDocumentNamesEveryRouteAndNoOther() throws {
        let dir = try TemporaryDirectory("openapi")
        var configuration = ServerConfiguration()
        configuration.repo = dir.path("repo")
        configuration.treefiles = dir.path("treefiles")
        let store = SQLiteServerStore(builds: try BuildStore(repoPath: configuration.repo))
        let runner = JobRunner(store: store, configuration: configuration, executable: Fixtures.treeforgeExecutable,
                               logger: Logger(label: "test"))
        let services = try ServerServices(configuration: configuration, store: store, runner: runner, tokens: try TokenRegistry(file: nil))
        let router = ServerRoutes.router(services)
        // The API's routes; the pages (/, /builds/…, /refs/…, /schedules, /assets/) are not part of it.
        let apiRoutes = router.routes.filter { route in
            let path = "/" + "\(route.path)".split(separator: "/").joined(separator: "/")
            return ["/api/", "/repo/", "/health", "/metrics"].contains { path.hasPrefix($0) }
        }
        let routes = Set(apiRoutes.map { route in
            let path = "\(route.path)".split(separator: "/").map { part in
                part == "**" ? "{path}" : part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
            }
            return "\(route.method.rawValue.lowercased()) /\(path.joined(separator: "/"))"
        })

        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.0.3")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, methods in methods.keys.map { "\($0) \(path)" } })
        #expect(routes == documented, "routes not documented: \(routes.subtracting(documented).sorted()); documented, not routes: \(documented.subtracting(routes).sorted())")
        // Every reference resolves.
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let references = OpenAPIDocument.json.matches(of: /"#\/components\/schemas\/(\w+)"/).map { String($0.1) }
        #expect(!references.isEmpty && references.allSatisfy { schemas[$0] != nil }, "\(references.filter { schemas[$0] == nil })")
    }

    @Test func docsServerListsEveryOperation() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let operations = Set(paths.flatMap { path, methods in methods.keys.filter { $0 != "head" }.map { "\($0.uppercased()) \(path)" } })
        let text = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("docs/server.md"), encoding: .utf8)
        let listed = Set(text.matches(of: /\n\| `((?:GET|POST|PATCH|DELETE) \/[^`]*)` \|/).map { String($0.1) })
        #expect(listed == operations, "in the document, not in docs/server.md: \(operations.subtracting(listed).sorted()); the other way: \(listed.subtracting(operations).sorted())")
    }
}
