import Foundation
import Testing
import TestSupport

/// Runs `treeforge compose tree` as a release engineer would (the real
/// executable, as a child process) against a temporary repository.
struct ComposeHarness {
    let dir: TemporaryDirectory
    let repo: URL
    let ref = "fixture/x86_64/test"

    init(_ label: String = "compose") throws {
        dir = try TemporaryDirectory(label)
        repo = dir.path("repo")
    }

    var database: URL { dir.path("repo.builds.sqlite") }

    /// A treefile asking for `packages` from `repository` (default: the fixtures).
    func treefile(_ packages: [String], repository: URL? = nil, repoOptions: String = "gpgcheck=0", extra: String = "",
                  in folder: String = "tf") throws -> URL {
        try FixtureTreefile.write(packages: packages, ref: ref, repository: repository ?? Fixtures.repository(),
                                  repoOptions: repoOptions, extra: extra, in: dir.path(folder))
    }

    /// A compose; its scratch folder lives in the test's temporary folder
    /// (treeforge keeps a failed compose's workdir for inspection).
    /// `killedAfter`: seconds after which the compose is killed (exit 137),
    /// for a test whose failure would be a hang.
    func compose(_ treefile: URL, _ extra: [String] = [], environment: [String: String]? = nil,
                 killedAfter seconds: Int? = nil) throws -> Command.Result {
        let workdir = extra.contains("--workdir") ? [] : ["--workdir", dir.path("work-\(UUID().uuidString)").path]
        let limit = seconds.map { ["timeout", "-s", "KILL", String($0)] } ?? []
        return try Command.run(limit + [Fixtures.treeforgeExecutable.path, "compose", "tree", treefile.path, "--repo", repo.path]
                               + workdir + extra, environment: environment)
    }

    /// Every build row: id, status and commit, oldest first (sqlite3 CLI).
    func buildRows() throws -> [(id: Int, status: String, commit: String)] {
        try Command.check(["sqlite3", "-separator", "|", database.path, #"select id, status, coalesce("commit", '') from build order by id"#])
            .split(separator: "\n").map { line in
                let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                return (Int(fields[0])!, fields[1], fields[2])
            }
    }

    /// Composes and requires success; returns the commit.
    @discardableResult
    func composeOK(_ treefile: URL, _ extra: [String] = []) throws -> String {
        let result = try compose(treefile, extra)
        guard result.status == 0 else {
            throw FixtureError("compose failed (\(result.status)): \(result.stderr)")
        }
        return try #require(try Oracle.ostreeRev(repo, ref))
    }

    /// Commit objects in the repository (to check that none was added).
    func commitObjectCount() -> Int {
        let objects = repo.appendingPathComponent("objects")
        let paths = FileManager.default.enumerator(atPath: objects.path)?.allObjects as? [String] ?? []
        return paths.filter { $0.hasSuffix(".commit") }.count
    }

    /// "STATE PATH" lines for each file of `package`, as the stock `rpm`
    /// reads the committed tree's rpmdb (checked out into `folder`).
    func fileStates(_ package: String, checkout folder: String = "checkout") throws -> String {
        let checkout = dir.path(folder)
        try Oracle.ostree(repo, ["checkout", "-U", ref, checkout.path])
        return try Command.check(["rpm", "--root", checkout.path, "--dbpath", "/usr/share/rpm", "-q", "--qf",
                                  "[%{FILESTATES:fstate} %{FILENAMES}\n]", package])
    }

    /// The newest build row, through the sqlite3 CLI (an independent reader).
    func lastBuild() throws -> (status: String, error: String, packages: String) {
        let row = try Command.check(["sqlite3", "-separator", "\u{1F}", database.path,
                                     "select status, coalesce(error, ''), packages from build order by id desc limit 1"])
        let fields = row.trimmingCharacters(in: .newlines).components(separatedBy: "\u{1F}")
        return (fields[0], fields.count > 1 ? fields[1] : "", fields.count > 2 ? fields[2] : "")
    }

    /// Requires a failed compose: non-zero exit, the message naming the stage
    /// and the subject, no new commit, the ref unchanged, the build recorded
    /// as failed with its error.
    func expectFailure(_ treefile: URL, _ extra: [String] = [], stage: String, mentions: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let refBefore = try Oracle.ostreeRev(repo, ref)
        let commitsBefore = commitObjectCount()
        let result = try compose(treefile, extra)
        #expect(result.status != 0, sourceLocation: sourceLocation)
        // Progress lines for the stages that finished come first.
        let errorLine = result.stderr.split(separator: "\n").first { $0.hasPrefix("error: ") } ?? ""
        #expect(errorLine.hasPrefix("error: \(stage): "), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        for text in mentions {
            #expect(result.stderr.contains(text), "missing \(text) in: \(result.stderr)", sourceLocation: sourceLocation)
        }
        #expect(try Oracle.ostreeRev(repo, ref) == refBefore, sourceLocation: sourceLocation)
        #expect(commitObjectCount() == commitsBefore, sourceLocation: sourceLocation)
        let build = try lastBuild()
        #expect(build.status == "failed", sourceLocation: sourceLocation)
        #expect(build.error.hasPrefix("\(stage): "), sourceLocation: sourceLocation)
        for text in mentions {
            #expect(build.error.contains(text), "missing \(text) in recorded error", sourceLocation: sourceLocation)
        }
    }
}

/// The embedded demo (treefiles/demo), copied with its repository built.
enum DemoTree {
    static let ref = "treeforge/demo/x86_64/base"

    static func copy(into demo: URL) throws -> URL {
        try FileManager.default.copyItem(at: Fixtures.packageRoot.appendingPathComponent("treefiles/demo"), to: demo)
        try? FileManager.default.removeItem(at: demo.appendingPathComponent("rpms"))
        try Fixtures.buildRepository(specs: demo.appendingPathComponent("specs"), into: demo.appendingPathComponent("rpms"))
        return demo.appendingPathComponent("demo.yaml")
    }
}

/// A root holding only the fixtures' shell, installed by `compose install`
/// (unconfined), with `tmp-is-dir` so that a sandbox can mount its tmpfs on
/// /tmp (the default is a link into /sysroot): what sandbox and kernel-step
/// tests run commands in.
enum ShellRoot {
    static func install(into dir: TemporaryDirectory) throws -> URL {
        let treefile = try FixtureTreefile.write(packages: ["fixture-sh"], repository: Fixtures.repository(), extra: "tmp-is-dir: true",
                                                 in: dir.path("shell-root-treefile"))
        try Command.check([Fixtures.treeforgeExecutable.path, "compose", "install", treefile.path, dir.path("install").path, "--sandbox", "none"])
        return dir.path("install/rootfs")
    }
}
