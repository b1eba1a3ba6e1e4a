import Foundation

/// `postprocess` (inline scripts, in the merged treefile's order: included
/// files' first, as rpm-ostree concatenates them) and then
/// `postprocess-script`. Each is written into the root, run there as `/`
/// under the same confinement as scriptlets, and removed again — rpm-ostree's
/// way. The top-level treefile's folder is readable inside at
/// `/tmp/treefile` (`$TREEFORGE_TREEFILE_DIR`), on the sandbox's own /tmp,
/// so nothing is left in the tree. Output goes to the build's log.
struct PostprocessScripts {
    var root: URL
    var treefile: Treefile
    var confinement: Confinement
    var timeout: TimeInterval
    var sourceDateEpoch: Int
    /// Receives every script's output (appended).
    var logFile: URL
    /// What of the treefile's folder scripts may read.
    var folder: TreefileFolder
    var events: ComposeEventSink
    var cancellation: Cancellation?

    static let treefileFolder = "/tmp/treefile"

    struct Script {
        /// How errors and the log name it.
        var name: String
        var contents: Data
        /// Where it is written in the root while it runs.
        var path: String
    }

    func scripts() throws -> [Script] {
        var scripts = treefile.config.postprocess.enumerated().map { index, text in
            Script(name: "postprocess script \(index + 1) of \(treefile.config.postprocess.count)", contents: Data(text.utf8),
                   path: "usr/bin/treeforge-postprocess-inline-\(index)")
        }
        if let name = treefile.config.postprocessScript {
            guard let url = treefile.externalFile("postprocess-script", name), let contents = FileManager.default.contents(atPath: url.path) else {
                throw ComposeError(.postprocess, subject: treefile.config.locations["postprocess-script"]?.description,
                                   "cannot read the postprocess-script \(name)")
            }
            scripts.append(Script(name: "postprocess-script \(name)", contents: contents, path: "usr/bin/treeforge-postprocess-script"))
        }
        return scripts
    }

    func run() throws -> [String] {
        let scripts = try scripts()
        guard !scripts.isEmpty else { return [] }
        if case .unconfined(let reason?) = confinement {
            events.warning("postprocess scripts run unconfined (chroot only): bubblewrap cannot run here: \(reason)")
        }
        let log = try PostprocessLog.append(logFile)
        defer { try? log.close() }
        var lines: [String] = []
        for script in scripts {
            log.write(Data(">>> \(script.name)\n".utf8))
            let tree = RootDirectory(root)
            try tree.write(script.path, script.contents, mode: 0o755)
            defer { try? tree.removeIfPresent(script.path) }
            let start = Date()
            try cancellation?.check(.postprocess)
            let exit = try execute("/" + script.path, log: log)
            try cancellation?.check(.postprocess)
            switch exit {
            case .exited(status: 0):
                lines.append("\(script.name): ran in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
            case .exited(let status):
                throw ComposeError(.postprocess, subject: script.name, "the script failed (exit status \(status))",
                                   details: PostprocessLog.tail(logFile) + ["(treefile: \(location(script)))"])
            case .timedOut(let seconds):
                throw ComposeError(.postprocess, subject: script.name,
                                   "the script did not finish within \(Int(seconds)) s and was stopped (--scriptlet-timeout)",
                                   details: PostprocessLog.tail(logFile))
            }
        }
        return lines
    }

    private func execute(_ path: String, log: FileHandle) throws -> SupervisedExit {
        switch confinement {
        case .sandboxed(var sandbox):
            sandbox.environment["TREEFORGE_TREEFILE_DIR"] = Self.treefileFolder
            return try sandbox.run([path], inRoot: root,
                                   readOnly: [Sandbox.Bind(source: folder.url, destination: Self.treefileFolder)],
                                   timeout: timeout, cancellation: cancellation, log: log)
        case .unconfined:
            // No bind mounts without namespaces: the folder (less what the
            // input hash leaves out, such as a workdir inside it) is copied in
            // and removed after.
            let tree = RootDirectory(root)
            let copyPath = String(Self.treefileFolder.dropFirst())
            let tmpExisted = tree.exists("tmp")
            defer { try? tree.removeIfPresent(tmpExisted ? copyPath : "tmp") }
            try tree.removeIfPresent(copyPath)
            try tree.makeDirectory(copyPath)
            do {
                try folder.copy(to: URL(fileURLWithPath: try tree.path(copyPath)))
            } catch let error as ComposeError {
                throw error
            } catch {
                throw ComposeError(.postprocess, subject: folder.url.path,
                                   "cannot copy the treefile's folder into the tree for an unconfined postprocess script: \(error.localizedDescription)")
            }
            var environment = Sandbox.environment(sourceDateEpoch: sourceDateEpoch)
            environment["TREEFORGE_TREEFILE_DIR"] = Self.treefileFolder
            let process = SupervisedProcess(arguments: ["/usr/sbin/chroot", root.path, path], environment: environment,
                                            standardOutput: log, standardError: log)
            return try process.run(timeout: timeout, cancellation: cancellation)
        }
    }

    private func location(_ script: Script) -> String {
        let key = script.path.hasSuffix("-script") ? "postprocess-script" : "postprocess"
        return treefile.config.locations[key]?.description ?? treefile.path.path
    }
}
