import Foundation
import Hummingbird
import TreeforgeCore

/// `GET /api/v1/builds/{id}/log`: the build's recorded events as
/// Server-Sent Events, live while it runs. Each event's SSE `id` is its
/// `seq`, so a client that reconnects with `Last-Event-ID` resumes after the
/// last one it got; `event` is its type, `data` the line as the compose wrote
/// it (docs/events.md). When the build has ended and every event is sent, an
/// `end` event with its status closes the stream.
struct LogStream: Sendable {
    /// Where to start: the first event (`from=start`, the default), the last
    /// `tail` events (`from=tail`), or an event's `seq` (`from=N`).
    enum Start: Sendable, Equatable {
        case beginning
        case tail(Int)
        case offset(Int)
    }

    let id: Int64
    let start: Start
    /// Only this stage's events (`stage=install`): stage events name it, the
    /// others belong to the stage last started before them.
    let stage: String?
    let store: any ServerStore
    var poll: Duration = .milliseconds(200)
    var keepAlive: TimeInterval = 15

    /// The stage an event line names, if any.
    static func stage(ofLine line: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return object["stage"] as? String
    }

    static func start(query: [String: String], lastEventID: String?) throws -> Start {
        if let lastEventID {
            guard let seq = Int(lastEventID.trimmingCharacters(in: .whitespaces)), seq >= 0 else {
                throw APIError.badRequest("bad_offset", "Last-Event-ID \(lastEventID.debugDescription) is not an event's seq")
            }
            return .offset(seq + 1)
        }
        switch query["from"] {
        case nil, "start": return .beginning
        case "tail":
            let count = query["tail"].map { Int($0) } ?? 20
            guard let count, (1...10_000).contains(count) else {
                throw APIError.badRequest("bad_offset", "tail: \(query["tail"] ?? "") is not a number of events from 1 to 10000")
            }
            return .tail(count)
        case let text?:
            guard let seq = Int(text), seq >= 0 else {
                throw APIError.badRequest("bad_offset", "from: \(text.debugDescription) is not start, tail or an event's seq (0, 1, …)")
            }
            return .offset(seq)
        }
    }

    /// The first seq to send. Blocks (SQLite).
    func firstSeq() throws -> Int {
        switch start {
        case .beginning: return 0
        case .offset(let seq):
            let recorded = try store.eventCounts(of: id).values.reduce(0, +)
            let build = try store.builds.build(id)
            if let build, build.status.isFinished, seq > recorded {
                throw APIError.badRequest("bad_offset", "build #\(id) has ended with \(recorded) events: there is no event \(seq)")
            }
            return seq
        case .tail(let count):
            let recorded = try store.eventCounts(of: id).values.reduce(0, +)
            return max(0, recorded - count)
        }
    }

    func write(_ writer: inout any ResponseBodyWriter, from first: Int) async throws {
        let store = self.store
        let id = self.id
        var next = first
        var current = stage == nil ? nil : try await Blocking.run { try store.stage(of: id, at: first) }
        var lastWrite = Date()
        while true {
            let from = next
            let records = try await Blocking.run { try store.eventRecords(of: id, from: from, limit: 500) }
            var text = ""
            for record in records {
                next = record.seq + 1
                if let stage {
                    if record.type == "stageStarted" || record.type == "stageFinished" { current = Self.stage(ofLine: record.line) }
                    guard current == stage else { continue }
                }
                text += "id: \(record.seq)\nevent: \(record.type)\ndata: \(record.line)\n\n"
            }
            if !text.isEmpty {
                try await writer.write(ByteBuffer(string: text))
                lastWrite = Date()
            }
            if records.count == 500 { continue }
            let build = try await Blocking.run { try store.builds.build(id) }
            if let build, build.status.isFinished || (build.status == .publishing && build.pid == nil) {
                // What the compose wrote last may have arrived after the read above.
                let after = next
                let late = try await Blocking.run { try store.eventRecords(of: id, from: after, limit: 1) }
                if late.isEmpty {
                    try await writer.write(ByteBuffer(string: "event: end\ndata: {\"status\":\"\(build.status.rawValue)\"}\n\n"))
                    return
                }
                continue
            }
            if Date().timeIntervalSince(lastWrite) >= keepAlive {
                try await writer.write(ByteBuffer(string: ": still \(build?.status.rawValue ?? "gone")\n\n"))
                lastWrite = Date()
            }
            try await Task.sleep(for: poll)
        }
    }
}

extension ServerServices {
    /// The build's log stream, checked (the build exists, the offset is in it) before it starts.
    func logStream(_ id: Int64, query: [String: String], lastEventID: String?) async throws -> Response {
        let store = self.store
        let stream = LogStream(id: id, start: try LogStream.start(query: query, lastEventID: lastEventID),
                               stage: try query["stage"].map { name in
                                   guard Stage(rawValue: name) != nil else {
                                       throw APIError.badRequest("bad_stage", "\(name) is not a stage (\(Stage.allCases.map(\.rawValue).joined(separator: ", ")))")
                                   }
                                   return name
                               }, store: store)
        let first = try await Blocking.run {
            guard try store.builds.build(id) != nil else { throw APIError.notFound("no build #\(id)") }
            return try stream.firstSeq()
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody { writer in
                            try await stream.write(&writer, from: first)
                            try await writer.finish(nil)
                        })
    }
}
