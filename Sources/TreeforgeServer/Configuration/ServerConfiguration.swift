import Foundation
import TreeforgeCore
import Yams

/// How `treeforge serve` runs: from defaults, then the config file (YAML),
/// then the command line's flags, then `TREEFORGE_*` environment variables,
/// each winning over the one before.
public struct ServerConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The OSTree repository the server owns (served at `/repo/`).
    public var repo = URL(fileURLWithPath: "repo")
    /// Treefiles are named by their path under this folder.
    public var treefiles = URL(fileURLWithPath: "treefiles")
    /// The tokens file (YAML); none: every mutating request is refused.
    public var tokens: URL?
    public var cachedir: URL?
    /// Where each compose's scratch folder goes (`build-N`); none: /var/tmp.
    public var workdir: URL?
    /// Composes running at once (each ref one at a time anyway).
    public var maxParallel = 2
    /// Schedules defined in the config file.
    public var schedules: [ScheduleDefinition] = []
    /// How composes publish.
    public var staticDeltaDepth = 2
    /// `/health` fails below this much free disk where the repository lives.
    public var minimumFreeDisk: Int64 = 1 << 30
    /// How long deltas that `treeforge prune` took out of the summary stay served.
    public var deltaGracePeriod = RetiredDeltas.defaultGracePeriod
    /// After each commit, prune its ref to this many commits (`treeforge
    /// prune --keep-last`); nil: never.
    public var pruneKeepLast: Int?

    public init() {}

    /// The settings a flag or variable can give, each optional.
    public struct Overrides: Sendable {
        public var listen: String?
        public var repo: String?
        public var treefiles: String?
        public var tokens: String?
        public var cachedir: String?
        public var workdir: String?
        public var maxParallel: Int?

        public init(listen: String? = nil, repo: String? = nil, treefiles: String? = nil, tokens: String? = nil,
                    cachedir: String? = nil, workdir: String? = nil, maxParallel: Int? = nil) {
            self.listen = listen
            self.repo = repo
            self.treefiles = treefiles
            self.tokens = tokens
            self.cachedir = cachedir
            self.workdir = workdir
            self.maxParallel = maxParallel
        }

        /// `TREEFORGE_LISTEN`, `TREEFORGE_REPO`, `TREEFORGE_TREEFILES`, `TREEFORGE_TOKENS`,
        /// `TREEFORGE_CACHEDIR`, `TREEFORGE_WORKDIR`, `TREEFORGE_MAX_PARALLEL`.
        public static func environment(_ variables: [String: String]) throws -> Overrides {
            var overrides = Overrides(listen: variables["TREEFORGE_LISTEN"], repo: variables["TREEFORGE_REPO"],
                                      treefiles: variables["TREEFORGE_TREEFILES"], tokens: variables["TREEFORGE_TOKENS"],
                                      cachedir: variables["TREEFORGE_CACHEDIR"], workdir: variables["TREEFORGE_WORKDIR"])
            if let text = variables["TREEFORGE_MAX_PARALLEL"] {
                guard let value = Int(text) else { throw ConfigurationError("TREEFORGE_MAX_PARALLEL is not a number: \(text)") }
                overrides.maxParallel = value
            }
            return overrides
        }
    }

    /// Defaults, then `file`, then `flags`, then `environment`; relative paths
    /// in the file are relative to its folder, elsewhere to the working folder.
    public static func load(file: URL?, flags: Overrides, environment: Overrides) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let file { try configuration.read(file) }
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        try configuration.apply(flags, relativeTo: here)
        try configuration.apply(environment, relativeTo: here)
        try configuration.validate()
        return configuration
    }

    private mutating func read(_ file: URL) throws {
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read the config file \(file.path): \(error.localizedDescription)")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError("\(file.path): not YAML: \(error)")
        }
        guard let mapping = node?.mapping else {
            if node == nil { return }
            throw ConfigurationError("\(file.path): the config file must be a mapping of settings")
        }
        let folder = file.deletingLastPathComponent()
        var overrides = Overrides()
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let at = "\(file.path):\(keyNode.mark?.line ?? 0)"
            switch key {
            case "listen": overrides.listen = try Self.string(value, key, at)
            case "repo": overrides.repo = try Self.string(value, key, at)
            case "treefiles": overrides.treefiles = try Self.string(value, key, at)
            case "tokens": overrides.tokens = try Self.string(value, key, at)
            case "cachedir": overrides.cachedir = try Self.string(value, key, at)
            case "workdir": overrides.workdir = try Self.string(value, key, at)
            case "max-parallel":
                guard let number = value.int else { throw ConfigurationError("\(at): max-parallel must be a number") }
                overrides.maxParallel = number
            case "static-delta-depth":
                guard let number = value.int, number >= 0 else { throw ConfigurationError("\(at): static-delta-depth must be 0 or more") }
                staticDeltaDepth = number
            case "minimum-free-disk-mib":
                guard let number = value.int, number >= 0 else { throw ConfigurationError("\(at): minimum-free-disk-mib must be 0 or more") }
                minimumFreeDisk = Int64(number) << 20
            case "prune-keep-last":
                guard let number = value.int, number >= 1 else { throw ConfigurationError("\(at): prune-keep-last must be 1 or more") }
                pruneKeepLast = number
            case "delta-grace-period":
                guard let text = value.string, let age = Pruner.parseAge(text) else {
                    throw ConfigurationError("\(at): delta-grace-period must be an age (1d, 12h, 90m)")
                }
                deltaGracePeriod = age
            case "schedules":
                guard let list = value.sequence else { throw ConfigurationError("\(at): schedules must be a list") }
                schedules = try list.map { try ScheduleDefinition(node: $0, file: file) }
            default:
                throw ConfigurationError("\(at): unknown setting `\(key)` (known: listen, repo, treefiles, tokens, cachedir, workdir, max-parallel, static-delta-depth, minimum-free-disk-mib, delta-grace-period, prune-keep-last, schedules)")
            }
        }
        try apply(overrides, relativeTo: folder)
    }

    private static func string(_ node: Node, _ key: String, _ at: String) throws -> String {
        guard let value = node.scalar?.string, node.scalar != nil else { throw ConfigurationError("\(at): \(key) must be a string") }
        return value
    }

    private mutating func apply(_ overrides: Overrides, relativeTo folder: URL) throws {
        func path(_ text: String) -> URL {
            URL(fileURLWithPath: text, relativeTo: folder).standardizedFileURL
        }
        if let listen = overrides.listen { (host, port) = try Self.parseListen(listen) }
        if let repo = overrides.repo { self.repo = path(repo) }
        if let treefiles = overrides.treefiles { self.treefiles = path(treefiles) }
        if let tokens = overrides.tokens { self.tokens = path(tokens) }
        if let cachedir = overrides.cachedir { self.cachedir = path(cachedir) }
        if let workdir = overrides.workdir { self.workdir = path(workdir) }
        if let maxParallel = overrides.maxParallel { self.maxParallel = maxParallel }
    }

    /// `HOST:PORT`, `[IPv6]:PORT`, or `:PORT` (loopback).
    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError("listen: expected HOST:PORT, not \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    private func validate() throws {
        guard maxParallel >= 1 else { throw ConfigurationError("max-parallel must be at least 1") }
        var names = Set<String>()
        for schedule in schedules {
            guard names.insert(schedule.name).inserted else { throw ConfigurationError("two schedules are named \(schedule.name)") }
            do {
                _ = try CronExpression(schedule.cron)
            } catch {
                throw ConfigurationError("schedule \(schedule.name): \(error)")
            }
            guard TimeZone(identifier: schedule.timeZone) != nil else {
                throw ConfigurationError("schedule \(schedule.name): \(schedule.timeZone) is not a time zone (UTC, Europe/Berlin, …)")
            }
        }
    }
}

