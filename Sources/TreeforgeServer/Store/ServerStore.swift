import Foundation
import TreeforgeCore

/// What the compose server keeps: the queue of builds, their recorded event
/// streams, the audit log (and, with the scheduler, schedules), beside the
/// build records the composes write themselves. One protocol, so that a
/// PostgreSQL store (several builder hosts sharing one queue) can stand
/// where SQLite stands now.
///
/// Threading: every method blocks on its database; call it off Swift's
/// cooperative pool (`Blocking.run`).
public protocol ServerStore: Sendable {
    /// Queues a compose, in one transaction: a retry with the same
    /// idempotency key returns the build it made, and a submission for a ref
    /// that already has a queued build joins it.
    func submit(_ submission: Submission) throws -> Submitted
    /// Queued composes, oldest first.
    func queued() throws -> [QueuedJob]
    /// A job's child has started (its pid) or is alive (the heartbeat).
    func started(_ id: Int64, at: Date) throws
    func heartbeat(_ ids: [Int64], at: Date) throws
    /// Cancels a queued build at once; says how to stop a running one.
    func requestCancel(_ id: Int64, at: Date) throws -> CancelDecision
    /// The event lines a compose wrote, in order.
    func appendEvent(_ id: Int64, seq: Int, type: String, line: String) throws
    func events(of id: Int64) throws -> [String]
    /// Up to `limit` recorded events from `seq` on, in order.
    func eventRecords(of id: Int64, from seq: Int, limit: Int) throws -> [EventRecord]
    /// The stage running at `seq`: the last one started before it.
    func stage(of id: Int64, at seq: Int) throws -> String?
    func eventCounts(of id: Int64) throws -> [String: Int]
    /// What a child printed on stderr before it died without an outcome.
    func recordChildOutput(_ id: Int64, _ text: String) throws
    /// Builds to queue again once at the next start (cancelled by a drain).
    func markForRequeue(_ ids: [Int64]) throws
    func takeRequeues() throws -> [QueuedJob]
    func linkRequeue(_ id: Int64, to newID: Int64) throws
    /// How many builds have each status.
    func statusCounts() throws -> [BuildRecord.Status: Int]
    /// Builds, newest first, filtered.
    func builds(_ filter: BuildFilter) throws -> [BuildRecord]
    func job(_ id: Int64) throws -> Job?
    /// Schedules, by name.
    func schedules() throws -> [ScheduleRecord]
    func schedule(_ name: String) throws -> ScheduleRecord?
    /// Adds a schedule; false when one of that name exists.
    func createSchedule(_ schedule: ScheduleRecord) throws -> Bool
    /// Replaces a schedule's definition and next run; false when there is none.
    func updateSchedule(_ schedule: ScheduleRecord) throws -> Bool
    func deleteSchedule(_ name: String) throws -> Bool
    /// The config file's schedules, written at start: their definitions from
    /// the file, their state (next and last run, paused) kept; config
    /// schedules no longer in the file removed.
    func syncConfiguredSchedules(_ definitions: [ScheduleDefinition], nextRun: (ScheduleDefinition) -> Date?, at: Date) throws
    /// A schedule ran (its build) or skipped runs; its next run.
    /// `keepNextRun`: a run asked for now leaves the next scheduled one as it is.
    func recordScheduleRun(_ name: String, ranAt: Date?, buildId: Int64?, nextRunAt: Date?, keepNextRun: Bool) throws
    /// Appends to the audit log (never changed afterwards).
    func audit(_ entry: AuditEntry) throws
    func auditLog(limit: Int) throws -> [AuditEntry]
    /// The build records the composes write.
    var builds: any BuildRecords { get }
}

/// One recorded event line of a build.
public struct EventRecord: Sendable, Equatable {
    public var seq: Int
    public var type: String
    /// The line as the compose wrote it (docs/events.md).
    public var line: String
}

/// A compose to queue.
public struct Submission: Sendable {
    /// Its path under the server's treefiles folder (`demo/demo.yaml`).
    public var treefileName: String
    public var ref: String
    /// What the compose is asked to do (the treefile's absolute path, force, version).
    public var request: ComposeRequest
    /// Who asked: a token's name, or `schedule:NAME`.
    public var submittedBy: String
    /// The build row's trigger: `api`, `schedule:NAME`, `requeued`.
    public var trigger: String
    public var idempotencyKey: String?

    public init(treefileName: String, ref: String, request: ComposeRequest, submittedBy: String, trigger: String,
                idempotencyKey: String? = nil) {
        self.treefileName = treefileName
        self.ref = ref
        self.request = request
        self.submittedBy = submittedBy
        self.trigger = trigger
        self.idempotencyKey = idempotencyKey
    }
}

public struct Submitted: Sendable, Equatable {
    public var id: Int64
    public var status: BuildRecord.Status
    /// Joined a build already queued for the ref.
    public var coalesced: Bool
    /// An earlier submission with the same idempotency key.
    public var replayed: Bool
}

/// A queued (or re-queued) compose, as the job runner starts it.
public struct QueuedJob: Sendable, Equatable {
    public var id: Int64
    public var ref: String
    public var treefileName: String
    public var request: ComposeRequest
    public var submittedBy: String
}

/// The server's side of a build: who queued it and how it is supervised.
public struct Job: Sendable, Equatable {
    public var buildId: Int64
    public var treefileName: String
    public var request: ComposeRequest
    public var submittedBy: String
    public var submittedAt: Date
    public var startedAt: Date?
    public var heartbeatAt: Date?
    public var cancelRequestedAt: Date?
    public var requeuedAs: Int64?
    public var childOutput: String?
}

public enum CancelDecision: Sendable, Equatable {
    case cancelledWhileQueued
    /// Running: the job runner stops its compose (which records `cancelled`).
    case stopRunning
    case alreadyFinished(BuildRecord.Status)
    case notFound
}

public struct BuildFilter: Sendable {
    public var ref: String?
    public var status: BuildRecord.Status?
    public var limit = 50
    /// Only builds with a smaller id (the next page).
    public var before: Int64?

    public init(ref: String? = nil, status: BuildRecord.Status? = nil, limit: Int = 50, before: Int64? = nil) {
        self.ref = ref
        self.status = status
        self.limit = limit
        self.before = before
    }
}

/// One line of the audit log: who did what to what, and how it went.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var time: Date
    /// The token's name (nil when none was given).
    public var token: String?
    /// `submit`, `cancel`, `schedule.create`, …
    public var action: String
    public var target: String?
    /// `ok`, or the error code that refused it.
    public var result: String
    public var detail: String?

    public init(time: Date = Date(), token: String?, action: String, target: String?, result: String, detail: String? = nil) {
        self.time = time
        self.token = token
        self.action = action
        self.target = target
        self.result = result
        self.detail = detail
    }
}

/// A schedule and its state.
public struct ScheduleRecord: Sendable, Equatable {
    public var definition: ScheduleDefinition
    /// `config` (the config file defines it) or `api`.
    public var origin: Origin
    public var nextRunAt: Date?
    public var lastRunAt: Date?
    public var lastBuildId: Int64?
    public var createdAt: Date
    public var updatedAt: Date

    public enum Origin: String, Sendable, Codable {
        case config, api
    }

    public init(definition: ScheduleDefinition, origin: Origin, nextRunAt: Date?, lastRunAt: Date? = nil, lastBuildId: Int64? = nil,
                createdAt: Date = Date(), updatedAt: Date = Date()) {
        self.definition = definition
        self.origin = origin
        self.nextRunAt = nextRunAt
        self.lastRunAt = lastRunAt
        self.lastBuildId = lastBuildId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
