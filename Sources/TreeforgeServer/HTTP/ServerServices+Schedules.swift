import Foundation
import Hummingbird
import TreeforgeCore

/// Schedules through the API. Reads are public; changes need the
/// `schedule` scope and a token whose ref prefixes cover the treefile's ref.
extension ServerServices {
    func schedules() async throws -> ScheduleList {
        let store = self.store
        return try await Blocking.run { ScheduleList(schedules: try store.schedules().map { try Self.view($0, store) }) }
    }

    func schedule(_ name: String) async throws -> ScheduleView {
        let store = self.store
        return try await Blocking.run {
            guard let schedule = try store.schedule(name) else { throw APIError.notFound("no schedule \(name)") }
            return try Self.view(schedule, store)
        }
    }

    private static func view(_ schedule: ScheduleRecord, _ store: any ServerStore) throws -> ScheduleView {
        let last = try schedule.lastBuildId.flatMap { try store.builds.build($0) }
        return ScheduleView(schedule, lastBuildStatus: last?.status.rawValue)
    }

    func createSchedule(request: Request, _ decode: () async throws -> ScheduleBody) async throws -> ScheduleView {
        let store = self.store
        let name = try await change(request, .schedule, action: "schedule.create", target: nil) { grant in
            let body = try await decode()
            grant.target = body.name
            guard let name = body.name else { throw APIError.badRequest("bad_schedule", "a schedule needs a name") }
            guard let treefile = body.treefile, let cron = body.cron else {
                throw APIError.badRequest("bad_schedule", "a schedule needs a treefile and a cron expression")
            }
            try Self.validateName(name)
            var definition = ScheduleDefinition(name: name, treefile: treefile, cron: cron)
            body.apply(to: &definition)
            try grant.allow(ref: try await validate(definition).ref)
            let record = ScheduleRecord(definition: definition, origin: .api, nextRunAt: Scheduler.nextRun(definition, after: Date()))
            guard try await Blocking.run({ try store.createSchedule(record) }) else {
                throw APIError.conflict("schedule_exists", "a schedule named \(name) exists: change it with PATCH /api/v1/schedules/\(name)")
            }
            return name
        }
        return try await schedule(name)
    }

    func updateSchedule(_ name: String, request: Request, _ decode: () async throws -> ScheduleBody) async throws -> ScheduleView {
        try await updateSchedule(name, token: tokens.token(forAuthorization: request.headers[.authorization]),
                                 credentialsGiven: request.headers[.authorization] != nil, decode)
    }

    func updateSchedule(_ name: String, token: APIToken?, credentialsGiven: Bool,
                        _ decode: () async throws -> ScheduleBody) async throws -> ScheduleView {
        let store = self.store
        try await change(token: token, credentialsGiven: credentialsGiven, .schedule, action: "schedule.update", target: name) { grant in
            let body = try await decode()
            guard var record = try await Blocking.run({ try store.schedule(name) }) else { throw APIError.notFound("no schedule \(name)") }
            if let newName = body.name, newName != name {
                throw APIError.badRequest("bad_schedule", "a schedule cannot be renamed: create one named \(newName) and delete \(name)")
            }
            let before = record.definition
            var definition = before
            if let treefile = body.treefile { definition.treefile = treefile }
            if let cron = body.cron { definition.cron = cron }
            body.apply(to: &definition)
            // Both the ref it composes now and the one it will: a token cannot take over another team's schedule.
            let queue = self.queue
            try grant.allow(ref: (try? await Blocking.run { try queue.locate(before.treefile).ref }) ?? "")
            try grant.allow(ref: try await validate(definition).ref)
            var onlyPause = before
            onlyPause.paused = definition.paused
            if record.origin == .config && definition != onlyPause {
                throw APIError.conflict("defined_in_config", "schedule \(name) is defined in the config file: change it there (the API may only pause and resume it)")
            }
            record.definition = definition
            record.updatedAt = Date()
            if before.cron != definition.cron || before.timeZone != definition.timeZone || (before.paused && !definition.paused) {
                record.nextRunAt = Scheduler.nextRun(definition, after: Date())
            }
            _ = try await Blocking.run { [record] in try store.updateSchedule(record) }
        }
        return try await schedule(name)
    }

