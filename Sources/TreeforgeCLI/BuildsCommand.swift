import ArgumentParser
import Foundation
import TreeforgeCore

/// `treeforge builds …`: the build history kept beside a repository.
struct BuildsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "builds",
        abstract: "Show the history of composes recorded beside a repository.",
        subcommands: [BuildsListCommand.self, BuildsShowCommand.self, BuildsDiffCommand.self, BuildsLogCommand.self])
}

struct BuildDatabaseOptions: ParsableArguments {
    @Option(help: "The OSTree repository whose builds to show (its database is <repo>.builds.sqlite).")
    var repo: String = "repo"

    @Flag(help: "JSON for machines.")
    var json = false

    func open() throws -> BuildStore {
        let path = BuildStore.databasePath(forRepo: URL(fileURLWithPath: repo))
        guard FileManager.default.fileExists(atPath: path.path) else {
            throw ValidationError("no build database at \(path.path): nothing has been composed into \(repo) yet")
        }
        return try BuildStore(path: path.path)
    }

    func build(_ store: BuildStore, _ id: Int64) throws -> BuildRecord {
        guard let build = try store.build(id) else { throw ValidationError("no build #\(id) in \(repo)") }
        return build
    }

    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

struct BuildsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List builds, newest first.")

    @OptionGroup var database: BuildDatabaseOptions
    @Option(help: "Only builds of this ref.") var ref: String?

    func run() throws {
        let builds = try database.open().builds(ref: ref)
        if database.json { return try database.printJSON(builds) }
        let rows = builds.map { build in
            [String(build.id ?? 0), build.composeId ?? "-", build.status.rawValue, build.version ?? "-",
             build.commit.map { String($0.prefix(12)) } ?? "-", Self.date(build.startedAt),
             build.prunedAt != nil ? "pruned" : build.failedStage.map { "failed in \($0)" } ?? ""]
        }
        printTable(["ID", "COMPOSE", "STATUS", "VERSION", "COMMIT", "STARTED", ""], rows)
    }

    static func date(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

struct BuildsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one build in full.")

    @OptionGroup var database: BuildDatabaseOptions
    @Argument(help: "The build id.") var id: Int64

    struct Details: Encodable {
        let build: BuildRecord
        let packages: [BuildPackage]
        let repos: [BuildRepo]
    }

    func run() throws {
        let store = try database.open()
        let build = try database.build(store, id)
        let details = Details(build: build, packages: try store.packages(of: id), repos: try store.repos(of: id))
        if database.json { return try database.printJSON(details) }
        let fields: [(String, String?)] = [
            ("Build", "#\(id)"), ("Compose", build.composeId), ("Status", build.status.rawValue), ("Trigger", build.trigger),
            ("Ref", build.ref), ("Version", build.version), ("Commit", build.commit), ("Parent", build.parent),
            ("Treefile", build.treefilePath.isEmpty ? nil : build.treefilePath), ("Treefile SHA-256", build.treefileSHA256),
            ("Input hash", build.inputHash), ("Started", BuildsListCommand.date(build.startedAt)),
            ("Finished", build.finishedAt.map(BuildsListCommand.date)),
            ("Published", build.publishedAt.map(BuildsListCommand.date)
                ?? (build.status == .publishing ? "not yet: the next compose of the ref or `treeforge publish` finishes it" : nil)),
            ("Pruned", build.prunedAt.map { "\(BuildsListCommand.date($0)): its commit, packages and logs were removed" }),
            ("Stages", Stage.allCases.compactMap { stage in build.stageSeconds[stage.rawValue].map { String(format: "%@ %.2fs", stage.rawValue, $0) } }
                .joined(separator: ", ")),
            ("Stage ids", Stage.allCases.compactMap { stage in build.stageInputs[stage.rawValue].map { "\(stage.rawValue) \($0.prefix(12))" } }
                .joined(separator: ", ")),
            ("Repos", details.repos.map { "\($0.repoId) (revision \($0.revision ?? "?"))" }.joined(separator: ", ")),
            ("Error", build.error),
        ]
        for (name, value) in fields {
            guard let value, !value.isEmpty else { continue }
            print("\(name):".padding(toLength: 18, withPad: " ", startingAt: 0) + value.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: 18)))
        }
        let packages = details.packages.isEmpty ? build.packages : details.packages.map(\.nevra)
        if build.prunedAt != nil { return }
        print("Packages (\(packages.count)):")
        for nevra in packages { print("  \(nevra)") }
    }
}

struct BuildsDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Packages added, removed, upgraded and downgraded from build A to build B.")

    @OptionGroup var database: BuildDatabaseOptions
    @Argument(help: "The older build id.") var from: Int64
    @Argument(help: "The newer build id.") var to: Int64

    func run() throws {
        let store = try database.open()
        _ = try database.build(store, from)
        _ = try database.build(store, to)
        let diff = BuildDiff(from: try store.packages(of: from), to: try store.packages(of: to))
        if database.json { return try database.printJSON(diff) }
        print("Build #\(from) -> #\(to)")
        print(diff.lines.joined(separator: "\n"))
    }
}

struct BuildsLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "A build's logs: librpm's messages and scriptlet output, warnings, the error.")

    @OptionGroup var database: BuildDatabaseOptions
    @Argument(help: "The build id.") var id: Int64
    @Option(help: "Only this stage's log (load, resolve, lock, download, install, postprocess, commit, publish, record).") var stage: String?

    func run() throws {
        let store = try database.open()
        _ = try database.build(store, id)
        if let stage, Stage(rawValue: stage) == nil {
            throw ValidationError("unknown stage \(stage): one of \(Stage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let logs = try store.logs(of: id).filter { stage == nil || $0.stage == stage }
        if database.json { return try database.printJSON(logs) }
        for log in logs {
            if stage == nil { print("== \(log.stage)") }
            print(log.text.hasSuffix("\n") ? String(log.text.dropLast()) : log.text)
        }
    }
}

/// Left-aligned columns, two spaces apart.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
        let line = row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        print(line.trimmingCharacters(in: .whitespaces))
    }
}
