import Foundation

/// What to build: the treefile and everything that changes the tree or its
/// commit. A value that can be written down (the server hands it to a
/// child process), compared and hashed; where and how the compose runs is
/// `ComposeEnvironment`, how the result is published `PublishPolicy`.
public struct ComposeRequest: Codable, Hashable, Sendable {
    /// How far to go.
    public enum Mode: String, Codable, Sendable {
        /// Resolve, install, commit, publish, record.
        case compose
        /// Resolve and stop (`--dry-run`): nothing installed, committed or recorded.
        case dryRun
        /// Resolve and fill the cache (`--download-only`), then stop.
        case downloadOnly
    }

    /// The treefile's path (YAML or JSON).
    public var treefile: String
    public var mode = Mode.compose
    public var basearch = Resolver.hostArchitecture
    /// Treefile variables from the command line; they win over the treefile's.
    public var variables: [String: JSONValue] = [:]
    /// The commit's version; automatic (the treefile's rule, or `YYYYMMDD.N`) when nil.
    public var version: String?
    /// The version automatic versioning counts from (default: the ref head's).
    public var previousVersion: String?
    public var parent = Committer.ParentChoice.refHead
    /// Commit metadata from the command line (over the treefile's `add-commit-metadata`).
    public var addMetadata: [String: JSONValue] = [:]
    /// rpm-ostree lockfiles (`--ex-lockfile`), merged in order.
    public var lockfiles: [String] = []
    /// With lockfiles: install nothing that is not locked.
    public var lockfileStrict = false
    /// Compose even when the inputs equal those of the ref's head (`--force-nocache`).
    public var force = false
    /// Files the compose writes for scripts.
    public var outputs = ComposeOutputs()

    public init(treefile: String) {
        self.treefile = treefile
    }

    public var treefileURL: URL { URL(fileURLWithPath: treefile).standardizedFileURL }
    var lockfileURLs: [URL] { lockfiles.map { URL(fileURLWithPath: $0) } }
}

/// Files a compose writes besides the commit, for the scripts that run it.
public struct ComposeOutputs: Codable, Hashable, Sendable {
    /// The resolved set as an rpm-ostree lockfile (dry runs too).
    public var lockfile: String?
    /// The new commit's checksum; the ref then stays where it is.
    public var commitID: String?
    /// rpm-ostree's compose JSON for the new commit.
    public var composeJSON: String?
    /// Touched when a new commit was made.
    public var touchIfChanged: String?

    public init() {}
}

/// Where and how a compose runs: the repository and scratch space, the
/// caches, the scriptlet sandbox, the build row to adopt. None of it changes
/// the tree.
public struct ComposeEnvironment: Sendable {
    /// The OSTree repository (created as `archive` when missing); the build
    /// history lives beside it in `<repo>.builds.sqlite`.
    public var repo: URL
    /// Scratch space; when nil a fresh folder, in memory or in /var/tmp as
    /// `scratchPlacement` says (removed after a successful or cancelled
    /// compose, kept after a failed one: on disk until removed, in memory
    /// until the next compose of the repository starts).
    public var workdir: URL?
    public var scratchPlacement = ScratchPlacement.auto
    /// Remote repositories and parsed metadata (`.solv`) are cached here.
    public var cachedir: URL?
    /// Lay roots out from the package cache under `cachedir`
    /// (`--ex-package-cache`) rather than unpacking with librpm.
    public var packageCache = false
    /// Use only the cache for remote repositories: no network.
    public var cacheOnly = false
    /// Seconds per HTTP attempt.
    public var httpTimeout: TimeInterval = 30
    /// Whether scriptlets and postprocess scripts run under bubblewrap.
    public var sandbox = SandboxMode.auto
    /// Seconds a scriptlet may run before it is stopped and the compose fails.
    public var scriptletTimeout = Installer.defaultScriptletTimeout
    /// The treeforge executable, for the rpm child process.
    public var helperExecutable: URL
    /// A build row another process created as `queued` (`--build-id`):
    /// this compose runs as that build instead of inserting a row.
    public var buildID: Int64?
    /// What a build row says started it (`cli`, `server`, `schedule:NAME`).
    public var trigger = "cli"
    /// Wait for another compose of the same ref (true) or fail at once (`--no-wait`).
    public var waitForRef = true
    /// Who writes content objects into an archive repository (the tree is the same).
    public var commitWriter = CommitWriter.parallel
    /// Threads for the parallel writer; nil: one per core.
    public var commitThreads: Int?

    public init(repo: URL, helperExecutable: URL) {
        self.repo = repo
        self.helperExecutable = helperExecutable
    }

    var access: RepositoryAccess {
        RepositoryAccess(cachedir: cachedir, cacheOnly: cacheOnly, timeout: httpTimeout)
    }
}
