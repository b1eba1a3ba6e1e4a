import ArgumentParser
import Foundation
import TreeforgeCore

struct ComposeTreeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tree",
        abstract: "Resolve, install and commit a treefile into an OSTree repository.",
        discussion: "Exit status: 0 committed (or printed), 1 failed, 3 no changes (the inputs are those of the ref's head; nothing committed).")

    @Argument(help: "The treefile (YAML or JSON).")
    var treefile: String

    @Option(help: "The OSTree repository; created as an archive repository when missing.")
    var repo: String = "repo"

    @Option(help: "Scratch folder for the root and logs (default: a fresh folder in /var/tmp, removed on success).")
    var workdir: String?

    @Option(help: "The commit's version (default: YYYYMMDD.N, counting up from the ref's previous version).")
    var version: String?

    @Flag(help: "Print the resolved transaction and stop.")
    var dryRun = false

    @Flag(help: "With --dry-run: print the transaction as JSON.")
    var json = false

    @Flag(help: "Compose even when the inputs are those of the ref's head commit.")
    var forceNocache = false

    @Option(help: ArgumentHelp("Touch this file when a new commit is made.", valueName: "FILE"))
    var touchIfChanged: String?

    @Option(help: ArgumentHelp("Write the new commit's checksum here and do not move the ref.", valueName: "FILE"))
    var writeCommitidTo: String?

    @Option(help: ArgumentHelp("Write rpm-ostree's compose JSON (commit, checksums, object counts, package diff) here.", valueName: "FILE"))
    var writeComposejsonTo: String?

    @OptionGroup(title: "Commit") var commitOptions: CommitOptions

    @OptionGroup(title: "Publishing") var publishOptions: PublishOptions

    /// The exit status of a compose whose inputs had not changed (nothing committed).
    static let noChangesExitStatus: Int32 = 3

    @Flag(help: "Print the flattened treefile as JSON (rpm-ostree's --print-only) and stop.")
    var printOnly = false

    @Flag(help: "With --print-only: sorted keys and no whitespace (the form the input hash uses).")
    var canonical = false

    @OptionGroup(title: "Treefile") var treefileOptions: TreefileOptions
    @OptionGroup(title: "Repositories") var repositoryOptions: RepositoryOptions
    @OptionGroup(title: "Lockfiles") var lockfileOptions: LockfileOptions
    @OptionGroup(title: "Scriptlets") var scriptletOptions: ScriptletOptions

    func run() throws {
        try TerminalOutput.reportingErrors { output in
            if printOnly { return try printTreefile() }
            var options = ComposeOptions(treefile: treefile, repo: repo)
            options.workdir = workdir.map { URL(fileURLWithPath: $0) }
            options.dryRun = dryRun
            options.version = version
            options.forceNocache = forceNocache
            try commitOptions.apply(to: &options)
            publishOptions.apply(to: &options)
            options.touchIfChanged = touchIfChanged.map { URL(fileURLWithPath: $0) }
            options.writeCommitIDTo = writeCommitidTo.map { URL(fileURLWithPath: $0) }
            options.writeComposeJSONTo = writeComposejsonTo.map { URL(fileURLWithPath: $0) }
            try treefileOptions.apply(to: &options)
            repositoryOptions.apply(to: &options)
            lockfileOptions.apply(to: &options)
            scriptletOptions.apply(to: &options)
            switch try Compose(options: options, progress: output.progress).run() {
            case .dryRun(let plan) where json:
                print(try TransactionJSON.encode(plan))
            case .dryRun(let plan):
                output.printTransaction(treefile: plan.treefile, set: plan.packages)
            case .downloaded(let plan):
                print("Downloaded \(plan.packages.packages.count) packages for \(plan.treefile.ref) into the cache")
            case .committed(let summary):
                output.printSummary(summary)
            case .unchanged(let summary):
                print("No changes: the inputs of \(summary.ref) are those of its head \(summary.commit) (input hash \(summary.inputHash)); nothing committed. --force-nocache composes anyway.")
                throw ExitCode(Self.noChangesExitStatus)
            }
        }
    }

    private func printTreefile() throws {
        let loader = TreefileLoader(basearch: treefileOptions.arch ?? Resolver.hostArchitecture,
                                    variables: try TreefileVariable.parse(treefileOptions.variables))
        let treefile = try loader.load(URL(fileURLWithPath: treefile))
        if !lockfileOptions.lockfiles.isEmpty { _ = try Lockfile.load(lockfileOptions.lockfiles.map { URL(fileURLWithPath: $0) }) }
        print(canonical ? treefile.config.canonicalJSON : treefile.printed)
    }
}

struct TreefileOptions: ParsableArguments {
    @Option(help: "The base architecture to flatten and resolve for (default: this machine's).")
    var arch: String?

    @Option(name: .customLong("var"), help: ArgumentHelp("Set a treefile variable (wins over the treefile's).", valueName: "NAME=VALUE"))
    var variables: [String] = []

    func apply(to options: inout ComposeOptions) throws {
        options.variables = try TreefileVariable.parse(variables)
        if let arch { options.basearch = arch }
    }
}

struct RepositoryOptions: ParsableArguments {
    @Option(help: "Cache for remote repositories and parsed metadata (default for remote ones: /var/cache/treeforge).")
    var cachedir: String?

