import Foundation
import Testing
import TestSupport

/// The build database (`<repo>.builds.sqlite`) locked by another process,
/// written by a newer treeforge, or not a database: the compose stops at
/// its start with an error naming the file and what to do; nothing is
/// committed, the ref stays where it was, the database as it was.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct BuildDatabaseDamageTests {
    let harness: ComposeHarness
    let treefile: URL

    init() throws {
        harness = try ComposeHarness("db-damage")
        treefile = try harness.treefile(["fixture-oldtool"])
        try harness.composeOK(treefile)
    }

    /// Composes again and requires the refusal: exit status 1, the error
    /// line, the ref and commit objects unchanged.
    func expectRefused(_ message: String, environment: [String: String]? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let head = try Oracle.ostreeRev(harness.repo, harness.ref)
        let commits = harness.commitObjectCount()
        let result = try harness.compose(treefile, ["--force-nocache"], environment: environment)
        #expect(result.status == 1, sourceLocation: sourceLocation)
        let errorLine = result.stderr.split(separator: "\n").first { $0.hasPrefix("error: ") }.map(String.init)
        // The database as treeforge names it: beside the repository, the path standardized.
        let database = harness.database.standardizedFileURL.path
        #expect(errorLine == "error: record: \(database): \(message)", "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == head, sourceLocation: sourceLocation)
        #expect(harness.commitObjectCount() == commits, sourceLocation: sourceLocation)
    }

    @Test func lockedByAnotherProcess() throws {
        let rows = try harness.buildRows()
        let lock = try SQLiteLock(harness.database)
        let start = Date()
        try expectRefused("the build database is locked by another process (pid \(lock.pid): sqlite3), which kept its write lock longer than treeforge waits (1 s); wait for that compose, prune or sqlite3 session to end (or stop it) and run again; TREEFORGE_DB_BUSY_TIMEOUT=SECONDS sets how long to wait (default 10)",
                          environment: ["TREEFORGE_DB_BUSY_TIMEOUT": "1"])
        #expect(Date().timeIntervalSince(start) < 8, "the compose waits the busy timeout, not without end")
        lock.release()
        #expect(try harness.buildRows().map(\.id) == rows.map(\.id), "no build was recorded")
        // Released, the database takes the next compose.
        try harness.composeOK(treefile, ["--force-nocache"])
    }

    @Test func writtenByANewerTreeforge() throws {
        try Command.check(["sqlite3", harness.database.path, "INSERT INTO grdb_migrations VALUES ('v99: from a newer treeforge')"])
        let dump = try Command.check(["sqlite3", harness.database.path, ".dump"])
        try expectRefused("the build database was written by a newer treeforge (unknown migrations: v99: from a newer treeforge); upgrade treeforge or use another --repo (the database was left as it is)")
        #expect(try Command.check(["sqlite3", harness.database.path, ".dump"]) == dump)
    }

    @Test func notADatabase() throws {
        let garbage = Data((0..<16384).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: harness.database)
        try expectRefused("the build database is damaged or not an SQLite database (SQLite: file is not a database); restore it from a backup, or move it aside to start a new build history (the OSTree repository itself is not affected)")
        #expect(try Data(contentsOf: harness.database) == garbage)
    }
}
