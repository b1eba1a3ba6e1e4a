import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TreeforgeCore

/// `treeforge serve`: one process that owns a repository — the HTTP API and
/// `/repo/`, the job runner and the scheduler, as one `ServiceGroup` that
/// SIGTERM (or SIGINT) shuts down gracefully, in reverse order: the job
/// runner cancels the running composes through the engine and records them to
/// be queued again at the next start, then the scheduler and the HTTP server
/// stop.
public enum ComposeServer {
    /// Runs until SIGTERM or SIGINT. `executable` is the treeforge binary the
    /// composes run as; `ready` gets the address once the socket listens.
    public static func run(configuration: ServerConfiguration, executable: URL, logger: Logger,
                           ready: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        // A tokens file that does not load stops the start before anything is touched.
        let tokens = try TokenRegistry(file: configuration.tokens)
        // One server per repository: two would start the same queued builds.
        let lock = RepositoryLock.server(in: configuration.repo)
        let taken = try lock.acquireIfFree(as: .init(build: nil), stage: .record)
        guard taken.acquired else {
            throw ConfigurationError("another treeforge serve owns \(configuration.repo.path)\(taken.holder.map { " (pid \($0.pid), since \($0.since))" } ?? ""): stop it first, or serve another repository")
        }
        defer { lock.release() }

        // Migrations before serving: the store opens (and migrates) the build database.
        let builds = try BuildStore(repoPath: configuration.repo)
        let store = SQLiteServerStore(builds: builds)
        if configuration.tokens == nil {
            logger.warning("no tokens file (--tokens): the API is read-only, every change is refused")
        } else {
            logger.info("\(tokens.count) tokens loaded from \(configuration.tokens!.path)")
        }
        let definitions = configuration.schedules
        try await Blocking.run {
            try store.syncConfiguredSchedules(definitions, nextRun: { Scheduler.nextRun($0, after: Date()) }, at: Date())
        }

        let address = ServerAddress()
        let runner = JobRunner(store: store, configuration: configuration, executable: executable, logger: logger, address: address)
        let services = try ServerServices(configuration: configuration, store: store, runner: runner, tokens: tokens,
                                          sessionsIn: configuration.repo)
        let scheduler = Scheduler(store: store, queue: services.queue, logger: logger)
        let reload = reloadTokensOnHangup(tokens, logger: logger)
        defer { reload.cancel() }

        let host = configuration.host
        let repoPath = configuration.repo.path
        let application = Application(
            router: ServerRoutes.router(services),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "treeforge"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let shown = host.contains(":") ? "[\(host)]" : host
                let listening = "http://\(shown):\(port)/"
                address.listening(host: host, port: port)
                logger.info("listening on \(listening) (repository \(repoPath) at \(listening)repo/)")
                ready(listening)
            },
            logger: logger)
        // Shut down in reverse: the job runner drains first, the HTTP server last.
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: application), .init(service: scheduler), .init(service: runner)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// SIGHUP reads the tokens file again; a file that does not load keeps the old tokens.
    private static func reloadTokensOnHangup(_ tokens: TokenRegistry, logger: Logger) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            do {
                try tokens.reload()
                logger.info("SIGHUP: \(tokens.count) tokens loaded from \(tokens.file?.path ?? "(no tokens file)")")
            } catch {
                logger.error("SIGHUP: the tokens file does not load, the tokens loaded before stay: \(error)")
            }
        }
        source.resume()
        return source
    }
}
