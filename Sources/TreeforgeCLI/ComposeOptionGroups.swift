import ArgumentParser
import Foundation
import TreeforgeCore

/// The option groups the compose commands share, each applied to the value it
/// describes: the request (what to build), the environment (where), the
/// publish policy (how it is published).

struct TreefileOptions: ParsableArguments {
    @Option(help: "The base architecture to flatten and resolve for (default: this machine's).")
    var arch: String?

    @Option(name: .customLong("var"), help: ArgumentHelp("Set a treefile variable (wins over the treefile's).", valueName: "NAME=VALUE"))
    var variables: [String] = []

    func apply(to request: inout ComposeRequest) throws {
        request.variables = try TreefileVariable.parse(variables)
        if let arch { request.basearch = arch }
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

    @Flag(name: .customLong("ex-package-cache"),
          help: "Lay the root out from packages imported once into <cachedir>/pkgcache-repo, instead of unpacking each with librpm (the same tree).")
    var packageCache = false

    func validate() throws {
        if packageCache && cachedir == nil {
            throw ValidationError("--ex-package-cache needs --cachedir: the package cache lives there")
        }
    }

    func apply(to environment: inout ComposeEnvironment) {
        environment.cachedir = cachedir.map { URL(fileURLWithPath: $0) }
        environment.packageCache = packageCache
        environment.cacheOnly = cacheOnly
        environment.httpTimeout = httpTimeout
    }
}

struct LockfileOptions: ParsableArguments {
    @Option(name: .customLong("ex-lockfile"), help: ArgumentHelp("An rpm-ostree lockfile (repeatable; later files win).", valueName: "FILE"))
    var lockfiles: [String] = []

    @Flag(name: .customLong("ex-lockfile-strict"), help: "Install nothing that the lockfiles do not lock.")
    var strict = false

    @Option(name: .customLong("ex-write-lockfile-to"), help: ArgumentHelp("Write the resolved set as a lockfile (dry runs too).", valueName: "FILE"))
    var writeTo: String?

    func apply(to request: inout ComposeRequest) {
        request.lockfiles = lockfiles
        request.lockfileStrict = strict
        request.outputs.lockfile = writeTo
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

extension CommitWriter: ExpressibleByArgument {}

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

    @Option(help: ArgumentHelp(
        "Who writes the tree into an archive repository: parallel (checksum each file first, compress only new objects with libdeflate, on every core) or libostree (ostree commit's writer: zlib on one thread). Same tree either way.",
        valueName: "parallel|libostree"))
    var commitWriter: CommitWriter = .parallel

    @Option(help: ArgumentHelp("Threads for the parallel writer (default: one per core).", valueName: "N"))
    var commitThreads: Int?

    func validate() throws {
        if let commitThreads, commitThreads < 1 { throw ValidationError("--commit-threads must be at least 1") }
    }

    func apply(to environment: inout ComposeEnvironment) {
        environment.commitWriter = commitWriter
        environment.commitThreads = commitThreads
    }

    func apply(to request: inout ComposeRequest) throws {
        if noParent && parent != nil { throw ValidationError("--parent and --no-parent contradict each other") }
        request.parent = noParent ? .none : parent.map { .commit($0) } ?? .refHead
        request.previousVersion = previousVersion
        if let file = metadataJSON {
            let loaded = try TreefileLoader.readJSONObject(URL(fileURLWithPath: file))
            request.addMetadata.merge(loaded) { _, new in new }
        }
        for entry in metadataStrings {
            guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex else {
                throw ValidationError("--add-metadata-string expects KEY=VALUE, not \(entry)")
            }
            request.addMetadata[String(entry[..<eq])] = .string(String(entry[entry.index(after: eq)...]))
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

    @Option(help: ArgumentHelp("Published means pulled: the stock ostree client pulls the new head from this URL (the server's /repo/) into a scratch repository before the build counts as succeeded.", valueName: "URL"))
    var verifyPull: String?

    func validate() throws {
        guard staticDeltaDepth >= 0 else { throw ValidationError("--static-delta-depth must be 0 (no deltas) or more") }
        guard deltaMaxChunkSize > 0 else { throw ValidationError("--delta-max-chunk-size must be at least 1 MiB") }
        if let verifyPull, URL(string: verifyPull)?.scheme.map({ ["http", "https", "file"].contains($0) }) != true {
            throw ValidationError("--verify-pull \(verifyPull): expected an http://, https:// or file:// URL of a repository")
        }
    }

    var policy: PublishPolicy {
        var policy = PublishPolicy()
        policy.deltaDepth = staticDeltaDepth
        policy.fromScratch = staticDeltaFromScratch
        policy.deltaOptions.maxChunkSizeMiB = deltaMaxChunkSize
        policy.deltaOptions.minFallbackSizeMiB = deltaMinFallbackSize
        policy.deltaOptions.bsdiff = deltaBsdiff
        policy.deltaOptions.inlineParts = deltaInlineParts
        policy.gpgKey = gpgSign.map { GPGKey(id: $0, homedir: gpgHomedir) }
        policy.verifyPullFrom = verifyPull.flatMap(URL.init(string:))
        return policy
    }
}
