import Foundation
import GRDB

/// One compose, as the build database keeps it.
public struct BuildRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "build"

    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Created by another process (the server) for a compose to adopt (`--build-id`).
        case queued
        case running
        /// The commit is on the ref, its deltas or summary not yet written:
        /// mirrors do not see it yet. Stays so after a failed, cancelled or
        /// killed publish, until a later compose of the ref or `treeforge
        /// publish` finishes it (then `succeeded`).
        case publishing
        /// Committed and published.
        case succeeded
        case failed, unchanged, cancelled
        /// The compose process ended (killed, crashed, power lost) without finishing.
        case interrupted

        /// No process works on the build any more.
        public var isFinished: Bool { ![.queued, .running, .publishing].contains(self) }
    }

    public var id: Int64?
    /// pungi's style: `<name>-<version>-<YYYYMMDD>.<n>`, set once the treefile is read.
    public var composeId: String?
    public var ref: String?
    public var version: String?
    public var status: Status
    /// What started it: `cli`, or `reconciled` for a commit found on a ref unrecorded.
    public var trigger: String = "cli"
    public var treefilePath: String
    public var treefileSHA256: String?
    /// SHA-256 over everything that went into the tree (see `InputHash`).
    public var inputHash: String?
    public var commit: String?
    public var parent: String?
    public var startedAt: Date
    public var finishedAt: Date?
    /// The NEVRAs installed, sorted; stored as a JSON array.
    public var packages: [String] = []
    /// Seconds per stage; stored as a JSON object.
    public var stageSeconds: [String: Double] = [:]
    public var failedStage: String?
    public var error: String?
    /// The compose process, while it runs (to tell a live compose from a dead one).
    public var pid: Int32?
    /// Which process `pid` named (`ProcessIdentity`): pids are reused.
    public var process: String?
    /// When `treeforge prune` removed its commit: the row stays as a summary,
    /// its packages, repos and logs are gone.
    public var prunedAt: Date?
    /// When the commit was published (deltas, summary, signature written).
    public var publishedAt: Date?
    /// What the pull check found (`--verify-pull`): the client's pull, or why it failed.
    public var pullCheck: String?
    /// Each stage's id: SHA-256 of what it worked from (see `ComposeStage.identity`).
    public var stageInputs: [String: String] = [:]
    /// The scratch folder treeforge made for the compose while it exists (a
    /// `--workdir` given is the user's and never recorded): a killed
    /// compose's is removed when its build is reconciled; a failed one's is
    /// kept for inspection.
    public var scratchFolder: String?
    /// Bytes of the committed tree's files (each hardlinked file once), and
    /// how many files and symlinks it has.
    public var treeSize: Int64?
    public var treeFiles: Int64?

    public init(treefilePath: String, status: Status, startedAt: Date) {
        self.treefilePath = treefilePath
        self.status = status
        self.startedAt = startedAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// One package of a build.
public struct BuildPackage: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "buildPackage"
    public var buildId: Int64
    public var name: String
    public var epoch: String
    public var version: String
    public var release: String
    public var arch: String
    public var repo: String
    public var downloadSize: Int64
    public var installSize: Int64
    public var checksum: String?

    public var evr: String { epoch.isEmpty || epoch == "0" ? "\(version)-\(release)" : "\(epoch):\(version)-\(release)" }
    public var nevra: String { "\(name)-\(evr).\(arch)" }
}

public struct BuildRepo: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "buildRepo"
    public var buildId: Int64
    public var repoId: String
    public var revision: String?
}

/// What a build was made from, as text: `treefile` (flattened, as
/// `--print-only` prints it) and `lockfile` (rpm-ostree's format, of what
/// was resolved).
public struct BuildInput: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "buildInput"
    public static let treefile = "treefile"
    public static let lockfile = "lockfile"
    public var buildId: Int64
    public var name: String
    public var text: String
}

public struct BuildLog: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "buildLog"
    public var buildId: Int64
    public var stage: String
    public var text: String
}
