import ArgumentParser
import Foundation
import TreeforgeCore

struct ComposeTreeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tree",
        abstract: "Resolve, install and commit a treefile into an OSTree repository.")

    @Argument(help: "The treefile (YAML or JSON).")
    var treefile: String

    @Option(help: "The OSTree repository; created as an archive repository when missing.")
    var repo: String = "repo"

    @Option(help: "Scratch folder for the root and logs (default: a fresh folder in /var/tmp, removed on success).")
    var workdir: String?

    @Option(help: "Folder for caches that make the next compose faster (parsed repository metadata).")
    var cachedir: String?

    @Flag(help: "Print the resolved transaction and stop.")
    var dryRun = false

    @Option(help: "The commit's version (default: YYYYMMDD.N, counting up from the ref's previous version).")
    var version: String?

    func run() throws {
        var options = ComposeOptions(
            treefile: URL(fileURLWithPath: treefile),
            repo: URL(fileURLWithPath: repo),
            helperExecutable: SelfExecutable.url)
        options.workdir = workdir.map { URL(fileURLWithPath: $0) }
        options.cachedir = cachedir.map { URL(fileURLWithPath: $0) }
        options.dryRun = dryRun
        options.version = version
        let output = TerminalOutput()
        do {
            switch try Compose(options: options, progress: output.progress).run() {
            case .dryRun(let plan):
                output.printTransaction(treefile: plan.treefile, set: plan.packages)
            case .committed(let summary):
                output.printSummary(summary)
            }
        } catch let error as ComposeError {
            output.printError(error)
            throw ExitCode.failure
        }
    }
}

enum SelfExecutable {
    /// This executable, for spawning treeforge's own child processes.
    static var url: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    }
}