/// A schedule as the config file (or the API) defines it.
public struct ScheduleDefinition: Sendable, Equatable, Codable {
    public var name: String
    /// The treefile's name under the treefiles folder.
    public var treefile: String
    /// Five fields: minute hour day-of-month month day-of-week.
    public var cron: String
    public var timeZone = "UTC"
    /// Compose even when the inputs are unchanged (default: recorded `unchanged`).
    public var composeUnchanged = false
    /// After downtime: run once for the runs missed (`run-once`) or not (`skip`).
    public var missedRuns = MissedRuns.runOnce
    public var paused = false

    public enum MissedRuns: String, Sendable, Codable, CaseIterable {
        case runOnce = "run-once"
        case skip
    }

    public init(name: String, treefile: String, cron: String) {
        self.name = name
        self.treefile = treefile
        self.cron = cron
    }

    init(node: Node, file: URL) throws {
        let at = "\(file.path):\(node.mark?.line ?? 0)"
        guard let mapping = node.mapping else { throw ConfigurationError("\(at): a schedule must be a mapping") }
        func value(_ key: String) -> Node? { mapping[Node(key)] }
        guard let name = value("name")?.string, let treefile = value("treefile")?.string, let cron = value("cron")?.string else {
            throw ConfigurationError("\(at): a schedule needs name, treefile and cron")
        }
        self.init(name: name, treefile: treefile, cron: cron)
        for (key, _) in mapping {
            guard let key = key.string, ["name", "treefile", "cron", "time-zone", "compose-unchanged", "missed-runs", "paused"].contains(key) else {
                throw ConfigurationError("\(at): unknown schedule setting `\(key.string ?? "?")` (known: name, treefile, cron, time-zone, compose-unchanged, missed-runs, paused)")
            }
        }
        if let zone = value("time-zone")?.string { timeZone = zone }
        if let flag = value("compose-unchanged") {
            guard let bool = flag.bool else { throw ConfigurationError("\(at): compose-unchanged must be true or false") }
            composeUnchanged = bool
        }
        if let policy = value("missed-runs") {
            guard let parsed = policy.string.flatMap(MissedRuns.init(rawValue:)) else {
                throw ConfigurationError("\(at): missed-runs must be run-once or skip")
            }
            missedRuns = parsed
        }
        if let flag = value("paused") {
            guard let bool = flag.bool else { throw ConfigurationError("\(at): paused must be true or false") }
            paused = bool
        }
    }
}

/// A configuration the server refuses to start with.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
