import Foundation
import GRDB

/// The SQLite history of composes, beside the OSTree repository it
/// describes (`<repo>.builds.sqlite`).
///
/// Owns the database writer and its migrations. Migrations are named and
/// append-only: never edit one that has landed, add a new one.
public final class BuildStore: Sendable {
    let writer: any DatabaseWriter

    /// The database itself, for the compose server's store (its tables live
    /// in the same file, migrated by the same migrator).
    public var database: any DatabaseWriter { writer }

    /// Opens (creating when missing) the database for a repository.
    public convenience init(repoPath: URL) throws {
        let path = Self.databasePath(forRepo: repoPath)
        try? FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try self.init(path: path.path)
    }

    public convenience init(path: String) throws {
        try self.init(path: path, upTo: nil)
    }

    /// Opens the database migrated up to (and including) the named migration;
    /// nil: all of them. Tests use it to build each earlier schema.
    /// See `openPool` for what is checked first.
    init(path: String, upTo lastMigration: String?) throws {
        writer = try Self.openPool(path: path, upTo: lastMigration, busyTimeout: try Self.busyTimeout(path: path))
    }

    /// The migrations applied, in order.
    public func appliedMigrations() throws -> [String] {
        try writer.read { try Self.migrator.appliedMigrations($0) }
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

    // MARK: Writing

    /// Creates a build for a compose another process will run (`compose
    /// tree --build-id N` adopts it); returns its id.
    public func enqueue(treefilePath: String, trigger: String, now: Date = Date()) throws -> Int64 {
        try writer.write { db in
            var build = BuildRecord(treefilePath: treefilePath, status: .queued, startedAt: now)
            build.trigger = trigger
            try build.insert(db)
            return build.id!
        }
    }

    /// Makes a `queued` build this process's running compose.
    public func adopt(_ id: Int64, pid: Int32 = getpid(), now: Date = Date()) throws {
        try writer.write { db in
            guard var build = try BuildRecord.fetchOne(db, key: id) else {
                throw ComposeError(.record, subject: "build #\(id)", "no such build in \(writer.path): --build-id takes a build another process (the server) queued; queue a new build for it to adopt, or run without --build-id")
            }
            guard build.status == .queued else {
                throw ComposeError(.record, subject: "build #\(id)",
                                   "is \(build.status.rawValue), not queued: --build-id adopts only a queued build (each build runs once); queue a new build for it to adopt, or run without --build-id")
            }
            build.status = .running
            build.pid = pid
            build.process = ProcessIdentity.of(pid)
            build.startedAt = now
            try build.update(db)
        }
    }

    /// Records a compose that has just started; returns its id.
    public func start(treefilePath: String, trigger: String = "cli", pid: Int32? = getpid(), now: Date = Date()) throws -> Int64 {
        try writer.write { db in
            var build = BuildRecord(treefilePath: treefilePath, status: .running, startedAt: now)
            build.trigger = trigger
            build.pid = pid
            build.process = pid.flatMap(ProcessIdentity.of)
            try build.insert(db)
            return build.id!
        }
    }

    public func update(_ id: Int64, _ change: @escaping @Sendable (inout BuildRecord) -> Void) throws {
        try update(id, if: { _ in true }, change)
    }

    /// Changes the build only if it still is as `expected` says, in one
    /// transaction: a compose in another process may have settled it since
    /// it was read. Returns whether it changed.
    @discardableResult
    public func update(_ id: Int64, if expected: @escaping @Sendable (BuildRecord) -> Bool,
                       _ change: @escaping @Sendable (inout BuildRecord) -> Void) throws -> Bool {
        try writer.write { db in
            guard var build = try BuildRecord.fetchOne(db, key: id), expected(build) else { return false }
            change(&build)
            try build.update(db)
            return true
        }
    }

    /// Inserts a finished build (one found in the repository, not composed here).
    public func insert(_ build: BuildRecord) throws -> Int64 {
        try writer.write { db in
            var row = build
            try row.insert(db)
            return row.id!
        }
    }

    /// Gives the build its compose id, `<name>-<version>-<YYYYMMDD>.<n>` with
    /// n counting the day's composes of that name and version from 0.
    public func assignComposeID(_ id: Int64, name: String, version: String, day: Date) throws -> String {
        try writer.write { db in
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            let prefix = String(format: "%@-%@-%04d%02d%02d.", name, version, parts.year!, parts.month!, parts.day!)
            let taken = try String.fetchAll(db, sql: "SELECT composeId FROM build WHERE composeId LIKE ? ESCAPE '\\'",
                                            arguments: [Self.likeEscaped(prefix) + "%"])
            let next = (taken.compactMap { Int($0.dropFirst(prefix.count)) }.max() ?? -1) + 1
            let composeID = prefix + String(next)
            try db.execute(sql: "UPDATE build SET composeId = ? WHERE id = ?", arguments: [composeID, id])
            return composeID
        }
    }

    /// Replaces the build's package and repository rows.
    public func recordPackages(_ id: Int64, _ set: ResolvedSet) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM buildPackage WHERE buildId = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM buildRepo WHERE buildId = ?", arguments: [id])
            for package in set.packages {
                try BuildPackage(buildId: id, name: package.name, epoch: package.epoch, version: package.version,
                                 release: package.release, arch: package.arch, repo: package.repository,
                                 downloadSize: Int64(package.downloadSize), installSize: Int64(package.installSize),
                                 checksum: package.checksum.map { "\(package.checksumType ?? "sha256"):\($0)" }).insert(db)
            }
            for repo in set.repos {
                try BuildRepo(buildId: id, repoId: repo.id, revision: repo.revision).insert(db)
            }
            try db.execute(sql: "UPDATE build SET packages = ? WHERE id = ?",
                           arguments: [String(decoding: try JSONEncoder().encode(set.nevras), as: UTF8.self), id])
        }
    }

    /// Sets one stage's log (librpm's messages and scriptlet output for install).
    public func setLog(_ id: Int64, stage: Stage, text: String) throws {
        try writer.write { db in
            try BuildLog(buildId: id, stage: stage.rawValue, text: text).save(db)
        }
    }

    /// Keeps what the build was made from, under `name` (see `BuildInput`).
    public func setInput(_ id: Int64, _ name: String, text: String) throws {
        try writer.write { db in
            try BuildInput(buildId: id, name: name, text: text).save(db)
        }
    }

    public func inputs(of id: Int64) throws -> [BuildInput] {
        try writer.read { db in
            try BuildInput.filter(Column("buildId") == id).order(Column("name")).fetchAll(db)
        }
    }

    /// Adds lines to one stage's log.
    public func appendLog(_ id: Int64, stage: Stage, text: String) throws {
        try writer.write { db in
            let existing = try BuildLog.fetchOne(db, key: ["buildId": id, "stage": stage.rawValue])?.text
            try BuildLog(buildId: id, stage: stage.rawValue, text: existing.map { $0 + "\n" + text } ?? text).save(db)
        }
    }

    /// Drops the details of builds whose commits were pruned (packages,
    /// repos, deltas, logs), keeping each build row as its summary.
    public func pruneDetails(of ids: [Int64], at date: Date = Date()) throws {
        guard !ids.isEmpty else { return }
        try writer.write { db in
            for table in ["buildPackage", "buildRepo", "buildDelta", "buildLog", "buildEvent"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE buildId IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                               arguments: StatementArguments(ids))
            }
            try db.execute(sql: "UPDATE build SET prunedAt = ?, packages = '[]' WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                           arguments: StatementArguments([date as (any DatabaseValueConvertible)] + ids.map { $0 as (any DatabaseValueConvertible) }))
        }
    }

    /// Records the build's static deltas; one already recorded (a publish
    /// finished again) is replaced, not repeated.
    public func recordDeltas(_ id: Int64, _ deltas: [Publisher.PublishedDelta]) throws {
        try writer.write { db in
            for delta in deltas {
                try db.execute(sql: "DELETE FROM buildDelta WHERE buildId = ? AND toCommit = ? AND fromCommit IS ?",
                               arguments: [id, delta.to, delta.from])
                try db.execute(sql: "INSERT INTO buildDelta (buildId, fromCommit, toCommit, size, parts) VALUES (?, ?, ?, ?, ?)",
                               arguments: [id, delta.from, delta.to, Int64(delta.size), delta.parts])
            }
        }
    }

    /// The static deltas a build published: (from, to, size, parts).
    public func deltas(of id: Int64) throws -> [(from: String?, to: String, size: Int64, parts: Int)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT fromCommit, toCommit, size, parts FROM buildDelta WHERE buildId = ? ORDER BY rowid",
                             arguments: [id]).map { ($0["fromCommit"], $0["toCommit"], $0["size"], $0["parts"]) }
        }
    }

    // MARK: Reading

    public func build(_ id: Int64) throws -> BuildRecord? {
        try writer.read { try BuildRecord.fetchOne($0, key: id) }
    }

    public func builds(ref: String? = nil, status: BuildRecord.Status? = nil) throws -> [BuildRecord] {
        try writer.read { db in
            var request = BuildRecord.order(Column("id").desc)
            if let ref { request = request.filter(Column("ref") == ref) }
            if let status { request = request.filter(Column("status") == status.rawValue) }
            return try request.fetchAll(db)
        }
    }

    /// The builds that still name a scratch folder.
    public func buildsWithScratchFolders() throws -> [BuildRecord] {
        try writer.read { try BuildRecord.filter(Column("scratchFolder") != nil).fetchAll($0) }
    }

    /// Every ref a build was recorded for.
    public func refs() throws -> [String] {
        try writer.read { try String.fetchAll($0, sql: "SELECT DISTINCT ref FROM build WHERE ref IS NOT NULL ORDER BY ref") }
    }

    /// The build that produced a commit, if one did.
    public func build(commit: String) throws -> BuildRecord? {
        try writer.read { try BuildRecord.filter(Column("commit") == commit).order(Column("id").desc).fetchOne($0) }
    }

    public func packages(of id: Int64) throws -> [BuildPackage] {
        try writer.read { db in
            try BuildPackage.filter(Column("buildId") == id).order(Column("name"), Column("arch")).fetchAll(db)
        }
    }

    public func repos(of id: Int64) throws -> [BuildRepo] {
        try writer.read { try BuildRepo.filter(Column("buildId") == id).order(Column("repoId")).fetchAll($0) }
    }

    public func logs(of id: Int64) throws -> [BuildLog] {
        try writer.read { db in
            let order = Stage.allCases.map(\.rawValue)
            return try BuildLog.filter(Column("buildId") == id).fetchAll(db)
                .sorted { (order.firstIndex(of: $0.stage) ?? 99) < (order.firstIndex(of: $1.stage) ?? 99) }
        }
    }

    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}

/// The build records as the compose server reads and settles them: one
/// protocol, so that a store for several builder hosts (PostgreSQL) can
/// stand where the SQLite `BuildStore` stands.
public protocol BuildRecords: Sendable {
    func build(_ id: Int64) throws -> BuildRecord?
    func build(commit: String) throws -> BuildRecord?
    func packages(of id: Int64) throws -> [BuildPackage]
    func deltas(of id: Int64) throws -> [(from: String?, to: String, size: Int64, parts: Int)]
    func inputs(of id: Int64) throws -> [BuildInput]
    func update(_ id: Int64, _ change: @escaping @Sendable (inout BuildRecord) -> Void) throws
    @discardableResult
    func update(_ id: Int64, if expected: @escaping @Sendable (BuildRecord) -> Bool,
                _ change: @escaping @Sendable (inout BuildRecord) -> Void) throws -> Bool
    /// Settles the builds of composes that died (`BuildReconciler`) against
    /// the repository at `repo`; what changed, one line each.
    func reconcile(repo: URL) throws -> [String]
}

extension BuildStore: BuildRecords {
    public func reconcile(repo: URL) throws -> [String] {
        try RepositoryReconciliation.run(store: self, repo: repo)
    }
}
