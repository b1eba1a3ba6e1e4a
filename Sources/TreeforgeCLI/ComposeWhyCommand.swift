import ArgumentParser
import Foundation
import TreeforgeCore

/// `treeforge compose why TREEFILE PACKAGE`: the chain of requirements that
/// puts a package into the tree.
struct ComposeWhyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why",
        abstract: "Explain why a package is in a treefile's package set.")

    @Argument(help: "The treefile (YAML or JSON).")
    var treefile: String

    @Argument(help: "A package name or NEVRA.")
    var package: String

    @OptionGroup(title: "Treefile") var treefileOptions: TreefileOptions
    @OptionGroup(title: "Repositories") var repositoryOptions: RepositoryOptions

    func run() throws {
        try TerminalOutput.reportingErrors { _ in
            var options = ComposeOptions(treefile: treefile, repo: ".")
            try treefileOptions.apply(to: &options)
            repositoryOptions.apply(to: &options)
            let loaded = try TreefileLoader(basearch: options.basearch, variables: options.variables).load(options.treefile)
            let resolver = Resolver(basearch: options.basearch,
                                    access: RepositoryAccess(cachedir: options.cachedir, cacheOnly: options.cacheOnly,
                                                             timeout: options.httpTimeout))
            print(try resolver.explain(loaded, package: package).joined(separator: "\n"))
        }
    }
}
