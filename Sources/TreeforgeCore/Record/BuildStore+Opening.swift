import Foundation
import GRDB

/// Opening the build database, and what can stand in the way: another
/// process holding its write lock, a schema from a newer treeforge, a file
/// that is not (or no longer) an SQLite database. Each is a `ComposeError`
/// of the `record` stage whose subject is the database's path, raised before
/// a compose has done anything (it opens the store first), with the
/// database left as it was.
extension BuildStore {
    /// How long to wait for another process's write lock before giving up:
    /// `TREEFORGE_DB_BUSY_TIMEOUT` seconds, 10 by default (a compose holds
    /// the lock for milliseconds at a time; a longer wait means something
    /// else holds it).
    static let busyTimeoutVariable = "TREEFORGE_DB_BUSY_TIMEOUT"
    static let defaultBusyTimeout: TimeInterval = 10

    static func busyTimeout(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TimeInterval {
        guard let text = environment[busyTimeoutVariable] else { return defaultBusyTimeout }
        guard let seconds = TimeInterval(text), seconds >= 0, seconds.isFinite else {
            throw ComposeError(.record, subject: path,
                               "\(busyTimeoutVariable)=\(text) is not a number of seconds (how long to wait for the build database's lock; default \(Int(defaultBusyTimeout)))")
        }
        return seconds
    }

    /// A pool on the database at `path`, migrated up to `lastMigration`
    /// (nil: all), waiting `timeout` seconds for a lock another process
    /// holds. The schema is checked read-only first, so a database of a
    /// newer treeforge or a damaged file is refused without a byte written.
    static func openPool(path: String, upTo lastMigration: String?, busyTimeout timeout: TimeInterval) throws -> DatabasePool {
        try checkSchema(path: path, timeout: timeout)
        var configuration = Configuration()
        // WAL (DatabasePool's default): readers never block the one writer;
        // a second compose waits for the write lock instead of failing.
        configuration.busyMode = .timeout(timeout)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            // Take the write lock once now: a database another process keeps
            // locked stops the compose here, before it has done anything.
            try pool.writeWithoutTransaction { db in try db.inTransaction(.immediate) { .commit } }
            if let lastMigration {
                try migrator.migrate(pool, upTo: lastMigration)
            } else {
                try migrator.migrate(pool)
            }
            return pool
        } catch {
            throw openingError(error, path: path, timeout: timeout)
        }
    }

    /// Refuses a database with migrations this treeforge does not know.
    /// GRDB's migrator would ignore them and this treeforge would then write
    /// rows into a schema it does not understand.
    private static func checkSchema(path: String, timeout: TimeInterval) throws {
        guard let size = FileCheck.size(of: path), size > 0 else { return }  // new: nothing to check
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(timeout)
        let applied: Set<String>
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            applied = try queue.read { try migrator.appliedIdentifiers($0) }
            try queue.close()
        } catch {
            throw openingError(error, path: path, timeout: timeout)
        }
        let unknown = applied.subtracting(migrator.migrations).sorted()
        if !unknown.isEmpty {
            throw ComposeError(.record, subject: path,
                               "the build database was written by a newer treeforge (unknown migrations: \(unknown.joined(separator: ", "))); upgrade treeforge or use another --repo (the database was left as it is)")
        }
    }

    /// The error to show for a failure to open or migrate the database.
    static func openingError(_ error: Error, path: String, timeout: TimeInterval) -> ComposeError {
        if let error = error as? ComposeError { return error }
        guard let sqlite = error as? DatabaseError else {
            return ComposeError(.record, subject: path, "cannot open the build database: \(error)")
        }
        let said = sqlite.message ?? "\(sqlite.resultCode)"
        switch sqlite.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            let holders = SQLiteLockHolders.find(database: path)
            let who = holders.isEmpty ? "another process" : "another process (\(holders.joined(separator: ", ")))"
            return ComposeError(.record, subject: path,
                                "the build database is locked by \(who), which kept its write lock longer than treeforge waits (\(seconds(timeout))); wait for that compose, prune or sqlite3 session to end (or stop it) and run again; \(busyTimeoutVariable)=SECONDS sets how long to wait (default \(Int(defaultBusyTimeout)))")
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return ComposeError(.record, subject: path,
                                "the build database is damaged or not an SQLite database (SQLite: \(said)); restore it from a backup, or move it aside to start a new build history (the OSTree repository itself is not affected)")
        case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM:
            return ComposeError(.record, subject: path,
                                "cannot open the build database for writing (SQLite: \(said)); check that its folder exists and that this user may write to it and to the file")
        default:
            return ComposeError(.record, subject: path, "cannot open the build database: \(error)")
        }
    }

    private static func seconds(_ interval: TimeInterval) -> String {
        interval == interval.rounded() ? "\(Int(interval)) s" : "\(interval) s"
    }
}

/// Which processes hold an SQLite database's write lock, from the kernel's
/// list of file locks (`/proc/locks`). SQLite locks with POSIX advisory
/// locks: in WAL mode the writer holds a write lock on a byte of the `-shm`
/// file, in rollback mode on the database file itself.
enum SQLiteLockHolders {
    /// "pid 4242: sqlite3" for each other process holding a write lock on
    /// the database or its `-shm` file; empty when none can be seen.
    static func find(database path: String, locks: String? = try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) -> [String] {
        let files = [path, path + "-shm"].compactMap(identity(of:))
        guard let locks, !files.isEmpty else { return [] }
        var pids: [Int32] = []
        for line in locks.split(separator: "\n") where !line.contains("->") {
            // "1: POSIX  ADVISORY  WRITE 22328 fe:00:16245055 120 120"
            let fields = line.split(separator: " ")
            guard fields.count >= 6, fields[1] == "POSIX", fields[3] == "WRITE", let pid = Int32(fields[4]), pid != getpid(),
                  files.contains(where: { $0 == String(fields[5]) }), !pids.contains(pid) else { continue }
            pids.append(pid)
        }
        return pids.map { pid in
            let command = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return command.map { "pid \(pid): \($0)" } ?? "pid \(pid)"
        }
    }

    /// The file as /proc/locks names it: "MAJOR:MINOR:INODE", the device in hex.
    static func identity(of path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value,
              let device = (attributes[.systemNumber] as? NSNumber)?.uint64Value else { return nil }
        // glibc's encoding of st_dev (gnu_dev_major / gnu_dev_minor).
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff)
        let minor = (device & 0xff) | ((device >> 12) & ~0xff)
        return String(format: "%02llx:%02llx:%llu", major, minor, inode)
    }
}
