import ArgumentParser
import Foundation
import TreeforgeCore

struct ComposeTreeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tree",
        abstract: "Resolve, install and commit a treefile into an OSTree repository.",
        discussion: """
            Exit status: 0 committed (or printed, planned, downloaded); 1 failed; 3 no changes (the inputs are those \
            of the ref's head; nothing committed); 130 or 143 cancelled by SIGINT or SIGTERM (128 + the signal; \
            nothing committed, or the commit left to publish by the next compose or `treeforge publish`).
            """)

    @Argument(help: "The treefile (YAML or JSON).")
    var treefile: String

    @Option(help: "The OSTree repository; created as an archive repository when missing.")
    var repo: String = "repo"

    @Option(help: "Scratch folder for the root and logs (default: a fresh folder in memory when the tree fits, else in /var/tmp; removed unless the compose fails).")
    var workdir: String?

    @Flag(inversion: .prefixedNo, help: "Make the scratch folder in memory (/dev/shm), or on disk (default: in memory when the tree fits with room to spare).")
    var workdirTmpfs: Bool?

    @Option(help: "The commit's version (default: YYYYMMDD.N, counting up from the ref's previous version).")
    var version: String?

    @Flag(help: "Print the resolved transaction and stop.")
    var dryRun = false

    @Flag(help: "With --dry-run: print the transaction as JSON.")
    var json = false

    @Flag(help: "Compose even when the inputs are those of the ref's head commit.")
    var forceNocache = false

    @Option(help: ArgumentHelp("Progress on stderr (terminal, plain), or every event as a JSON line on stdout (json; docs/events.md).",
                               valueName: "auto|terminal|plain|json"))
    var progress: ProgressMode = .auto

    @Option(help: ArgumentHelp("Run as this build, which another process (the server) created as queued.", valueName: "N"))
    var buildId: Int64?

    @Flag(help: "Fail at once, naming the holder, when another compose holds the ref (default: wait for it).")
    var noWait = false

    /// The server's pid: a compose it started dies with it (SIGKILL), and its
    /// build is then reconciled `interrupted`, never left `running`.
    @Option(help: .hidden) var serverPid: Int32?

    @Option(help: ArgumentHelp("Touch this file when a new commit is made.", valueName: "FILE"))
    var touchIfChanged: String?

    @Option(help: ArgumentHelp("Write the new commit's checksum here and do not move the ref.", valueName: "FILE"))
    var writeCommitidTo: String?

    @Option(help: ArgumentHelp("Write rpm-ostree's compose JSON (commit, checksums, object counts, package diff) here.", valueName: "FILE"))
    var writeComposejsonTo: String?

    @OptionGroup(title: "Commit") var commitOptions: CommitOptions

    @OptionGroup(title: "Publishing") var publishOptions: PublishOptions

    @Flag(help: "Print the flattened treefile as JSON (rpm-ostree's --print-only) and stop.")
    var printOnly = false

    @Flag(help: "With --print-only: sorted keys and no whitespace (the form the input hash uses).")
    var canonical = false

    @OptionGroup(title: "Treefile") var treefileOptions: TreefileOptions
    @OptionGroup(title: "Repositories") var repositoryOptions: RepositoryOptions
    @OptionGroup(title: "Lockfiles") var lockfileOptions: LockfileOptions
    @OptionGroup(title: "Scriptlets") var scriptletOptions: ScriptletOptions

    func validate() throws {
        if buildId != nil && (dryRun || repositoryOptions.downloadOnly || printOnly) {
            throw ValidationError("--build-id runs a queued build as a compose; it cannot go with --dry-run, --download-only or --print-only")
        }
    }

    func run() throws {
        if let serverPid, !ComposeChildLifetime.dieWith(parent: serverPid) {
            throw ValidationError("--server-pid \(serverPid): that process is gone")
        }
        try TerminalOutput.reportingErrors(progress: progress) { output in
            if printOnly { return try printTreefile() }
            var request = ComposeRequest(treefile: treefile)
            request.mode = dryRun ? .dryRun : repositoryOptions.downloadOnly ? .downloadOnly : .compose
            request.version = version
            request.force = forceNocache
            request.outputs.touchIfChanged = touchIfChanged
            request.outputs.commitID = writeCommitidTo
            request.outputs.composeJSON = writeComposejsonTo
            try commitOptions.apply(to: &request)
            try treefileOptions.apply(to: &request)
            lockfileOptions.apply(to: &request)

            var environment = ComposeEnvironment.forThisExecutable(repo: repo)
            environment.workdir = workdir.map { URL(fileURLWithPath: $0) }
            environment.scratchPlacement = workdirTmpfs.map { $0 ? .tmpfs : .disk } ?? .auto
            environment.buildID = buildId
            environment.waitForRef = !noWait
            repositoryOptions.apply(to: &environment)
            scriptletOptions.apply(to: &environment)
            commitOptions.apply(to: &environment)

            let cancellation = Cancellation()
            SignalCancellation.install(cancellation)
            let compose = Compose(request: request, environment: environment, policy: publishOptions.policy,
                                  events: output.events, cancellation: cancellation)
            switch try compose.run() {
            case .planned(let plan) where output.isJSON:
                _ = plan
            case .planned(let plan) where json:
                print(try TransactionJSON.encode(plan))
            case .planned(let plan):
                output.printTransaction(treefile: plan.treefile, set: plan.packages)
            case .downloaded(let plan):
                output.say("Downloaded \(plan.packages.packages.count) packages for \(plan.treefile.ref) into the cache")
            case .committed(let summary):
                output.printSummary(summary)
            case .unchanged(let summary):
                output.say("No changes: the inputs of \(summary.ref) are those of its head \(summary.commit) (input hash \(summary.inputHash)); nothing committed. --force-nocache composes anyway.")
                throw ExitCode(ComposeResult.unchangedExitStatus)
            case .cancelled(let result, let stage):
                let left = result.commit.map { "; its commit \($0) is on the ref, left to publish by the next compose or `treeforge publish`" }
                    ?? "; nothing was committed"
                FileHandle.standardError.write(Data("cancelled: \(cancellation.reason ?? "cancelled") during \(stage)\(left)\n".utf8))
                throw ExitCode(result.exitStatus)
            }
        }
    }

    private func printTreefile() throws {
        let loader = TreefileLoader(basearch: treefileOptions.arch ?? Resolver.hostArchitecture,
                                    variables: try TreefileVariable.parse(treefileOptions.variables))
        let treefile = try loader.load(URL(fileURLWithPath: treefile))
        if !lockfileOptions.lockfiles.isEmpty { _ = try Lockfile.load(lockfileOptions.lockfiles.map { URL(fileURLWithPath: $0) }) }
        // On stderr whatever --progress says: stdout is the JSON alone.
        TerminalOutput.printWarnings(treefile.warnings)
        print(canonical ? treefile.config.canonicalJSON : treefile.printed)
    }
}

enum SelfExecutable {
    /// This executable, for spawning treeforge's own child processes.
    static var url: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    }
}

extension ComposeEnvironment {
    /// The environment of a command of this executable (which is also the rpm child).
    static func forThisExecutable(repo: String) -> ComposeEnvironment {
        ComposeEnvironment(repo: URL(fileURLWithPath: repo), helperExecutable: SelfExecutable.url)
    }
}
