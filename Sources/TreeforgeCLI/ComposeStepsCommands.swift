import ArgumentParser
import Foundation
import TreeforgeCore

/// `treeforge compose install TREEFILE DESTDIR`: resolve and install into DESTDIR/rootfs.
struct ComposeInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Resolve and install a treefile's packages into DESTDIR/rootfs (no commit).")

    @Argument(help: "The treefile (YAML or JSON).") var treefile: String
    @Argument(help: "The folder to install into (the root is DESTDIR/rootfs).") var destdir: String
    @Option(help: "The OSTree repository the tree will be committed to: its ref head seeds users and groups (preserve-passwd) and is what the version counts from.")
    var repo: String?
    @Option(help: "The version the commit will get (written into os-release by mutate-os-release); automatic when omitted.")
    var version: String?
    @Option(help: ArgumentHelp("Progress on stderr (terminal, plain), or every event as a JSON line on stdout (json).", valueName: "auto|terminal|plain|json"))
    var progress: ProgressMode = .auto

    @OptionGroup(title: "Treefile") var treefileOptions: TreefileOptions
    @OptionGroup(title: "Repositories") var repositoryOptions: RepositoryOptions
    @OptionGroup(title: "Scriptlets") var scriptletOptions: ScriptletOptions

    func validate() throws {
        // The root is handed over to be changed at will: its files must not be the cache's objects.
        if repositoryOptions.packageCache {
            throw ValidationError("--ex-package-cache is for compose tree: compose install hands its root over, and that root must not share files with the cache")
        }
    }

    func run() throws {
        try TerminalOutput.reportingErrors(progress: progress) { output in
            var request = ComposeRequest(treefile: treefile)
            request.version = version
            try treefileOptions.apply(to: &request)
            var environment = ComposeEnvironment.forThisExecutable(repo: repo ?? ".")
            repositoryOptions.apply(to: &environment)
            scriptletOptions.apply(to: &environment)
            let cancellation = Cancellation()
            SignalCancellation.install(cancellation)
            let compose = Compose(request: request, environment: environment, events: output.events, cancellation: cancellation)
            let (plan, root) = try compose.installRoot(into: URL(fileURLWithPath: destdir), previousFrom: repo.map { URL(fileURLWithPath: $0) })
            output.say("Installed \(plan.packages.packages.count) packages for \(plan.treefile.ref) into \(root.path)")
        }
    }
}

/// `treeforge compose commit TREEFILE ROOTFS`: commit an installed root.
struct ComposeCommitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Commit an installed root with a treefile's ref and metadata, then publish and record it.")

    @Argument(help: "The treefile (YAML or JSON).") var treefile: String
    @Argument(help: "The installed root (as `compose install` leaves it).") var rootfs: String

    @Option(help: "The OSTree repository; created as an archive repository when missing.") var repo: String = "repo"
    @Option(help: "The commit's version.") var version: String?
    @Option(help: ArgumentHelp("Progress on stderr (terminal, plain), or every event as a JSON line on stdout (json).", valueName: "auto|terminal|plain|json"))
    var progress: ProgressMode = .auto
    @Flag(help: "Fail at once when another compose holds the ref (default: wait for it).") var noWait = false

    @OptionGroup(title: "Treefile") var treefileOptions: TreefileOptions
    @OptionGroup(title: "Commit") var commitOptions: CommitOptions
    @OptionGroup(title: "Publishing") var publishOptions: PublishOptions

    func run() throws {
        try TerminalOutput.reportingErrors(progress: progress) { output in
            var request = ComposeRequest(treefile: treefile)
            request.version = version
            try treefileOptions.apply(to: &request)
            try commitOptions.apply(to: &request)
            var environment = ComposeEnvironment.forThisExecutable(repo: repo)
            environment.trigger = "compose-commit"
            commitOptions.apply(to: &environment)
            environment.waitForRef = !noWait
            let cancellation = Cancellation()
            SignalCancellation.install(cancellation)
            let compose = Compose(request: request, environment: environment, policy: publishOptions.policy,
                                  events: output.events, cancellation: cancellation)
            output.printSummary(try compose.commitRoot(URL(fileURLWithPath: rootfs)))
        }
    }
}
