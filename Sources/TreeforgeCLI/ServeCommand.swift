import ArgumentParser
import Foundation
import Logging
import TreeforgeServer

/// `treeforge serve`: the compose server (docs/server.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the compose server: a queue of composes, schedules, a JSON API, and the repository for mirrors at /repo/.",
        discussion: """
            Settings come from defaults, then --config, then these flags, then TREEFORGE_* environment variables \
            (TREEFORGE_LISTEN, TREEFORGE_REPO, TREEFORGE_TREEFILES, TREEFORGE_TOKENS, TREEFORGE_CACHEDIR, TREEFORGE_WORKDIR, \
            TREEFORGE_MAX_PARALLEL). SIGTERM or SIGINT drains (running composes are cancelled and queued again at the next \
            start); SIGHUP reloads the tokens file.
            """)

    @Option(help: ArgumentHelp("The config file (YAML): these settings and schedules.", valueName: "FILE")) var config: String?
    @Option(help: ArgumentHelp("Address to listen on (default 127.0.0.1:8080).", valueName: "HOST:PORT")) var listen: String?
    @Option(help: ArgumentHelp("The OSTree repository the server owns (default repo/).", valueName: "DIR")) var repo: String?
    @Option(help: ArgumentHelp("Treefiles are named by their path under this folder (default treefiles/).", valueName: "DIR"))
    var treefiles: String?
    @Option(help: ArgumentHelp("The tokens file (YAML; reloaded on SIGHUP). None: the API is read-only.", valueName: "FILE"))
    var tokens: String?
    @Option(help: ArgumentHelp("Cache for repository metadata and packages, shared by the composes.", valueName: "DIR")) var cachedir: String?
    @Option(help: ArgumentHelp("Where each compose's scratch folder goes.", valueName: "DIR")) var workdir: String?
    @Option(help: ArgumentHelp("Composes that run at once (each ref one at a time; default 2).", valueName: "N")) var maxParallel: Int?

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "treeforge.serve")
        logger.logLevel = ProcessInfo.processInfo.environment["TREEFORGE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.load(
                file: config.map { URL(fileURLWithPath: $0) },
                flags: .init(listen: listen, repo: repo, treefiles: treefiles, tokens: tokens, cachedir: cachedir, workdir: workdir,
                             maxParallel: maxParallel),
                environment: try .environment(ProcessInfo.processInfo.environment))
            try await ComposeServer.run(configuration: configuration, executable: Self.executable, logger: logger)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("treeforge serve: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// This binary: every compose the server starts runs as it.
    static var executable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }
}
