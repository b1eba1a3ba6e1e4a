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

    @OptionGroup(title: "Treefile") var treefileOptions: TreefileOptions
    @OptionGroup(title: "Repositories") var repositoryOptions: RepositoryOptions
    @OptionGroup(title: "Scriptlets") var scriptletOptions: ScriptletOptions

    func run() throws {
        try TerminalOutput.reportingErrors { output in
            var options = ComposeOptions(treefile: treefile, repo: repo ?? ".")
            options.version = version
            try treefileOptions.apply(to: &options)
            repositoryOptions.apply(to: &options)
            scriptletOptions.apply(to: &options)
            let (plan, root) = try Compose(options: options, progress: output.progress).installRoot(into: URL(fileURLWithPath: destdir), previousFrom: repo.map { URL(fileURLWithPath: $0) })
            print("Installed \(plan.packages.packages.count) packages for \(plan.treefile.ref) into \(root.path)")
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

    @OptionGroup(title: "Treefile") var treefileOptions: TreefileOptions
    @OptionGroup(title: "Commit") var commitOptions: CommitOptions
    @OptionGroup(title: "Publishing") var publishOptions: PublishOptions

    func run() throws {
        try TerminalOutput.reportingErrors { output in
            var options = ComposeOptions(treefile: treefile, repo: repo)
            options.version = version
            try treefileOptions.apply(to: &options)
            try commitOptions.apply(to: &options)
            publishOptions.apply(to: &options)
            output.printSummary(try Compose(options: options, progress: output.progress).commitRoot(URL(fileURLWithPath: rootfs)))
        }
    }
}
