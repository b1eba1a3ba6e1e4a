import Foundation

/// Running the rpm child: confined or not, watched for hanging scriptlets.
extension Installer {
    struct ChildRun {
        var events: [InstallEvent]
        var status: Int32
        /// The scriptlet that ran past the timeout (the child was stopped).
        var timedOut: ScriptletWatch.Running?
    }

    /// Runs the child on the plan in `planFile`, writing into `root`;
    /// appends to the install log.
    func runChild(planFile: URL, root: URL, packages: [ResolvedPackage], keyFiles: [String], confinement: Confinement,
                  context: StageContext) throws -> ChildRun {
        let sink = context.events
        if !FileManager.default.fileExists(atPath: logFile.path) { FileManager.default.createFile(atPath: logFile.path, contents: nil) }
        let log = try FileHandle(forWritingTo: logFile)
        defer { try? log.close() }
        try log.seekToEnd()
        let command = [helperExecutable.path, "internal", "rpm-transaction", planFile.path]
        let arguments: [String]
        let environment: [String: String]
        switch confinement {
        case .sandboxed(let sandbox):
            // The sandbox shows only what runs the executable (`HostView`):
            // the plan, the packages and the repositories' signing keys are
            // bound at their own paths, wherever they live.
            let readable = [planFile]
                + packages.map { URL(fileURLWithPath: $0.path).deletingLastPathComponent() }
                + keyFiles.map { URL(fileURLWithPath: $0) }
            arguments = sandbox.arguments(writingInto: root, readable: readable, command: command)
            environment = [:]
            log.write(Data("treeforge: scriptlets run under bubblewrap: no network, fresh /dev /proc /tmp, SOURCE_DATE_EPOCH=\(sourceDateEpoch)\n".utf8))
        case .unconfined(let reason):
            // The child sees treeforge's pid here and ends with it.
            arguments = command + ["--parent", String(getpid())]
            environment = Sandbox.environment(sourceDateEpoch: sourceDateEpoch)
            if let reason {
                let warning = "scriptlets run unconfined (librpm's chroot only, with network and the host's capabilities): bubblewrap cannot run here: \(reason)"
                sink.warning(warning)
                log.write(Data("warning: \(warning)\n".utf8))
            }
        }
        let stdout = Pipe()
        let process = SupervisedProcess(arguments: arguments, environment: environment, standardOutput: stdout, standardError: log)
        do {
            try process.start()
        } catch {
            throw ComposeError(.install, subject: arguments[0], "cannot start the rpm transaction process: \(error.localizedDescription)")
        }
        let watch = ScriptletWatch(timeout: scriptletTimeout, process: process)
        defer { watch.cancel() }
        let stopOnCancel = context.cancellation.onCancel { process.stop() }
        defer { stopOnCancel.end() }
        // Output of the scriptlet running now, gathered until librpm says it finished.
        var scriptletOutput: [String] = []
        var events: [InstallEvent] = []
        let decoder = JSONDecoder()
        var buffer = Data()
        let reader = stdout.fileHandleForReading
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0a) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                guard let event = try? decoder.decode(InstallEvent.self, from: line) else { continue }
                events.append(event)
                switch event {
                case .installing(let nevra, let index, let total):
                    sink.emit(.package(index: index, total: total, nevra: nevra))
                    context.reached(.install, step: index)
                case .scriptletStarted(let nevra, let scriptlet):
                    watch.started(.init(nevra: nevra, scriptlet: scriptlet))
                    scriptletOutput = []
                    sink.emit(.scriptletStarted(package: nevra, scriptlet: scriptlet))
                case .scriptletFailed(_, _, let output):
                    scriptletOutput += output
                case .scriptletFinished(let nevra, let scriptlet, let output):
                    watch.finished()
                    sink.emit(.scriptletFinished(package: nevra, scriptlet: scriptlet, output: scriptletOutput + output))
                    scriptletOutput = []
                case .warning(let message):
                    sink.warning(message)
                default:
                    break
                }
            }
        }
        let status = process.waitForExit()
        watch.cancel()
        return ChildRun(events: events, status: status, timedOut: watch.timedOut)
    }
}

/// Follows the child's scriptlet events and stops the child (with every
/// scriptlet it runs) when one runs longer than the timeout.
///
/// Threading: `started`/`finished` from the reading thread; the check runs
/// on a timer queue; all state behind one lock.
final class ScriptletWatch: @unchecked Sendable {
    struct Running: Equatable {
        var nevra: String
        var scriptlet: String
    }

    private let timeout: TimeInterval
    private let process: SupervisedProcess
    private let lock = NSLock()
    private var running: (Running, since: Date)?
    private var stuck: Running?
    private let timer: DispatchSourceTimer

    init(timeout: TimeInterval, process: SupervisedProcess) {
        self.timeout = timeout
        self.process = process
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "treeforge.scriptlet-watch"))
        let interval = min(1.0, max(0.05, timeout / 20))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.check() }
        timer.resume()
    }

    var timedOut: Running? { lock.withLock { stuck } }

    func started(_ scriptlet: Running) { lock.withLock { running = (scriptlet, Date()) } }
    func finished() { lock.withLock { running = nil } }
    func cancel() { timer.cancel() }

    private func check() {
        let overdue: Bool = lock.withLock {
            guard stuck == nil, let (scriptlet, since) = running, Date().timeIntervalSince(since) > timeout else { return false }
            stuck = scriptlet
            return true
        }
        if overdue { process.stop() }
    }
}