    @Flag(help: "Use only the cache for remote repositories: no network.")
    var cacheOnly = false

    @Flag(help: "Fetch repository metadata and packages into the cache, then stop.")
    var downloadOnly = false

    @Option(help: "Seconds to wait for an HTTP answer before trying again (3 attempts).")
    var httpTimeout: Double = 30

    func apply(to options: inout ComposeOptions) {
        options.cachedir = cachedir.map { URL(fileURLWithPath: $0) }
        options.cacheOnly = cacheOnly
        options.downloadOnly = downloadOnly
        options.httpTimeout = httpTimeout
    }
}

struct LockfileOptions: ParsableArguments {
    @Option(name: .customLong("ex-lockfile"), help: ArgumentHelp("An rpm-ostree lockfile (repeatable; later files win).", valueName: "FILE"))
    var lockfiles: [String] = []

    @Flag(name: .customLong("ex-lockfile-strict"), help: "Install nothing that the lockfiles do not lock.")
    var strict = false

    @Option(name: .customLong("ex-write-lockfile-to"), help: ArgumentHelp("Write the resolved set as a lockfile (dry runs too).", valueName: "FILE"))
    var writeTo: String?

    func apply(to options: inout ComposeOptions) {
        options.lockfiles = lockfiles.map { URL(fileURLWithPath: $0) }
        options.lockfileStrict = strict
        options.writeLockfileTo = writeTo.map { URL(fileURLWithPath: $0) }
    }
}

enum SelfExecutable {
    /// This executable, for spawning treeforge's own child processes.
    static var url: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    }
}

extension ComposeOptions {
    /// Options for a command of this executable (which is also the rpm child).
    init(treefile: String, repo: String) {
        self.init(treefile: URL(fileURLWithPath: treefile), repo: URL(fileURLWithPath: repo), helperExecutable: SelfExecutable.url)
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

struct CommitOptions: ParsableArguments {
    @Option(name: .customLong("add-metadata-string"), help: ArgumentHelp("Commit metadata (repeatable; over add-commit-metadata).", valueName: "KEY=VALUE"))
    var metadataStrings: [String] = []

    @Option(name: .customLong("add-metadata-from-json"), help: ArgumentHelp("Commit metadata from a JSON object.", valueName: "FILE"))
    var metadataJSON: String?

    @Option(help: "The version automatic versioning counts from (default: the ref head's version).")
    var previousVersion: String?

    @Option(help: ArgumentHelp("The parent commit (a checksum or ref; default: the ref's head).", valueName: "REV"))
    var parent: String?

    @Flag(help: "Start a new history: the commit has no parent.")
    var noParent = false

    func apply(to options: inout ComposeOptions) throws {
        if noParent && parent != nil { throw ValidationError("--parent and --no-parent contradict each other") }
        options.parent = noParent ? .none : parent.map { .commit($0) } ?? .refHead
        options.previousVersion = previousVersion
        if let file = metadataJSON {
            let loaded = try TreefileLoader.readJSONObject(URL(fileURLWithPath: file))
            options.addMetadata.merge(loaded) { _, new in new }
        }
        for entry in metadataStrings {
            guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else {
                throw ValidationError("--add-metadata-string expects KEY=VALUE, not \(entry)")
            }
            options.addMetadata[String(entry[..<eq])] = .string(String(entry[entry.index(after: eq)...]))
        }
    }
}

struct PublishOptions: ParsableArguments {
    @Option(help: "Static deltas from this many previous commits of the ref (0: none).")
    var staticDeltaDepth = 2

    @Flag(help: "Also generate a from-scratch static delta (slow: it compresses the whole tree).")
    var staticDeltaFromScratch = false

    @Option(help: ArgumentHelp("Largest static delta part, in MiB.", valueName: "MIB"))
    var deltaMaxChunkSize: UInt32 = 32

    @Option(help: ArgumentHelp("Objects smaller than this (MiB) are never sent whole as fallbacks.", valueName: "MIB"))
    var deltaMinFallbackSize: UInt32 = 4

    @Flag(inversion: .prefixedEnableDisable, help: "bsdiff between versions of a file in static deltas.")
    var deltaBsdiff = true

    @Flag(help: "Put delta parts inside the superblock (small deltas).")
    var deltaInlineParts = false

    @Option(help: ArgumentHelp("Sign commits and the summary with this GPG key.", valueName: "KEYID"))
    var gpgSign: String?

    @Option(help: ArgumentHelp("The GnuPG home holding the key.", valueName: "DIR"))
    var gpgHomedir: String?

    func apply(to options: inout ComposeOptions) {
        options.staticDeltaDepth = staticDeltaDepth
        options.staticDeltaFromScratch = staticDeltaFromScratch
        options.deltaOptions.maxChunkSizeMiB = deltaMaxChunkSize
        options.deltaOptions.minFallbackSizeMiB = deltaMinFallbackSize
        options.deltaOptions.bsdiff = deltaBsdiff
        options.deltaOptions.inlineParts = deltaInlineParts
        options.gpgKey = gpgSign.map { GPGKey(id: $0, homedir: gpgHomedir) }
    }
}