    func deleteSchedule(_ name: String, request: Request) async throws {
        let store = self.store
        let queue = self.queue
        try await change(request, .schedule, action: "schedule.delete", target: name) { grant in
            guard let record = try await Blocking.run({ try store.schedule(name) }) else { throw APIError.notFound("no schedule \(name)") }
            // A treefile that is gone no longer names a ref: only a token for every ref may then delete its schedule.
            try grant.allow(ref: (try? await Blocking.run { try queue.locate(record.definition.treefile).ref }) ?? "")
            if record.origin == .config {
                throw APIError.conflict("defined_in_config", "schedule \(name) is defined in the config file: remove it there")
            }
            _ = try await Blocking.run { try store.deleteSchedule(name) }
        }
    }

    /// Queues the schedule's compose now, as its next run would.
    func runSchedule(_ name: String, request: Request) async throws -> Submitted {
        try await runSchedule(name, token: tokens.token(forAuthorization: request.headers[.authorization]),
                              credentialsGiven: request.headers[.authorization] != nil)
    }

    func runSchedule(_ name: String, token: APIToken?, credentialsGiven: Bool) async throws -> Submitted {
        let store = self.store
        let queue = self.queue
        return try await change(token: token, credentialsGiven: credentialsGiven, .schedule, action: "schedule.run", target: name) { grant in
            guard let record = try await Blocking.run({ try store.schedule(name) }) else { throw APIError.notFound("no schedule \(name)") }
            let definition = record.definition
            let located = try await Blocking.run { try queue.locate(definition.treefile) }
            try grant.allow(ref: located.ref)
            return try await Blocking.run {
                let submitted = try queue.submit(definition.treefile, located: located, force: definition.composeUnchanged, version: nil,
                                                 by: grant.token.name, trigger: "schedule:\(name)")
                try store.recordScheduleRun(name, ranAt: Date(), buildId: submitted.id, nextRunAt: nil, keepNextRun: true)
                return submitted
            }
        }
    }

    /// The definition's treefile (and its ref), expression and time zone, or a 4xx saying which is wrong.
    private func validate(_ definition: ScheduleDefinition) async throws -> (file: URL, ref: String) {
        do {
            _ = try CronExpression(definition.cron)
        } catch let error as CronError {
            throw APIError(.unprocessableContent, "bad_cron", error.description)
        }
        guard TimeZone(identifier: definition.timeZone) != nil else {
            throw APIError(.unprocessableContent, "bad_time_zone", "\(definition.timeZone) is not a time zone (UTC, Europe/Berlin, …)")
        }
        let queue = self.queue
        return try await Blocking.run { try queue.locate(definition.treefile) }
    }

    static func validateName(_ name: String) throws {
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw APIError.badRequest("bad_schedule_name", "\(name.debugDescription): a schedule name is 1 to 64 of A-Z a-z 0-9 . _ -")
        }
    }
}

/// `POST /api/v1/schedules` and `PATCH /api/v1/schedules/{name}`'s body;
/// PATCH changes the fields it gives.
struct ScheduleBody: Codable, Sendable {
    var name: String?
    var treefile: String?
    var cron: String?
    var timeZone: String?
    var composeUnchanged: Bool?
    var missedRuns: ScheduleDefinition.MissedRuns?
    var paused: Bool?

    func apply(to definition: inout ScheduleDefinition) {
        if let timeZone { definition.timeZone = timeZone }
        if let composeUnchanged { definition.composeUnchanged = composeUnchanged }
        if let missedRuns { definition.missedRuns = missedRuns }
        if let paused { definition.paused = paused }
    }
}

struct ScheduleView: Codable, Sendable {
    var name: String
    var url: String
    var treefile: String
    var cron: String
    var timeZone: String
    var composeUnchanged: Bool
    var missedRuns: String
    var paused: Bool
    /// `config` or `api`.
    var origin: String
    var nextRunAt: Date?
    var lastRunAt: Date?
    var lastBuildId: Int64?
    var lastBuildStatus: String?

    init(_ record: ScheduleRecord, lastBuildStatus: String?) {
        let definition = record.definition
        name = definition.name
        url = "/api/v1/schedules/\(definition.name)"
        treefile = definition.treefile
        cron = definition.cron
        timeZone = definition.timeZone
        composeUnchanged = definition.composeUnchanged
        missedRuns = definition.missedRuns.rawValue
        paused = definition.paused
        origin = record.origin.rawValue
        nextRunAt = record.nextRunAt
        lastRunAt = record.lastRunAt
        lastBuildId = record.lastBuildId
        self.lastBuildStatus = lastBuildStatus
    }
}

struct ScheduleList: Codable, Sendable {
    var schedules: [ScheduleView]
}
