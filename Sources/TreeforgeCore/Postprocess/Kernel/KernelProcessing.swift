import Foundation

/// rpm-ostree's kernel handling, after the treefile's own postprocessing:
/// the kernel found and moved into `/usr/lib/modules/$kver/`, `depmod` and
/// then dracut run *inside the tree* (its own tools, under the sandbox, no
/// network, `--no-hostonly --reproducible --add ostree`, the treefile's
/// `initramfs-args`, `SOURCE_DATE_EPOCH`), the result placed per
/// `boot-location` and `/boot` left empty. A `container: true` tree is left
/// alone. Unlike rpm-ostree, an initramfs whose inputs are unchanged is
/// not built again: `InitramfsCache` hands back the previous one, byte for byte.
public struct KernelProcessing {
    public var confinement: Confinement
    /// Seconds depmod or dracut may run (`--scriptlet-timeout`).
    public var timeout: TimeInterval
    public var sourceDateEpoch: Int
    /// Where built initramfs images are kept for reuse (`<cachedir>/initramfs`); nil builds every time.
    public var cache: InitramfsCache?
    /// Receives depmod's and dracut's output (appended).
    public var logFile: URL
    public var events: ComposeEventSink
    public var cancellation: Cancellation?

    public init(confinement: Confinement, timeout: TimeInterval, sourceDateEpoch: Int, cache: InitramfsCache?, logFile: URL,
                events: ComposeEventSink, cancellation: Cancellation? = nil) {
        self.confinement = confinement
        self.timeout = timeout
        self.sourceDateEpoch = sourceDateEpoch
        self.cache = cache
        self.logFile = logFile
        self.events = events
        self.cancellation = cancellation
    }

    /// The folder dracut stages the image in, inside the tree while it runs
    /// (`--keep`: what it took from the tree is the reuse key), removed after.
    static let stagingFolder = ".treeforge-dracut"

    /// dracut's arguments before the treefile's `initramfs-args`.
    static func dracutArguments(kernel: String, extra: [String]) -> [String] {
        ["--no-hostonly", "--reproducible", "--add", "ostree", "--tmpdir", "/" + stagingFolder, "--keep"] + extra
            + ["--force", "/usr/lib/modules/\(kernel)/initramfs.img", kernel]
    }

    /// Shapes the kernel and its initramfs; returns what it did, a line each.
    public func run(root rootURL: URL, treefile: Treefile) throws -> [String] {
        let config = treefile.config
        guard !config.container else { return [] }
        let root = RootDirectory(rootURL)
        guard let kernel = try KernelLayout.find(in: root) else {
            if let key = ["boot-location", "initramfs-args"].first(where: { config.setKeys.contains($0) }) {
                throw ComposeError(.postprocess, subject: config.locations[key]?.description ?? treefile.path.path,
                                   "the treefile sets `\(key)` but the tree has no kernel (no /usr/lib/modules/*/vmlinuz, no /boot/vmlinuz-*): add the kernel package to `packages`")
            }
            return []
        }
        // `boot-location: kernel-install` is refused when the treefile is loaded (TreefileSchema).
        var log = try KernelLayout.placeKernel(kernel, in: root)
        let placed = InstalledKernel(version: kernel.version, image: kernel.modulesFolder + "/vmlinuz")
        let output = try PostprocessLog.append(logFile)
        defer { try? output.close() }

        let depmod = try tool(["usr/sbin/depmod", "usr/bin/depmod"], in: root, package: "kmod", purpose: "index the kernel's modules")
        try runInTree([depmod, "-a", placed.version], root: rootURL, what: "depmod", log: output)
        log.append("kernel \(placed.version): depmod")

        if !config.noInitramfs {
            log.append(try initramfs(placed, root: root, arguments: config.initramfsArgs, log: output))
        }
        log += try KernelLayout.placeForBootLocation(placed, location: config.bootLocation, in: root)
        return log
    }

