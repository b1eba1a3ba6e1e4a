import Foundation
import Logging
import ServiceLifecycle
import TreeforgeCore

/// Fires schedules: every few seconds, each schedule that is not paused and
/// whose next run has come queues a compose of its treefile (trigger
/// `schedule:NAME`). A run missed while the server was down (its time
/// passed more than `lateness` ago) follows the schedule's policy: `run-once`
/// queues one compose for all the runs missed, `skip` queues none; either
/// way the next run is the next time the expression names.
public actor Scheduler: Service {
    let store: any ServerStore
    let queue: ComposeQueue
    let logger: Logger
    let tick: Duration
    /// How late a run may start and still count as on time.
    let lateness: TimeInterval

    init(store: any ServerStore, queue: ComposeQueue, logger: Logger, tick: Duration = .seconds(1), lateness: TimeInterval = 120) {
        self.store = store
        self.queue = queue
        self.logger = logger
        self.tick = tick
        self.lateness = lateness
    }

    public func run() async throws {
        do {
            try await runUntilShutdown()
        } catch is CancellationError {
            // Graceful shutdown.
        }
    }

    private func runUntilShutdown() async throws {
        try await cancelWhenGracefulShutdown {
            while true {
                let store = self.store
                let queue = self.queue
                let lateness = self.lateness
                do {
                    let lines = try await Blocking.run { try Self.runDue(store: store, queue: queue, now: Date(), lateness: lateness) }
                    for line in lines { self.logger.info("scheduler: \(line)") }
                } catch {
                    self.logger.error("scheduler: \(error)")
                }
                try await Task.sleep(for: self.tick)
            }
        }
    }

    /// The next run of `definition` after `date`; nil when its expression
    /// or time zone does not parse (the API refuses those) or names no time.
    static func nextRun(_ definition: ScheduleDefinition, after date: Date) -> Date? {
        guard let cron = try? CronExpression(definition.cron), let zone = TimeZone(identifier: definition.timeZone) else { return nil }
        return cron.nextRun(after: date, in: zone)
    }

    /// Queues the composes of the schedules due at `now`. Blocks (SQLite,
    /// treefile IO). What it did, one line each.
    static func runDue(store: any ServerStore, queue: ComposeQueue, now: Date, lateness: TimeInterval) throws -> [String] {
        var lines: [String] = []
        for schedule in try store.schedules() {
            let definition = schedule.definition
            guard !definition.paused, let due = schedule.nextRunAt, due <= now else { continue }
            let next = nextRun(definition, after: now)
            if now.timeIntervalSince(due) > lateness, definition.missedRuns == .skip {
                try store.recordScheduleRun(definition.name, ranAt: nil, buildId: nil, nextRunAt: next, keepNextRun: false)
                lines.append("\(definition.name): skipped the run missed at \(due) (missed-runs: skip); next at \(next.map { "\($0)" } ?? "never")")
                continue
            }
            do {
                let located = try queue.locate(definition.treefile)
                let submitted = try queue.submit(definition.treefile, located: located, force: definition.composeUnchanged, version: nil,
                                                 by: "schedule:\(definition.name)", trigger: "schedule:\(definition.name)")
                try store.recordScheduleRun(definition.name, ranAt: now, buildId: submitted.id, nextRunAt: next, keepNextRun: false)
                lines.append("\(definition.name): queued build #\(submitted.id)\(submitted.coalesced ? " (joined the one already queued)" : "")"
                             + (now.timeIntervalSince(due) > lateness ? " for the run missed at \(due)" : ""))
            } catch {
                // A treefile that no longer loads: the schedule moves on, and says why.
                try store.recordScheduleRun(definition.name, ranAt: now, buildId: nil, nextRunAt: next, keepNextRun: false)
                lines.append("\(definition.name): cannot queue \(definition.treefile): \(error)")
            }
        }
        return lines
    }
}
