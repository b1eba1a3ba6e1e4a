import Foundation

/// What a compose reports while it runs, in order. The terminal and plain
/// renderers draw these; `--progress=json` writes each as a JSON line (the
/// schema is docs/events.md), which is what the server reads from its
/// compose processes.
public enum ComposeEvent: Sendable, Equatable {
    /// The build row exists and the treefile is read: its id, compose id and ref.
    case buildStarted(build: Int64, composeID: String?, ref: String, treefile: String)
    case stageStarted(Stage)
    /// `inputHash`: the content hash of what the stage worked from (its stage id).
    case stageFinished(Stage, seconds: Double, inputHash: String?)
    /// The install stage reached package `index` of `total`.
    case package(index: Int, total: Int, nevra: String)
    case scriptletStarted(package: String, scriptlet: String)
    /// What the scriptlet printed, a line each.
    case scriptletFinished(package: String, scriptlet: String, output: [String])
    /// Another compose holds the ref; this one waits for it.
    case waiting(ref: String, holder: String)
    /// An earlier compose of the ref moved it but did not finish publishing:
    /// this one publishes that commit first (`missing`: what was not there).
    case publishResumed(ref: String, commit: String, build: Int64?, missing: [String])
    /// Something the release engineer should know that does not stop the compose.
    case warning(String)
    case error(ComposeError)
    /// The last event: how the compose ended.
    case outcome(ComposeResult)
}

/// How a compose ended, as its last event says.
public struct ComposeResult: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// A new commit (on the ref, unless `--write-commitid-to`), published.
        case committed
        /// The inputs are those of the ref's head: nothing built.
        case unchanged
        case cancelled
        case failed
        /// `--dry-run`: resolved only.
        case planned
        /// `--download-only`: the cache holds every package.
        case downloaded
        /// `compose install`: the root is installed and postprocessed, nothing committed.
        case installed
        /// `treeforge publish`: every head it looked at is published.
        case published
    }

    public var status: Status
    public var build: Int64?
    public var ref: String?
    public var commit: String?
    public var version: String?
    public var parent: String?
    /// The process's exit status for this outcome (documented on `compose tree`).
    public var exitStatus: Int32

    public init(status: Status, build: Int64? = nil, ref: String? = nil, commit: String? = nil, version: String? = nil,
                parent: String? = nil, exitStatus: Int32) {
        self.status = status
        self.build = build
        self.ref = ref
        self.commit = commit
        self.version = version
        self.parent = parent
        self.exitStatus = exitStatus
    }

    /// Exit statuses of `compose tree` (and the other commands): 0
    /// committed (or planned, downloaded, installed, published), 1 failed,
    /// 3 unchanged, 128 + the signal when cancelled by one (130 SIGINT, 143
    /// SIGTERM), 4 when cancelled otherwise.
    public static let failedExitStatus: Int32 = 1
    public static let unchangedExitStatus: Int32 = 3
    public static let cancelledExitStatus: Int32 = 4
}

/// Where a compose's events go.
public protocol ComposeEventSink: AnyObject {
    func emit(_ event: ComposeEvent)
}

extension ComposeEventSink {
    public func warning(_ message: String) { emit(.warning(message)) }
}

/// Drops every event (tests, library callers that want none).
public final class SilentEvents: ComposeEventSink {
    public init() {}
    public func emit(_ event: ComposeEvent) {}
}

/// Keeps every event, for tests and for callers that look at them afterwards.
public final class RecordedEvents: ComposeEventSink, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [ComposeEvent] = []
    public init() {}
    public func emit(_ event: ComposeEvent) { lock.withLock { recorded.append(event) } }
    public var events: [ComposeEvent] { lock.withLock { recorded } }
}

/// Several sinks at once (the JSON stream and a log, say).
public final class FanOutEvents: ComposeEventSink {
    let sinks: [ComposeEventSink]
    public init(_ sinks: [ComposeEventSink]) { self.sinks = sinks }
    public func emit(_ event: ComposeEvent) { for sink in sinks { sink.emit(event) } }
}