    /// The initramfs: the cached one when its inputs are unchanged, else dracut's.
    private func initramfs(_ kernel: InstalledKernel, root: RootDirectory, arguments extra: [String], log: FileHandle) throws -> String {
        let dracut = try tool(["usr/bin/dracut", "usr/sbin/dracut"], in: root, package: "dracut", purpose: "build the initramfs")
        let arguments = Self.dracutArguments(kernel: kernel.version, extra: extra)
        let image = "\(kernel.modulesFolder)/initramfs.img"
        let probe = try InitramfsInputs.probe(root: root, kernel: kernel, arguments: arguments)
        if let cache, let reused = try cache.reuse(probe: probe, root: root, into: try root.path(image), events: events) {
            return "kernel \(kernel.version): initramfs reused (\(reused), its inputs unchanged)"
        }
        try root.removeIfPresent(Self.stagingFolder)
        try root.makeDirectory(Self.stagingFolder, mode: 0o700)
        defer { try? root.removeIfPresent(Self.stagingFolder) }
        let start = Date()
        try runInTree([dracut] + arguments, root: root.url, what: "dracut", log: log)
        guard let status = root.status(image), status.st_mode & S_IFMT == S_IFREG, status.st_size > 0 else {
            throw ComposeError(.postprocess, subject: "dracut", "dracut ended without writing /\(image)", details: PostprocessLog.tail(logFile))
        }
        try root.setMode(image, 0o644)
        let seconds = Date().timeIntervalSince(start)
        if let cache {
            let staged = try stagedFolder(root)
            let included = try InitramfsInputs.included(staged: staged, root: root)
            try cache.store(probe: probe, included: included, image: try root.path(image), events: events)
        }
        return "kernel \(kernel.version): dracut built /\(image) (\(status.st_size) bytes) in \(String(format: "%.1f", seconds)) s"
    }

    /// dracut's staging folder (`--keep`): `dracut.XXXXXX/initramfs` under the staging folder.
    private func stagedFolder(_ root: RootDirectory) throws -> URL {
        let base = URL(fileURLWithPath: try root.path(Self.stagingFolder))
        let runs = ((try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []).filter { $0.hasPrefix("dracut.") }
        guard runs.count == 1 else {
            throw ComposeError(.postprocess, subject: "dracut", "cannot find what dracut staged in /\(Self.stagingFolder) (found \(runs))")
        }
        return base.appendingPathComponent(runs[0]).appendingPathComponent("initramfs")
    }

    private func tool(_ candidates: [String], in root: RootDirectory, package: String, purpose: String) throws -> String {
        guard let found = candidates.first(where: { root.exists($0) }) else {
            throw ComposeError(.postprocess, subject: "kernel",
                               "the tree has a kernel but no \(candidates[0].split(separator: "/").last!) to \(purpose): add `\(package)` to `packages`")
        }
        return "/" + found
    }

    /// Runs a tool of the tree with the tree as `/`: under bubblewrap, or
    /// (`--sandbox none`) chrooted in network and pid namespaces of its own.
    private func runInTree(_ command: [String], root: URL, what: String, log: FileHandle) throws {
        log.write(Data(">>> \(command.joined(separator: " "))\n".utf8))
        try cancellation?.check(.postprocess)
        let exit: SupervisedExit
        switch confinement {
        case .sandboxed(let sandbox):
            exit = try sandbox.run(command, inRoot: root, timeout: timeout, cancellation: cancellation, log: log)
        case .unconfined:
            // dracut reads /proc: a proc of the tool's own pid namespace, mounted
            // in its own mount namespace, so nothing stays mounted in the tree.
            let created = MountPoints.missing(in: root, for: ["/proc"])
            for path in created { try? FileManager.default.createDirectory(at: root.appendingPathComponent(path), withIntermediateDirectories: true) }
            defer { MountPoints.removeCreated(created, in: root) }
            let unshare = ["/usr/bin/unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc=\(root.path)/proc"]
            let process = SupervisedProcess(arguments: unshare + ["/usr/sbin/chroot", root.path] + command,
                                            environment: Sandbox.environment(sourceDateEpoch: sourceDateEpoch),
                                            standardOutput: log, standardError: log)
            exit = try process.run(timeout: timeout, cancellation: cancellation)
        }
        try cancellation?.check(.postprocess)
        switch exit {
        case .exited(status: 0):
            return
        case .exited(let status):
            throw ComposeError(.postprocess, subject: what, "\(what) failed in the tree (exit status \(status))", details: PostprocessLog.tail(logFile))
        case .timedOut(let seconds):
            throw ComposeError(.postprocess, subject: what,
                               "\(what) did not finish within \(Int(seconds)) s and was stopped (--scriptlet-timeout)", details: PostprocessLog.tail(logFile))
        }
    }
}
