import Foundation

/// One line of `--progress=json`: the schema version, a sequence number, the
/// time, the event's `type` and its fields, flat. docs/events.md is the
/// contract; a change that removes or renames a field raises `schema`.
public struct ComposeEventLine: Codable, Sendable, Equatable {
    public static let schema = 1

    public var schema: Int
    /// 0, 1, 2, … within one compose process.
    public var seq: Int
    public var time: Date
    public var event: ComposeEvent

    public init(seq: Int, time: Date = Date(), event: ComposeEvent) {
        self.schema = Self.schema
        self.seq = seq
        self.time = time
        self.event = event
    }

    enum CodingKeys: String, CodingKey {
        case schema, seq, time, type
        case build, composeId, ref, treefile, stage, seconds, inputHash, index, total, nevra, package, scriptlet, output
        case holder, commit, missing, message, subject, details, status, version, parent, exitStatus
    }

    /// The `type` of each event.
    enum EventType: String, Codable {
        case buildStarted, stageStarted, stageFinished, package, scriptletStarted, scriptletFinished, waiting
        case publishResumed, warning, error, outcome
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(seq, forKey: .seq)
        try c.encode(time, forKey: .time)
        switch event {
        case let .buildStarted(build, composeID, ref, treefile):
            try c.encode(EventType.buildStarted, forKey: .type)
            try c.encode(build, forKey: .build)
            try c.encodeIfPresent(composeID, forKey: .composeId)
            try c.encode(ref, forKey: .ref)
            try c.encode(treefile, forKey: .treefile)
        case let .stageStarted(stage):
            try c.encode(EventType.stageStarted, forKey: .type)
            try c.encode(stage, forKey: .stage)
        case let .stageFinished(stage, seconds, inputHash):
            try c.encode(EventType.stageFinished, forKey: .type)
            try c.encode(stage, forKey: .stage)
            try c.encode(seconds, forKey: .seconds)
            try c.encodeIfPresent(inputHash, forKey: .inputHash)
        case let .package(index, total, nevra):
            try c.encode(EventType.package, forKey: .type)
            try c.encode(index, forKey: .index)
            try c.encode(total, forKey: .total)
            try c.encode(nevra, forKey: .nevra)
        case let .scriptletStarted(package, scriptlet):
            try c.encode(EventType.scriptletStarted, forKey: .type)
            try c.encode(package, forKey: .package)
            try c.encode(scriptlet, forKey: .scriptlet)
        case let .scriptletFinished(package, scriptlet, output):
            try c.encode(EventType.scriptletFinished, forKey: .type)
            try c.encode(package, forKey: .package)
            try c.encode(scriptlet, forKey: .scriptlet)
            try c.encode(output, forKey: .output)
        case let .waiting(ref, holder):
            try c.encode(EventType.waiting, forKey: .type)
            try c.encode(ref, forKey: .ref)
            try c.encode(holder, forKey: .holder)
        case let .publishResumed(ref, commit, build, missing):
            try c.encode(EventType.publishResumed, forKey: .type)
            try c.encode(ref, forKey: .ref)
            try c.encode(commit, forKey: .commit)
            try c.encodeIfPresent(build, forKey: .build)
            try c.encode(missing, forKey: .missing)
        case let .warning(message):
            try c.encode(EventType.warning, forKey: .type)
            try c.encode(message, forKey: .message)
        case let .error(error):
            try c.encode(EventType.error, forKey: .type)
            try c.encode(error.stage, forKey: .stage)
            try c.encodeIfPresent(error.subject, forKey: .subject)
            try c.encode(error.message, forKey: .message)
            try c.encode(error.details, forKey: .details)
        case let .outcome(result):
            try c.encode(EventType.outcome, forKey: .type)
            try c.encode(result.status, forKey: .status)
            try c.encodeIfPresent(result.build, forKey: .build)
            try c.encodeIfPresent(result.ref, forKey: .ref)
            try c.encodeIfPresent(result.commit, forKey: .commit)
            try c.encodeIfPresent(result.version, forKey: .version)
            try c.encodeIfPresent(result.parent, forKey: .parent)
            try c.encode(result.exitStatus, forKey: .exitStatus)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(Int.self, forKey: .schema)
        seq = try c.decode(Int.self, forKey: .seq)
        time = try c.decode(Date.self, forKey: .time)
        switch try c.decode(EventType.self, forKey: .type) {
        case .buildStarted:
            event = .buildStarted(build: try c.decode(Int64.self, forKey: .build), composeID: try c.decodeIfPresent(String.self, forKey: .composeId),
                                  ref: try c.decode(String.self, forKey: .ref), treefile: try c.decode(String.self, forKey: .treefile))
        case .stageStarted:
            event = .stageStarted(try c.decode(Stage.self, forKey: .stage))
        case .stageFinished:
            event = .stageFinished(try c.decode(Stage.self, forKey: .stage), seconds: try c.decode(Double.self, forKey: .seconds),
                                   inputHash: try c.decodeIfPresent(String.self, forKey: .inputHash))
        case .package:
            event = .package(index: try c.decode(Int.self, forKey: .index), total: try c.decode(Int.self, forKey: .total),
                             nevra: try c.decode(String.self, forKey: .nevra))
        case .scriptletStarted:
            event = .scriptletStarted(package: try c.decode(String.self, forKey: .package), scriptlet: try c.decode(String.self, forKey: .scriptlet))
        case .scriptletFinished:
            event = .scriptletFinished(package: try c.decode(String.self, forKey: .package), scriptlet: try c.decode(String.self, forKey: .scriptlet),
                                       output: try c.decode([String].self, forKey: .output))
        case .waiting:
            event = .waiting(ref: try c.decode(String.self, forKey: .ref), holder: try c.decode(String.self, forKey: .holder))
        case .publishResumed:
            event = .publishResumed(ref: try c.decode(String.self, forKey: .ref), commit: try c.decode(String.self, forKey: .commit),
                                    build: try c.decodeIfPresent(Int64.self, forKey: .build), missing: try c.decode([String].self, forKey: .missing))
        case .warning:
            event = .warning(try c.decode(String.self, forKey: .message))
        case .error:
            event = .error(ComposeError(try c.decode(Stage.self, forKey: .stage), subject: try c.decodeIfPresent(String.self, forKey: .subject),
                                        try c.decode(String.self, forKey: .message), details: try c.decode([String].self, forKey: .details)))
        case .outcome:
            event = .outcome(ComposeResult(
                status: try c.decode(ComposeResult.Status.self, forKey: .status), build: try c.decodeIfPresent(Int64.self, forKey: .build),
                ref: try c.decodeIfPresent(String.self, forKey: .ref), commit: try c.decodeIfPresent(String.self, forKey: .commit),
                version: try c.decodeIfPresent(String.self, forKey: .version), parent: try c.decodeIfPresent(String.self, forKey: .parent),
                exitStatus: try c.decode(Int32.self, forKey: .exitStatus)))
        }
    }

