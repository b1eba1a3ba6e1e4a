import Foundation
import GRDB
import TreeforgeCore

/// The server store in the build database (`<repo>.builds.sqlite`): the
/// `job`, `buildEvent` and `audit` tables of migration v5, beside the
/// `build` rows the composes write. WAL: the composes, the job runner and
/// the API read and write it concurrently; writes are serialized by SQLite.
public final class SQLiteServerStore: ServerStore {
    let buildStore: BuildStore
    public var builds: any BuildRecords { buildStore }
    private var db: any DatabaseWriter { buildStore.database }

    public init(builds: BuildStore) {
        buildStore = builds
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public func submit(_ submission: Submission) throws -> Submitted {
        let request = String(decoding: try Self.encoder.encode(submission.request), as: UTF8.self)
        return try db.write { db in
            if let key = submission.idempotencyKey,
               let existing = try Row.fetchOne(db, sql: "SELECT buildId FROM submissionKey WHERE key = ?", arguments: [key]) {
                let id: Int64 = existing["buildId"]
                let status = try BuildRecord.fetchOne(db, key: id)?.status ?? .queued
                return Submitted(id: id, status: status, coalesced: false, replayed: true)
            }
            // A queued compose of the ref will build from the newest inputs
            // anyway; a forced one covers an unforced one.
            // Only a build of the same treefile that no child has taken up yet.
            let queued = try Row.fetchAll(db, sql: """
                SELECT build.id, job.request FROM build JOIN job ON job.buildId = build.id
                WHERE build.status = 'queued' AND build.ref = ? AND job.treefileName = ? AND job.startedAt IS NULL ORDER BY build.id
                """, arguments: [submission.ref, submission.treefileName])
            for row in queued {
                let id: Int64 = row["id"]
                let text: String = row["request"]
                guard var existing = try? JSONDecoder().decode(ComposeRequest.self, from: Data(text.utf8)),
                      existing.version == submission.request.version else { continue }
                if submission.request.force && !existing.force {
                    existing.force = true
                    try db.execute(sql: "UPDATE job SET request = ? WHERE buildId = ?",
                                   arguments: [String(decoding: try Self.encoder.encode(existing), as: UTF8.self), id])
                }
                if let key = submission.idempotencyKey {
                    try db.execute(sql: "INSERT INTO submissionKey (key, buildId) VALUES (?, ?)", arguments: [key, id])
                }
                return Submitted(id: id, status: .queued, coalesced: true, replayed: false)
            }
            var build = BuildRecord(treefilePath: submission.request.treefile, status: .queued, startedAt: Date())
            build.trigger = submission.trigger
            build.ref = submission.ref
            try build.insert(db)
            let id = build.id!
            try db.execute(sql: """
                INSERT INTO job (buildId, treefileName, request, submittedBy, submittedAt) VALUES (?, ?, ?, ?, ?)
                """, arguments: [id, submission.treefileName, request, submission.submittedBy, Date()])
            if let key = submission.idempotencyKey {
                try db.execute(sql: "INSERT INTO submissionKey (key, buildId) VALUES (?, ?)", arguments: [key, id])
            }
            return Submitted(id: id, status: .queued, coalesced: false, replayed: false)
        }
    }

    public func queued() throws -> [QueuedJob] {
        try db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT build.id, build.ref, job.treefileName, job.request, job.submittedBy FROM build JOIN job ON job.buildId = build.id
                WHERE build.status = 'queued' ORDER BY build.id
                """).compactMap(Self.queuedJob)
        }
    }

    private static func queuedJob(_ row: Row) -> QueuedJob? {
        let text: String = row["request"]
        guard let request = try? JSONDecoder().decode(ComposeRequest.self, from: Data(text.utf8)) else { return nil }
        return QueuedJob(id: row["id"], ref: row["ref"] ?? "", treefileName: row["treefileName"], request: request,
                         submittedBy: row["submittedBy"])
    }

    public func started(_ id: Int64, at time: Date) throws {
        try db.write { try $0.execute(sql: "UPDATE job SET startedAt = ?, heartbeatAt = ? WHERE buildId = ?", arguments: [time, time, id]) }
    }

    public func heartbeat(_ ids: [Int64], at time: Date) throws {
        guard !ids.isEmpty else { return }
        try db.write { db in
            for id in ids { try db.execute(sql: "UPDATE job SET heartbeatAt = ? WHERE buildId = ?", arguments: [time, id]) }
        }
    }

    public func requestCancel(_ id: Int64, at time: Date) throws -> CancelDecision {
        try db.write { db in
            guard var build = try BuildRecord.fetchOne(db, key: id) else { return .notFound }
            switch build.status {
            case .queued:
                build.status = .cancelled
                build.finishedAt = time
                build.error = "cancelled while queued"
                try build.update(db)
                try db.execute(sql: "UPDATE job SET cancelRequestedAt = ? WHERE buildId = ?", arguments: [time, id])
                return .cancelledWhileQueued
            case .running, .publishing where build.pid != nil:
                try db.execute(sql: "UPDATE job SET cancelRequestedAt = ? WHERE buildId = ?", arguments: [time, id])
                return .stopRunning
            default:
                return .alreadyFinished(build.status)
            }
        }
    }

    public func appendEvent(_ id: Int64, seq: Int, type: String, line: String) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO buildEvent (buildId, seq, type, line) VALUES (?, ?, ?, ?)",
                           arguments: [id, seq, type, line])
        }
    }

    public func events(of id: Int64) throws -> [String] {
        try db.read { try String.fetchAll($0, sql: "SELECT line FROM buildEvent WHERE buildId = ? ORDER BY seq", arguments: [id]) }
    }

    public func eventRecords(of id: Int64, from seq: Int, limit: Int) throws -> [EventRecord] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, type, line FROM buildEvent WHERE buildId = ? AND seq >= ? ORDER BY seq LIMIT ?",
                             arguments: [id, seq, limit]).map { EventRecord(seq: $0["seq"], type: $0["type"], line: $0["line"]) }
        }
    }

    public func stage(of id: Int64, at seq: Int) throws -> String? {
        try db.read { db in
            guard let line = try String.fetchOne(db, sql: """
                SELECT line FROM buildEvent WHERE buildId = ? AND seq < ? AND type = 'stageStarted' ORDER BY seq DESC LIMIT 1
                """, arguments: [id, seq]) else { return nil }
            return LogStream.stage(ofLine: line)
        }
    }

    public func eventCounts(of id: Int64) throws -> [String: Int] {
        try db.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT type, count(*) AS n FROM buildEvent WHERE buildId = ? GROUP BY type",
                                                              arguments: [id]).map { ($0["type"] as String, $0["n"] as Int) })
        }
    }

    public func recordChildOutput(_ id: Int64, _ text: String) throws {
        try db.write { try $0.execute(sql: "UPDATE job SET childOutput = ? WHERE buildId = ?", arguments: [text, id]) }
    }

    public func markForRequeue(_ ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        try db.write { db in
            for id in ids { try db.execute(sql: "UPDATE job SET requeueAtStart = 1 WHERE buildId = ?", arguments: [id]) }
        }
    }

    public func takeRequeues() throws -> [QueuedJob] {
        try db.write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT build.id, build.ref, job.treefileName, job.request, job.submittedBy FROM build JOIN job ON job.buildId = build.id
                WHERE job.requeueAtStart = 1 AND job.requeuedAs IS NULL ORDER BY build.id
                """)
            try db.execute(sql: "UPDATE job SET requeueAtStart = 0 WHERE requeueAtStart = 1")
            return rows.compactMap(Self.queuedJob)
        }
    }

    public func linkRequeue(_ id: Int64, to newID: Int64) throws {
        try db.write { try $0.execute(sql: "UPDATE job SET requeuedAs = ? WHERE buildId = ?", arguments: [newID, id]) }
    }

    public func statusCounts() throws -> [BuildRecord.Status: Int] {
        try db.read { db in
            var counts: [BuildRecord.Status: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM build GROUP BY status") {
                if let status = BuildRecord.Status(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    public func builds(_ filter: BuildFilter) throws -> [BuildRecord] {
        try db.read { db in
            var request = BuildRecord.order(Column("id").desc)
            if let ref = filter.ref { request = request.filter(Column("ref") == ref) }
            if let status = filter.status { request = request.filter(Column("status") == status.rawValue) }
            if let before = filter.before { request = request.filter(Column("id") < before) }
            return try request.limit(max(1, min(filter.limit, 1000))).fetchAll(db)
        }
    }

    public func job(_ id: Int64) throws -> Job? {
        try db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE buildId = ?", arguments: [id]) else { return nil }
            let text: String = row["request"]
            return Job(buildId: id, treefileName: row["treefileName"],
                       request: (try? JSONDecoder().decode(ComposeRequest.self, from: Data(text.utf8))) ?? ComposeRequest(treefile: ""),
                       submittedBy: row["submittedBy"], submittedAt: row["submittedAt"], startedAt: row["startedAt"],
                       heartbeatAt: row["heartbeatAt"], cancelRequestedAt: row["cancelRequestedAt"], requeuedAs: row["requeuedAs"],
                       childOutput: row["childOutput"])
        }
    }

    public func schedules() throws -> [ScheduleRecord] {
        try db.read { try Row.fetchAll($0, sql: "SELECT * FROM schedule ORDER BY name").map(Self.schedule) }
    }

    public func schedule(_ name: String) throws -> ScheduleRecord? {
        try db.read { try Row.fetchOne($0, sql: "SELECT * FROM schedule WHERE name = ?", arguments: [name]).map(Self.schedule) }
    }

    private static func schedule(_ row: Row) -> ScheduleRecord {
        var definition = ScheduleDefinition(name: row["name"], treefile: row["treefileName"], cron: row["cron"])
        definition.timeZone = row["timeZone"]
        definition.composeUnchanged = row["composeUnchanged"]
        definition.missedRuns = ScheduleDefinition.MissedRuns(rawValue: row["missedRuns"]) ?? .runOnce
        definition.paused = row["paused"]
        return ScheduleRecord(definition: definition, origin: ScheduleRecord.Origin(rawValue: row["origin"]) ?? .api,
                              nextRunAt: row["nextRunAt"], lastRunAt: row["lastRunAt"], lastBuildId: row["lastBuildId"],
                              createdAt: row["createdAt"], updatedAt: row["updatedAt"])
    }

    private static func write(_ schedule: ScheduleRecord, _ db: Database, replace: Bool) throws {
        let definition = schedule.definition
        // An upsert, not a replace: `configPaused` (what the config file said last) stays.
        try db.execute(sql: """
            INSERT INTO schedule (name, treefileName, cron, timeZone, composeUnchanged, missedRuns,
                paused, origin, nextRunAt, lastRunAt, lastBuildId, createdAt, updatedAt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            \(replace ? """
                ON CONFLICT(name) DO UPDATE SET treefileName = excluded.treefileName, cron = excluded.cron,
                    timeZone = excluded.timeZone, composeUnchanged = excluded.composeUnchanged, missedRuns = excluded.missedRuns,
                    paused = excluded.paused, origin = excluded.origin, nextRunAt = excluded.nextRunAt,
                    lastRunAt = excluded.lastRunAt, lastBuildId = excluded.lastBuildId, updatedAt = excluded.updatedAt
                """ : "")
            """, arguments: [definition.name, definition.treefile, definition.cron, definition.timeZone, definition.composeUnchanged,
                             definition.missedRuns.rawValue, definition.paused, schedule.origin.rawValue, schedule.nextRunAt,
                             schedule.lastRunAt, schedule.lastBuildId, schedule.createdAt, schedule.updatedAt])
    }

    public func createSchedule(_ schedule: ScheduleRecord) throws -> Bool {
        try db.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM schedule WHERE name = ?", arguments: [schedule.definition.name]) == nil else {
                return false
            }
            try Self.write(schedule, db, replace: false)
            return true
        }
    }

    public func updateSchedule(_ schedule: ScheduleRecord) throws -> Bool {
        try db.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM schedule WHERE name = ?", arguments: [schedule.definition.name]) != nil else {
                return false
            }
            try Self.write(schedule, db, replace: true)
            return true
        }
    }

    public func deleteSchedule(_ name: String) throws -> Bool {
        try db.write { db in
            try db.execute(sql: "DELETE FROM schedule WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    public func syncConfiguredSchedules(_ definitions: [ScheduleDefinition], nextRun: (ScheduleDefinition) -> Date?, at time: Date) throws {
        try db.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM schedule")
            let existing = Dictionary(uniqueKeysWithValues: rows.map(Self.schedule).map { ($0.definition.name, $0) })
            let fileSaid = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as String, $0["configPaused"] as Bool?) })
            for definition in definitions {
                var record = existing[definition.name]
                    ?? ScheduleRecord(definition: definition, origin: .config, nextRunAt: nextRun(definition), createdAt: time, updatedAt: time)
                if record.definition != definition || record.origin != .config {
                    // The file's definition wins. Its `paused` wins when the file changed it since the
                    // last start; otherwise a pause or resume given through the API stays.
                    let fileChanged = record.origin != .config || fileSaid[definition.name].flatMap { $0 } != definition.paused
                    let paused = fileChanged ? definition.paused : record.definition.paused
                    let timingChanged = record.definition.cron != definition.cron || record.definition.timeZone != definition.timeZone
                    record.definition = definition
                    record.definition.paused = paused
                    record.origin = .config
                    record.updatedAt = time
                    if timingChanged { record.nextRunAt = nextRun(definition) }
                }
                try Self.write(record, db, replace: true)
                try db.execute(sql: "UPDATE schedule SET configPaused = ? WHERE name = ?", arguments: [definition.paused, definition.name])
            }
            let names = Set(definitions.map(\.name))
            for record in existing.values where record.origin == .config && !names.contains(record.definition.name) {
                try db.execute(sql: "DELETE FROM schedule WHERE name = ?", arguments: [record.definition.name])
            }
        }
    }

    public func recordScheduleRun(_ name: String, ranAt: Date?, buildId: Int64?, nextRunAt: Date?, keepNextRun: Bool) throws {
        try db.write { db in
            if keepNextRun {
                try db.execute(sql: "UPDATE schedule SET lastRunAt = ?, lastBuildId = ? WHERE name = ?", arguments: [ranAt, buildId, name])
            } else if let ranAt {
                try db.execute(sql: "UPDATE schedule SET lastRunAt = ?, lastBuildId = ?, nextRunAt = ? WHERE name = ?",
                               arguments: [ranAt, buildId, nextRunAt, name])
            } else {
                try db.execute(sql: "UPDATE schedule SET nextRunAt = ? WHERE name = ?", arguments: [nextRunAt, name])
            }
        }
    }

    public func audit(_ entry: AuditEntry) throws {
        try db.write { db in
            try db.execute(sql: "INSERT INTO audit (time, token, action, target, result, detail) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [entry.time, entry.token, entry.action, entry.target, entry.result, entry.detail])
        }
    }

    public func auditLog(limit: Int) throws -> [AuditEntry] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ?", arguments: [limit]).map {
                AuditEntry(time: $0["time"], token: $0["token"], action: $0["action"], target: $0["target"], result: $0["result"],
                           detail: $0["detail"])
            }
        }
    }
}
