import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// Opening a build database that another process locks, that a newer
/// treeforge wrote, or that is not a database: a clear error each time, and
/// the file left as it was.
@Suite struct BuildStoreOpeningTests {
    let dir: TemporaryDirectory
    let database: URL

    init() throws {
        dir = try TemporaryDirectory("store-open")
        database = dir.path("repo.builds.sqlite")
        // A database with one build in it, closed again (the pool closes when released).
        _ = try BuildStore(path: database.path).start(treefilePath: "/t.yaml")
    }

    /// The whole database as SQL text (sqlite3 CLI, an independent reader).
    func dump() throws -> String { try Command.check(["sqlite3", database.path, ".dump"]) }

    @Test func aDatabaseLockedByAnotherProcessIsNamedAfterTheBusyTimeout() throws {
        let lock = try SQLiteLock(database)
        defer { lock.release() }
        let start = Date()
        let error = try #require(throws: ComposeError.self) {
            _ = try BuildStore.openPool(path: database.path, upTo: nil, busyTimeout: 0.5)
        }
        let waited = Date().timeIntervalSince(start)
        #expect(waited >= 0.5 && waited < 5, "waited \(waited) s")
        #expect(error.stage == .record)
        #expect(error.subject == database.path)
        #expect(error.message.hasPrefix("the build database is locked by another process (pid \(lock.pid): sqlite3), which kept its write lock longer than treeforge waits (0.5 s)"),
                "\(error.message)")
        #expect(error.message.contains("TREEFORGE_DB_BUSY_TIMEOUT"))
        lock.release()
        // Once released, the same database opens and keeps its build.
        #expect(try BuildStore(path: database.path).builds().count == 1)
    }

    @Test func aDatabaseOfANewerTreeforgeIsRefusedUntouched() throws {
        try Command.check(["sqlite3", database.path,
                           "INSERT INTO grdb_migrations VALUES ('v97: from the future'), ('v98: also from the future')"])
        let before = try dump()
        let bytes = try Data(contentsOf: database)
        let error = try #require(throws: ComposeError.self) { try BuildStore(path: database.path) }
        #expect(error.stage == .record)
        #expect(error.subject == database.path)
        #expect(error.message == "the build database was written by a newer treeforge (unknown migrations: v97: from the future, v98: also from the future); upgrade treeforge or use another --repo (the database was left as it is)")
        #expect(try dump() == before)
        #expect(try Data(contentsOf: database) == bytes)
    }

    @Test(arguments: ["garbage", "zeroed header"])
    func aFileThatIsNotADatabaseIsRefusedUntouched(_ kind: String) throws {
        var bytes = try Data(contentsOf: database)
        if kind == "garbage" {
            bytes = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 13) })
        } else {
            bytes.replaceSubrange(0..<100, with: Data(repeating: 0, count: 100))
        }
        try bytes.write(to: database)
        let error = try #require(throws: ComposeError.self) { try BuildStore(path: database.path) }
        #expect(error.stage == .record)
        #expect(error.subject == database.path)
        #expect(error.message.hasPrefix("the build database is damaged or not an SQLite database (SQLite: "), "\(error.message)")
        #expect(error.message.hasSuffix("restore it from a backup, or move it aside to start a new build history (the OSTree repository itself is not affected)"))
        #expect(try Data(contentsOf: database) == bytes)
    }

    @Test func theBusyTimeoutComesFromTheEnvironment() throws {
        #expect(try BuildStore.busyTimeout(path: "db", environment: [:]) == 10)
        #expect(try BuildStore.busyTimeout(path: "db", environment: ["TREEFORGE_DB_BUSY_TIMEOUT": "2.5"]) == 2.5)
        #expect(try BuildStore.busyTimeout(path: "db", environment: ["TREEFORGE_DB_BUSY_TIMEOUT": "0"]) == 0)
        for bad in ["abc", "-1", "inf", ""] {
            let error = try #require(throws: ComposeError.self) {
                try BuildStore.busyTimeout(path: "db", environment: ["TREEFORGE_DB_BUSY_TIMEOUT": bad])
            }
            #expect(error.subject == "db")
            #expect(error.message.hasPrefix("TREEFORGE_DB_BUSY_TIMEOUT=\(bad) is not a number of seconds"))
        }
    }

    /// /proc/locks as the kernel writes it, for a file of ours.
    @Test func lockHoldersAreReadFromTheKernelsLockList() throws {
        let shm = URL(fileURLWithPath: database.path + "-shm")
        try Data(count: 32768).write(to: shm)
        let identity = try #require(SQLiteLockHolders.identity(of: shm.path))
        let parent = getppid()
        let locks = """
            1: POSIX  ADVISORY  WRITE \(parent) \(identity) 120 120
            1: -> POSIX  ADVISORY  WRITE 999999 \(identity) 120 120
            2: POSIX  ADVISORY  READ  \(parent) \(identity) 123 123
            3: POSIX  ADVISORY  WRITE \(getpid()) \(identity) 124 124
            4: POSIX  ADVISORY  WRITE 4242 00:00:1 120 120
            """
        let command = try String(contentsOfFile: "/proc/\(parent)/comm", encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(SQLiteLockHolders.find(database: database.path, locks: locks) == ["pid \(parent): \(command)"])
        #expect(SQLiteLockHolders.find(database: database.path, locks: "") == [])
    }
}
