import ArgumentParser

@main
struct Treeforge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "treeforge",
        abstract: "Compose OSTree-based operating system trees from rpm-ostree treefiles.",
        subcommands: [ComposeCommand.self, BuildsCommand.self, PublishCommand.self, PruneCommand.self, ServeCommand.self,
                      InternalCommand.self])
}

struct ComposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose",
        abstract: "Build OS trees.",
        subcommands: [ComposeTreeCommand.self, ComposeInstallCommand.self, ComposeCommitCommand.self, ComposeWhyCommand.self])
}

/// Entry points for treeforge's own child processes; not for people.
struct InternalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "internal",
        shouldDisplay: false,
        subcommands: [RPMTransactionCommand.self, ImportPackagesCommand.self])
}
