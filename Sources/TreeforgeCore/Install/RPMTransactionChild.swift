import Foundation
import LibRPM

/// The body of the rpm child process (`treeforge internal rpm-transaction`).
///
/// librpm chroots the whole process while it works and keeps global state,
/// so a transaction never runs inside a long-lived treeforge process: the
/// parent (`Installer`) spawns this, reads the progress stream from its
/// stdout, and captures its stderr (librpm's messages, scriptlet output)
/// into the build log.
public enum RPMTransactionChild {
    /// Runs the plan and returns the process exit status. `parent` is the
    /// pid of the treeforge that started it, when it is visible (unconfined):
    /// this process and its scriptlets end when that one dies. (Under bwrap,
    /// bwrap's `--die-with-parent` and pid namespace do the same.)
    public static func run(planPath: String, parent: Int32? = nil) -> Int32 {
        guard RPMChildLifetime.endWithParent(parent) else { return 1 }
        // Keep the original stdout for the progress stream only; anything
        // else that writes to stdout (a scriptlet, lua's print) lands in stderr.
        let progress = FileHandle(fileDescriptor: dup(STDOUT_FILENO), closeOnDealloc: true)
        dup2(STDERR_FILENO, STDOUT_FILENO)
        let encoder = JSONEncoder()
        func emit(_ event: InstallEvent) {
            guard var line = try? encoder.encode(event) else { return }
            line.append(0x0a)
            progress.write(line)
        }
        do {
            let plan = try JSONDecoder().decode(InstallPlan.self, from: Data(contentsOf: URL(fileURLWithPath: planPath)))
            // rpm-ostree's PATH for scripts rather than rpm's (which adds /sbin, /bin and /usr/X11R6/bin).
            var macros = ["_install_script_path": Sandbox.searchPath]
            if !plan.mountPoints.isEmpty {
                // What packages put in /dev, /proc or /tmp would land on the
                // sandbox's fresh mounts and vanish; as netshared paths librpm
                // skips them (rpm -V does not complain) and records their metadata.
                macros["_netsharedpath"] = plan.mountPoints.joined(separator: ":")
            }
            // rpm-ostree's form of `install-langs`: colon-separated, unset when empty.
            if !plan.installLanguages.isEmpty {
                macros["_install_langs"] = plan.installLanguages.joined(separator: ":")
            }
            try RPMConfiguration.load(databasePath: plan.databasePath, extraMacros: macros)
            let lists = try plan.packages.map { try RPMPackageFileList(packageAt: $0.path) }
            let skips = try InstallSkips(plan: plan, lists: lists)
            if let failure = skips.failure {
                emit(failure)
                return 1
            }
            for line in skips.log {
                FileHandle.standardError.write(Data("treeforge: \(line)\n".utf8))
            }
            for warning in skips.warnings {
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
                emit(.warning(message: warning))
            }
            var netshared = skips.paths
            if plan.phase == .scriptlets {
                // Everything: the files are in place, librpm must not touch them.
                netshared += Set(lists.flatMap { $0.files.compactMap { $0.path.split(separator: "/").first.map { "/" + $0 } } }).sorted()
            }
            if !netshared.isEmpty {
                RPMConfiguration.define("_netsharedpath", netshared.joined(separator: ":"))
            }
            let transaction = try RPMTransaction(root: plan.root)
            transaction.excludeDocumentation = !plan.documentation
            transaction.databaseOnly = plan.phase == .database
            let scriptOutput = try ScriptletOutput()
            transaction.scriptOutputDescriptor = scriptOutput.descriptor
            try transaction.initializeDatabase()
            var signatures = SignatureChecker()
            var packages = plan.packages
            if !plan.orderedAmong.isEmpty {
                let ordering = try RPMTransaction(root: plan.root)
                for package in plan.orderedAmong { try ordering.addInstall(path: package.path) }
                _ = try ordering.checkAndOrder(ignoringDependencies: true)
                let position = Dictionary(ordering.orderedPaths().enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
                packages.sort { (position[$0.path] ?? .max) < (position[$1.path] ?? .max) }
            }
            for package in packages {
                if let failure = signatures.check(package) {
                    emit(failure)
                    return 1
                }
                do {
                    try transaction.addInstall(path: package.path)
                } catch let error as RPMError {
                    emit(.failed(message: error.message, package: package.nevra, details: []))
                    return 1
                }
            }
            if plan.orderedAmong.isEmpty {
                let problems = try transaction.checkAndOrder(ignoringDependencies: plan.phase == .scriptlets)
                if !problems.isEmpty {
                    emit(failure("librpm's dependency check failed", problems))
                    return 1
                }
            }  // else in the whole set's order, as added (rpm's --noorder)
            var failed = false
            let runProblems = try transaction.run { event in
                switch event {
                case .installing(let nevra, let index, let total):
                    emit(.installing(nevra: nevra, index: index, total: total))
                case .scriptletStarted(let nevra, let scriptlet):
                    scriptOutput.mark()
                    emit(.scriptletStarted(nevra: nevra, scriptlet: scriptlet))
                case .scriptletFinished(let nevra, let scriptlet):
                    emit(.scriptletFinished(nevra: nevra, scriptlet: scriptlet, output: scriptOutput.takeLines()))
                case .scriptletFailed(let nevra, let scriptlet):
                    failed = true
                    emit(.scriptletFailed(nevra: nevra, scriptlet: scriptlet, output: scriptOutput.takeLines()))
                case .unpackFailed(let nevra):
                    failed = true
                    emit(.unpackFailed(nevra: nevra))
                }
            }
            if !runProblems.isEmpty {
                emit(failure("the rpm transaction failed", runProblems))
                return 1
            }
            if failed { return 1 }
            if plan.phase == .database, !skips.paths.isEmpty {
                let marked = try RPMDatabase.markNetshared(root: plan.root, where: skips.skips)
                FileHandle.standardError.write(Data("treeforge: \(marked) files recorded as netshared, as an install would have\n".utf8))
            }
            if plan.phase != .scriptlets {
                // One rpmdb file for one set of headers, however it was written.
                try RPMDatabase.rebuild(root: plan.root)
            }
            emit(.finished(installed: plan.packages.count))
            return 0
        } catch {
            emit(.failed(message: "\(error)", package: nil, details: []))
            return 1
        }
    }

    /// Names the packages librpm blamed, so the error's subject says which.
    static func failure(_ message: String, _ problems: [RPMProblem]) -> InstallEvent {
        var packages: [String] = []
        for package in problems.compactMap(\.package) where !packages.contains(package) {
            packages.append(package)
        }
        return .failed(message: message, package: packages.isEmpty ? nil : packages.joined(separator: ", "),
                       details: problems.map(\.message))
    }
}

/// Where scriptlets write (librpm's script fd): a pipe that a thread of
/// this process empties as they write, so a chatty scriptlet never blocks
/// and a hanging one's output is in the install log already. Each chunk goes
/// to stderr (the install log) at once and is kept until librpm reports the
/// scriptlet done; its lines then go into that scriptlet's event.
///
/// Threading: the reader thread and the librpm callback take the lock
/// around every read of the pipe. When librpm reports a scriptlet done, the
/// scriptlet has exited, so what it wrote is all in the pipe: the callback
/// reads what the thread has not yet, and nothing of it is lost or misplaced.
final class ScriptletOutput: @unchecked Sendable {
    /// The write end, for librpm.
    let descriptor: Int32
    private let readEnd: Int32
    private let lock = NSLock()
    private var pending = Data()

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw ComposeError(.install, "cannot create a pipe for scriptlet output: \(String(cString: strerror(errno)))")
        }
        readEnd = fds[0]
        descriptor = fds[1]
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        let thread = Thread { [self] in
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            while true {
                guard poll(&poller, 1, 1000) >= 0 || errno == EINTR else { return }
                if lock.withLock({ drain() }) { return }
            }
        }
        thread.name = "treeforge.scriptlet-output"
        thread.start()
    }

    /// Reads what the pipe holds; true at its end. Call holding the lock.
    private func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(readEnd, &buffer, buffer.count)
            if count > 0 {
                let chunk = Data(buffer.prefix(count))
                FileHandle.standardError.write(chunk)
                pending.append(chunk)
            } else {
                return count == 0
            }
        }
    }

    /// A scriptlet starts: what came before it is not its own.
    func mark() {
        _ = takeLines()
    }

    /// What was written since the last call, as lines.
    func takeLines() -> [String] {
        let data: Data = lock.withLock {
            _ = drain()
            defer { pending = Data() }
            return pending
        }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }
}
