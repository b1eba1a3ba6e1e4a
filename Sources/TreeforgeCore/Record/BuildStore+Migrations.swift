import GRDB

/// The build database's schema, as named migrations. They are append-only:
/// once one has landed it is never edited; a change is a new migration.
extension BuildStore {
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
        migrator.registerMigration("v2: compose ids, packages, repos, deltas, logs") { db in
            try db.execute(sql: """
                ALTER TABLE build ADD COLUMN composeId TEXT;
                ALTER TABLE build ADD COLUMN "trigger" TEXT NOT NULL DEFAULT 'cli';
                ALTER TABLE build ADD COLUMN inputHash TEXT;
                ALTER TABLE build ADD COLUMN parent TEXT;
                ALTER TABLE build ADD COLUMN pid INTEGER;
                CREATE UNIQUE INDEX build_composeId ON build(composeId);
                CREATE INDEX build_status ON build(status);
                CREATE INDEX build_commit ON build("commit");

                CREATE TABLE buildPackage (
                    buildId INTEGER NOT NULL REFERENCES build(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    epoch TEXT NOT NULL,
                    version TEXT NOT NULL,
                    release TEXT NOT NULL,
                    arch TEXT NOT NULL,
                    repo TEXT NOT NULL,
                    downloadSize INTEGER NOT NULL,
                    installSize INTEGER NOT NULL,
                    checksum TEXT,
                    PRIMARY KEY (buildId, name, arch, epoch, version, release)
                );
                CREATE TABLE buildRepo (
                    buildId INTEGER NOT NULL REFERENCES build(id) ON DELETE CASCADE,
                    repoId TEXT NOT NULL,
                    revision TEXT,
                    PRIMARY KEY (buildId, repoId)
                );
                CREATE TABLE buildDelta (
                    buildId INTEGER NOT NULL REFERENCES build(id) ON DELETE CASCADE,
                    fromCommit TEXT,
                    toCommit TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    parts INTEGER NOT NULL
                );
                CREATE TABLE buildLog (
                    buildId INTEGER NOT NULL REFERENCES build(id) ON DELETE CASCADE,
                    stage TEXT NOT NULL,
                    text TEXT NOT NULL,
                    PRIMARY KEY (buildId, stage)
                );
                """)
        }
        migrator.registerMigration("v3: pruned builds") { db in
            try db.execute(sql: "ALTER TABLE build ADD COLUMN prunedAt DATETIME")
        }
        migrator.registerMigration("v4: publication, stage inputs, scratch folders, process identities") { db in
            try db.execute(sql: """
                ALTER TABLE build ADD COLUMN publishedAt DATETIME;
                ALTER TABLE build ADD COLUMN stageInputs TEXT NOT NULL DEFAULT '{}';
                ALTER TABLE build ADD COLUMN scratchFolder TEXT;
                ALTER TABLE build ADD COLUMN process TEXT;
                UPDATE build SET publishedAt = finishedAt WHERE status = 'succeeded';
                """)
        }
        // The compose server's tables (`treeforge serve`), in the same
        // database as the builds they queue: one file, one transaction for a
        // submission and its build row.
        migrator.registerMigration("v5: server queue, events, schedules, audit") { db in
            try db.execute(sql: """
                CREATE TABLE job (
                    buildId INTEGER PRIMARY KEY REFERENCES build(id) ON DELETE CASCADE,
                    treefileName TEXT NOT NULL,
                    request TEXT NOT NULL,
                    submittedBy TEXT NOT NULL,
                    submittedAt DATETIME NOT NULL,
                    startedAt DATETIME,
                    heartbeatAt DATETIME,
                    cancelRequestedAt DATETIME,
                    requeueAtStart INTEGER NOT NULL DEFAULT 0,
                    requeuedAs INTEGER,
                    childOutput TEXT
                );
                CREATE INDEX job_requeue ON job(requeueAtStart);
                CREATE TABLE submissionKey (
                    key TEXT PRIMARY KEY,
                    buildId INTEGER NOT NULL REFERENCES build(id) ON DELETE CASCADE
                );
                CREATE TABLE buildEvent (
                    buildId INTEGER NOT NULL REFERENCES build(id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    line TEXT NOT NULL,
                    PRIMARY KEY (buildId, seq)
                );
                CREATE TABLE schedule (
                    name TEXT PRIMARY KEY,
                    treefileName TEXT NOT NULL,
                    cron TEXT NOT NULL,
                    timeZone TEXT NOT NULL DEFAULT 'UTC',
                    composeUnchanged INTEGER NOT NULL DEFAULT 0,
                    missedRuns TEXT NOT NULL DEFAULT 'run-once',
                    paused INTEGER NOT NULL DEFAULT 0,
                    origin TEXT NOT NULL DEFAULT 'api',
                    configPaused INTEGER,
                    nextRunAt DATETIME,
                    lastRunAt DATETIME,
                    lastBuildId INTEGER,
                    createdAt DATETIME NOT NULL,
                    updatedAt DATETIME NOT NULL
                );
                ALTER TABLE build ADD COLUMN pullCheck TEXT;
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    time DATETIME NOT NULL,
                    token TEXT,
                    action TEXT NOT NULL,
                    target TEXT,
                    result TEXT NOT NULL,
                    detail TEXT
                );
                CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """)
        }
        // What a build was made from, as text a release engineer reads back
        // (the flattened treefile, the lockfile of what was resolved), and
        // how big its tree is: kept when its commit is pruned, they say how
        // to make it again.
        migrator.registerMigration("v6: build inputs, tree size") { db in
            try db.execute(sql: """
                CREATE TABLE buildInput (
                    buildId INTEGER NOT NULL REFERENCES build(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    text TEXT NOT NULL,
                    PRIMARY KEY (buildId, name)
                );
                ALTER TABLE build ADD COLUMN treeSize INTEGER;
                ALTER TABLE build ADD COLUMN treeFiles INTEGER;
                """)
        }
        return migrator
    }
}
