import Foundation
import GRDB

/// The SQLite history of composes, beside the OSTree repository it
/// describes (`<repo>.builds.sqlite`).
///
/// Owns the database writer and its migrations. Migrations are named and
/// append-only: never edit one that has landed, add a new one.
public final class BuildStore: Sendable {
    let writer: any DatabaseWriter

    /// Opens (creating when missing) the database for a repository.
    public convenience init(repoPath: URL) throws {
        let path = Self.databasePath(forRepo: repoPath)
        try? FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try self.init(path: path.path)
    }

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        do {
            writer = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(writer)
        } catch {
            throw ComposeError(.record, subject: path, "cannot open the build database: \(error)")
        }
    }

    /// An in-memory store, for tests.
    public init() throws {
        writer = try DatabaseQueue()
        try Self.migrator.migrate(writer)
    }

    public static func databasePath(forRepo repo: URL) -> URL {
        let standardized = repo.standardizedFileURL
        return standardized.deletingLastPathComponent()
            .appendingPathComponent(standardized.lastPathComponent + ".builds.sqlite")
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: builds") { db in
            try db.execute(sql: """
                CREATE TABLE build (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    ref TEXT,
                    treefilePath TEXT NOT NULL,
                    treefileSHA256 TEXT,
                    status TEXT NOT NULL,
                    startedAt DATETIME NOT NULL,
                    finishedAt DATETIME,
                    "commit" TEXT,
                    version TEXT,
                    packages TEXT NOT NULL DEFAULT '[]',
                    stageSeconds TEXT NOT NULL DEFAULT '{}',
                    failedStage TEXT,
                    error TEXT
                );
                CREATE INDEX build_ref ON build(ref, id);
                """)
        }
        return migrator
    }

    // MARK: Writing

    /// Records a compose that has just started; returns its id.
    public func start(treefilePath: String, now: Date = Date()) throws -> Int64 {
        try writer.write { db in
            var build = BuildRecord(treefilePath: treefilePath, status: .running, startedAt: now)
            try build.insert(db)
            return build.id!
        }
    }

    public func update(_ id: Int64, _ change: @escaping @Sendable (inout BuildRecord) -> Void) throws {
        try writer.write { db in
            guard var build = try BuildRecord.fetchOne(db, key: id) else { return }
            change(&build)
            try build.update(db)
        }
    }

    // MARK: Reading

    public func build(_ id: Int64) throws -> BuildRecord? {
        try writer.read { try BuildRecord.fetchOne($0, key: id) }
    }

    public func builds(ref: String? = nil) throws -> [BuildRecord] {
        try writer.read { db in
            var request = BuildRecord.order(Column("id").desc)
            if let ref { request = request.filter(Column("ref") == ref) }
            return try request.fetchAll(db)
        }
    }
}
