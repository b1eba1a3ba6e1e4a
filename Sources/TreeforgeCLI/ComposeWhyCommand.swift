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
            var request = ComposeRequest(treefile: treefile)
            try treefileOptions.apply(to: &request)
            var environment = ComposeEnvironment.forThisExecutable(repo: ".")
            repositoryOptions.apply(to: &environment)
            let loaded = try TreefileLoader(basearch: request.basearch, variables: request.variables).load(request.treefileURL)
            TerminalOutput.printWarnings(loaded.warnings)
            let resolver = Resolver(basearch: request.basearch,
                                    access: RepositoryAccess(cachedir: environment.cachedir, cacheOnly: environment.cacheOnly,
                                                             timeout: environment.httpTimeout))
            print(try resolver.explain(loaded, package: package).joined(separator: "\n"))
        }
    }
}