    /// The encoder every writer of event lines uses: one line, ISO 8601 times
    /// with milliseconds, sorted keys (stable lines for logs and diffs).
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Self.timestamp(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = Self.parseTimestamp(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time: \(text)"))
            }
            return date
        }
        return decoder
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}

/// Writes each event as a JSON line to a file descriptor (stdout for
/// `--progress=json`), a line per write so a reader sees it at once.
///
/// A reader that goes away (the server restarting) must not kill the
/// compose with SIGPIPE: the compose finishes and records its result, and
/// later events are dropped. SIGPIPE is blocked on the writing thread only
/// for the write (ignoring it process-wide would pass SIG_IGN on to
/// scriptlets).
public final class JSONLinesEvents: ComposeEventSink, @unchecked Sendable {
    private let descriptor: Int32
    private let encoder = ComposeEventLine.encoder()
    private let lock = NSLock()
    private var seq = 0
    private var readerGone = false
    private var ended = false

    public init(descriptor: Int32 = STDOUT_FILENO) { self.descriptor = descriptor }

    /// Whether the stream has its `outcome` line (the last one).
    public var hasOutcome: Bool { lock.withLock { ended } }

    public func emit(_ event: ComposeEvent) {
        lock.withLock {
            if case .outcome = event { ended = true }
            guard !readerGone, var data = try? encoder.encode(ComposeEventLine(seq: seq, event: event)) else { return }
            seq += 1
            data.append(0x0a)
            readerGone = !writeWithoutSIGPIPE(data)
        }
    }

    private func writeWithoutSIGPIPE(_ data: Data) -> Bool {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer {
            // Consume the SIGPIPE a failed write raised before unblocking it.
            var pending = sigset_t()
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 {
                var now = timespec()
                _ = sigtimedwait(&pipeSignal, nil, &now)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        return data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }
}

extension ComposeEvent {
    /// The event's `type` in its JSON line (docs/events.md): what the server
    /// files each recorded line under.
    public var type: String {
        let type: ComposeEventLine.EventType = switch self {
        case .buildStarted: .buildStarted
        case .stageStarted: .stageStarted
        case .stageFinished: .stageFinished
        case .package: .package
        case .scriptletStarted: .scriptletStarted
        case .scriptletFinished: .scriptletFinished
        case .waiting: .waiting
        case .publishResumed: .publishResumed
        case .warning: .warning
        case .error: .error
        case .outcome: .outcome
        }
        return type.rawValue
    }
}
