import Foundation

/// A cron expression of five fields, as crontab(5) reads them: minute
/// (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec), day
/// of week (0-7 or sun-sat, 0 and 7 both Sunday). Each field is `*`, a
/// number, a range `a-b`, any of these with a step `/n`, or a list of them
/// joined by `,`. When both day fields are restricted, a day matching
/// either runs (crontab's rule). `@hourly`, `@daily` (`@midnight`),
/// `@weekly`, `@monthly` and `@yearly` (`@annually`) stand for their
/// expressions.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    private static let shorthands = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(_ text: String) throws {
        description = text
        let expanded = Self.shorthands[text.trimmingCharacters(in: .whitespaces).lowercased()] ?? text
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { String($0).lowercased() }
        guard fields.count == 5 else {
            throw CronError(text, "a cron expression has five fields (minute hour day-of-month month day-of-week), this one has \(fields.count)")
        }
        minutes = try Self.field(fields[0], "minute", 0...59, names: [], text)
        hours = try Self.field(fields[1], "hour", 0...23, names: [], text)
        days = try Self.field(fields[2], "day of month", 1...31, names: [], text)
        months = try Self.field(fields[3], "month", 1...12, names: Self.monthNames, nameBase: 1, text)
        weekdays = Set(try Self.field(fields[4], "day of week", 0...7, names: Self.dayNames, text).map { $0 % 7 })
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
    }

    private static func field(_ text: String, _ name: String, _ bounds: ClosedRange<Int>, names: [String], nameBase: Int = 0,
                              _ expression: String) throws -> Set<Int> {
        func value(_ token: Substring) throws -> Int {
            if let number = Int(token), bounds.contains(number) { return number }
            if let index = names.firstIndex(of: String(token)) { return index + nameBase }
            throw CronError(expression, "\(name): \(token.isEmpty ? "an empty value" : "`\(token)`") is not in \(bounds.lowerBound)-\(bounds.upperBound)")
        }
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw CronError(expression, "\(name): `\(part)` has more than one step") }
            var step = 1
            if pieces.count == 2 {
                guard let number = Int(pieces[1]), number >= 1 else { throw CronError(expression, "\(name): the step in `\(part)` must be 1 or more") }
                step = number
            }
            let range: ClosedRange<Int>
            if pieces[0] == "*" {
                range = bounds
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2 else { throw CronError(expression, "\(name): `\(part)` is not a range") }
                let low = try value(ends[0])
                let high = ends.count == 2 ? try value(ends[1]) : (pieces.count == 2 ? bounds.upperBound : low)
                guard low <= high else { throw CronError(expression, "\(name): the range `\(pieces[0])` runs backwards") }
                range = low...high
            }
            values.formUnion(stride(from: range.lowerBound, through: range.upperBound, by: step))
        }
        return values
    }

    /// The first minute after `date` that the expression names, in `timeZone`;
    /// nil when none comes within five years (`0 0 30 2 *`).
    public func nextRun(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = calendar.dateInterval(of: .minute, for: date)?.start ?? date
        guard var candidate = calendar.date(byAdding: .minute, value: 1, to: start) else { return nil }
        let limit = date.addingTimeInterval(5 * 366 * 86400)
        while candidate < limit {
            let parts = calendar.dateComponents([.month, .day, .weekday, .hour, .minute], from: candidate)
            guard let month = parts.month, let day = parts.day, let weekday = parts.weekday, let hour = parts.hour,
                  let minute = parts.minute else { return nil }
            if !months.contains(month) {
                guard let next = calendar.dateInterval(of: .month, for: candidate)?.end else { return nil }
                candidate = next
            } else if !dayMatches(day: day, weekday: weekday - 1) {
                guard let next = calendar.dateInterval(of: .day, for: candidate)?.end else { return nil }
                candidate = next
            } else if !hours.contains(hour) {
                guard let next = calendar.dateInterval(of: .hour, for: candidate)?.end else { return nil }
                candidate = next
            } else if !minutes.contains(minute) {
                candidate = candidate.addingTimeInterval(60)
            } else {
                return candidate
            }
        }
        return nil
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): days.contains(day) || weekdays.contains(weekday)
        case (true, false): days.contains(day)
        case (false, true): weekdays.contains(weekday)
        case (false, false): true
        }
    }
}

/// A cron expression that does not parse, and why.
public struct CronError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ expression: String, _ reason: String) { description = "cron `\(expression)`: \(reason)" }
}
