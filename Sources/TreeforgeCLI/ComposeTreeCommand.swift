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

    @Flag(help: "Print the flattened treefile as JSON (rpm-ostree's --print-only) and stop.")
    var printOnly = false

    @Flag(help: "With --print-only: sorted keys and no whitespace (the form the input hash uses).")
    var canonical = false

    @Option(help: "The base architecture to flatten and resolve for (default: this machine's).")
    var arch: String?

    @Option(name: .customLong("var"), help: ArgumentHelp("Set a treefile variable (wins over the treefile's).", valueName: "NAME=VALUE"))
    var variables: [String] = []

    @Option(name: .customLong("ex-lockfile"), help: ArgumentHelp("An rpm-ostree lockfile (repeatable; later files win).", valueName: "FILE"))
    var lockfiles: [String] = []

    @Option(help: "The commit's version (default: YYYYMMDD.N, counting up from the ref's previous version).")
    var version: String?

    func run() throws {
        let variables = try TreefileVariable.parse(self.variables)
        let output = TerminalOutput()
        if printOnly {
            do {
                let loader = TreefileLoader(basearch: arch ?? Resolver.hostArchitecture, variables: variables)
                let treefile = try loader.load(URL(fileURLWithPath: treefile))
                if !lockfiles.isEmpty { _ = try Lockfile.load(lockfiles.map { URL(fileURLWithPath: $0) }) }
                print(canonical ? treefile.config.canonicalJSON : treefile.printed)
            } catch let error as ComposeError {
                output.printError(error)
                throw ExitCode.failure
            }
            return
        }
        var options = ComposeOptions(
            treefile: URL(fileURLWithPath: treefile),
            repo: URL(fileURLWithPath: repo),
            helperExecutable: SelfExecutable.url)
        options.workdir = workdir.map { URL(fileURLWithPath: $0) }
        options.cachedir = cachedir.map { URL(fileURLWithPath: $0) }
        options.dryRun = dryRun
        options.version = version
        options.variables = variables
        options.lockfiles = lockfiles.map { URL(fileURLWithPath: $0) }
        if let arch { options.basearch = arch }
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

/// `--var NAME=VALUE`: `true`/`false` are booleans, digits an unsigned
/// integer, anything else a string (as a treefile's `variables` would read).
enum TreefileVariable {
    static func parse(_ arguments: [String]) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for argument in arguments {
            guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex else {
                throw ValidationError("--var expects NAME=VALUE, not \(argument)")
            }
            let name = String(argument[..<eq])
            let text = String(argument[argument.index(after: eq)...])
            guard name != "basearch", name != "releasever" else {
                throw ValidationError("--var cannot set the reserved variable \(name)\(name == "basearch" ? " (use --arch)" : "")")
            }
            switch text {
            case "true": out[name] = .bool(true)
            case "false": out[name] = .bool(false)
            case _ where !text.isEmpty && text.allSatisfy(\.isNumber): out[name] = UInt64(text).map(JSONValue.uint) ?? .string(text)
            default: out[name] = .string(text)
            }
        }
        return out
    }
}
