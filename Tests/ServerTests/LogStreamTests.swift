import Foundation
import Testing
import TestSupport

/// `GET /api/v1/builds/{id}/log`: the events as Server-Sent Events, live
/// while the build runs, resumable, and closed once it has ended.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct LogStreamTests {
    /// The (id, event) pairs of an SSE text, in order.
    static func events(_ text: String) -> [(id: Int?, event: String, data: String)] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var id: Int?, event = "message", data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = Int(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            return block.contains("event: ") ? (id, event, data) : nil
        }
    }

    @Test func aFinishedBuildsLogIsStreamedWholeAndCloses() throws {
        let server = try ServerHarness("log-finished")
        try server.start()
        let id = try server.submit()
        #expect(try server.waitFor(id, ["succeeded", "failed"])["status"] as? String == "succeeded")
        let recorded = try #require(try JSONSerialization.jsonObject(with: try server.get("/api/v1/builds/\(id)/events").body) as? [Any])

        let whole = try server.get("/api/v1/builds/\(id)/log")
        #expect(whole.status == 200 && whole.header("Content-Type")?.hasPrefix("text/event-stream") == true)
        let events = Self.events(whole.text)
        #expect(events.dropLast().map(\.id) == Array(0..<recorded.count).map { $0 }, "\(whole.text)")
        #expect(events.last?.event == "end" && events.last?.data == #"{"status":"succeeded"}"#)
        #expect(events.contains { $0.event == "package" } && events.contains { $0.event == "outcome" })

        #expect(Self.events(try server.get("/api/v1/builds/\(id)/log?from=5").text).first?.id == 5)
        let resumed = try server.request("GET", "/api/v1/builds/\(id)/log", headers: ["Last-Event-ID": "7"])
        #expect(Self.events(resumed.text).first?.id == 8)
        let tail = Self.events(try server.get("/api/v1/builds/\(id)/log?from=tail&tail=3").text)
        #expect(tail.map(\.id) == [recorded.count - 3, recorded.count - 2, recorded.count - 1, nil])
        let install = Self.events(try server.get("/api/v1/builds/\(id)/log?stage=install").text)
        #expect(install.contains { $0.event == "package" } && install.first?.event == "stageStarted", "\(install)")
        #expect(!install.contains { $0.data.contains(#""stage":"commit""#) }, "\(install)")

        for (path, status, code) in [("log?from=-1", 400, "bad_offset"), ("log?from=99999", 400, "bad_offset"), ("log?from=soon", 400, "bad_offset"),
                                     ("log?stage=nope", 400, "bad_stage"), ("log?from=tail&tail=0", 400, "bad_offset")] {
            let reply = try server.get("/api/v1/builds/\(id)/\(path)")
            #expect(reply.status == status && reply.errorCode == code, "\(path): \(reply.status) \(reply.text)")
        }
        #expect(try server.get("/api/v1/builds/999/log").status == 404)
        #expect(try server.stop() == 0)
    }

    @Test func aRunningBuildsLogArrivesLiveAndEndsWithIt() throws {
        let server = try ServerHarness("log-live")
        try server.start(environment: ["TREEFORGE_FAULT_PAUSE_AT": "install"])
        let id = try server.submit()
        let stream = try SSEConnection(server, "/api/v1/builds/\(id)/log")
        // The compose waits at the start of its install: what came before is streamed already.
        try stream.read(until: { $0.contains(#""stage":"download""#) && $0.contains("stageFinished") }, timeout: 60)
        #expect(!stream.text.contains("event: end"))
        let cancel = try server.request("POST", "/api/v1/builds/\(id)/cancel", token: "nightly")
        #expect(cancel.status == 202, "\(cancel.text)")
        try stream.read(until: { $0.contains("event: end") }, timeout: 60)
        let events = Self.events(stream.text)
        #expect(events.last?.data == #"{"status":"cancelled"}"#, "\(stream.text)")
        #expect(events.contains { $0.event == "outcome" && $0.data.contains("cancelled") })
        #expect(try stream.readsEndOfStream(timeout: 10), "the stream closes after its end event")
        #expect(try server.stop() == 0)
    }
}

/// A raw HTTP/1.1 connection reading an event stream as it comes.
final class SSEConnection {
    private let fd: Int32
    private(set) var text = ""

    init(_ server: ServerHarness, _ path: String) throws {
        fd = try connectLoopback(port: try #require(server.base?.port), timeout: 1)
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }

    /// Reads until `condition` holds on everything read so far.
    func read(until condition: (String) -> Bool, timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition(text) {
            guard Date() < deadline else { throw FixtureError("the stream did not get there within \(Int(timeout)) s: \(text)") }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { throw FixtureError("the stream closed early: \(text)") }
            if count > 0 { text += String(decoding: buffer[0..<count], as: UTF8.self) }
        }
    }

    /// Whether the server ends the response (its last chunk) within `timeout`.
    func readsEndOfStream(timeout: TimeInterval) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if text.hasSuffix("0\r\n\r\n") { return true }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return true }
            if count > 0 { text += String(decoding: buffer[0..<count], as: UTF8.self) }
        }
        return false
    }
}
