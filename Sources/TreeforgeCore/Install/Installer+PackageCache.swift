import Foundation

/// Installing from the package cache: the root is laid out by hardlinks to
/// the cache's objects instead of librpm unpacking every payload, then
/// librpm runs the scriptlets and writes the rpmdb:
///
/// 1. the packages the cache lacks are imported (`PackageCache`);
/// 2. their commits are checked out into the root (hardlinks on the
///    cache's filesystem, else copies), setuid and setgid files and other
///    owners on copies of their own;
/// 3. librpm runs the scriptlets of the packages that have any, in its own
///    order, every file being a netshared path to it, hardlinked roots seen
///    through `rofiles-fuse --copyup` so a scriptlet that writes a file
///    changes a copy, never the cache's object; the rpmdb it writes is
///    thrown away;
/// 4. librpm writes the rpmdb of the whole set (`--justdb`).
///
/// The scriptlets see every package's files from the start, as under
/// rpm-ostree. Where the cache could not give the tree librpm would write
/// (triggers, files left out, owners a `%pre` has yet to create), the
/// install goes through librpm alone, saying why in the install log.
extension Installer {
    /// The folder the scriptlets see the root through, in the workdir.
    static let scriptletRootName = "scriptlet-root"
    /// The same for postprocessing.
    static let postprocessRootName = "postprocess-root"
    /// The rpmdb the scriptlet run writes, inside the root, then removed.
    static let scriptletDatabasePath = "/.treeforge-scriptlet-rpmdb"

    /// Why this install cannot come from the package cache; nil when it can.
    var packageCacheRefusal: String? {
        if !documentation { return "`documentation: false` leaves files out" }
        if !installLanguages.isEmpty { return "`install-langs` leaves files out" }
        if !removeFromPackages.isEmpty { return "`remove-from-packages` leaves files out" }
        return nil
    }

    /// Lays the root out from the cache; false (the root left empty) when
    /// the cache cannot give this set's tree, after saying why in the log.
    func installFromCache(_ set: ResolvedSet, plan: InstallPlan, cache: PackageCache, confinement: Confinement,
                          context: StageContext) throws -> Bool {
        if let reason = packageCacheRefusal { return fallBack(reason) }
        // In the plan's order, which `cached` keeps.
        let byPath = Dictionary(set.packages.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let ordered = plan.packages.compactMap { byPath[$0.path] }
        let started = Date()
        let cached = try cache.importPackages(ordered.map { URL(fileURLWithPath: $0.path) }, cancellation: context.cancellation)
        let imported = Date()
        try context.cancellation.check(.install)
        if let package = cached.first(where: \.hasTriggers) {
            return fallBack("\(package.nevra) has triggers, which run on other packages' installs")
        }
        if let folder = PackageCache.disagreeingDirectories(cached).first {
            return fallBack("\(folder.packages.joined(separator: ", ")) list \(folder.path) with different modes or owners, and librpm's order decides which wins")
        }
        let withScriptlets = cached.indices.filter { !cached[$0].scriptlets.isEmpty }
        let linked = PackageCache.device(of: root) == PackageCache.device(of: cache.repositoryURL)
        // Hardlinks need the view for the scriptlets and postprocessing,
        // mounted (and so tried) before anything is laid out; copies need
        // none: writing them writes the tree's own.
        var view: CopyOnWriteMount?
        if linked {
            guard let executable = CopyOnWriteMount.executable() else {
                return fallBack("rofiles-fuse (package ostree) is not installed: without it scriptlets and postprocessing would write into the cache's objects")
            }
            do {
                view = try CopyOnWriteMount(executable: executable, source: root,
                                            mountPoint: workdir.appendingPathComponent(Self.scriptletRootName), log: logFile)
            } catch {
                return fallBack("\(error)")
            }
        }
        do {
            let installed = try layOut(cached, withScriptlets: withScriptlets, view: view, started: started, imported: imported,
                                       plan: plan, ordered: ordered, cache: cache, linked: linked, confinement: confinement, context: context)
            try view?.unmount()
            if installed && linked { layout.markShared() }
            return installed
        } catch {
            try? view?.unmount()
            throw error
        }
    }

    private func layOut(_ cached: [PackageCache.Package], withScriptlets: [Int], view: CopyOnWriteMount?, started: Date, imported: Date,
                        plan: InstallPlan, ordered: [ResolvedPackage], cache: PackageCache, linked: Bool,
                        confinement: Confinement, context: StageContext) throws -> Bool {
        do {
            try cache.assemble(cached, into: root)
        } catch let error as ComposeError {
            // Two packages shipping one path as different objects, a link across filesystems: librpm says it better.
            return try clearRoot(andFallBack: "\(error)")
        }
        if let seed = seedFiles.first(where: { FileManager.default.fileExists(atPath: root.appendingPathComponent($0.path).path) }) {
            return try clearRoot(andFallBack: "a package ships /\(seed.path), which treeforge seeds before librpm runs")
        }
        try writeSeedFiles()
        let unknown = PackageCache.unknownOwners(cached, in: root)
        if !unknown.isEmpty {
            return try clearRoot(andFallBack: "files belong to \(unknown.joined(separator: ", ")), which only a scriptlet would create")
        }
        // The sandbox mounts its own /dev, /proc and /tmp, which librpm
        // leaves alone (netshared): so must the cache.
        for mountPoint in plan.mountPoints {
            try? FileManager.default.removeItem(at: root.appendingPathComponent(mountPoint))
        }
        try PackageCache.applyOwners(cached, in: root)
        appendToLog("treeforge: \(cached.count) packages laid out from the package cache \(cache.repositoryURL.path) (\(cached.filter(\.imported).count) imported now) by \(linked ? "hardlinks" : "copies"): looked up and imported in \(Self.elapsed(started, imported)), laid out in \(Self.elapsed(imported, Date()))")

        if !withScriptlets.isEmpty {
            var scriptlets = plan
            scriptlets.phase = .scriptlets
            scriptlets.root = view?.mountPoint.path ?? root.path
            scriptlets.databasePath = Self.scriptletDatabasePath
            scriptlets.packages = withScriptlets.map { plan.packages[$0] }
            scriptlets.orderedAmong = plan.packages
            // Every package readable: the order is the whole set's.
            try run(scriptlets, packages: ordered, confinement: confinement, context: context)
            try? FileManager.default.removeItem(at: root.appendingPathComponent(String(Self.scriptletDatabasePath.dropFirst())))
        }
        var database = plan
        database.phase = .database
        try run(database, packages: ordered, confinement: confinement, context: context)
        return true
    }

    /// Whether the root's files may be hardlinks to the package cache's
    /// objects: it was laid out from the cache, on the cache's filesystem.
    var rootSharesCacheObjects: Bool { layout.shared }

    /// Runs `body` on the root as later stages may change it in place: a root
    /// sharing the cache's objects through the copy-on-write view (`body`
    /// gets the view's path), any other as it is. Postprocessing edits files
    /// in place (its own rules, the treefile's scripts, dracut), and none of
    /// that may reach the cache.
    func withWritableRoot<T>(_ body: (URL) throws -> T) throws -> T {
        guard rootSharesCacheObjects, let executable = CopyOnWriteMount.executable() else { return try body(root) }
        let mount = try CopyOnWriteMount(executable: executable, source: root,
                                         mountPoint: workdir.appendingPathComponent(Self.postprocessRootName), log: logFile)
        let result: T
        do {
            result = try body(mount.mountPoint)
        } catch {
            try? mount.unmount()
            throw error
        }
        try mount.unmount()
        return result
    }

    static func elapsed(_ from: Date, _ to: Date) -> String {
        String(format: "%.2f s", to.timeIntervalSince(from))
    }

    private func fallBack(_ reason: String) -> Bool {
        appendToLog("treeforge: installing with librpm, not from the package cache: \(reason)")
        return false
    }

    private func clearRoot(andFallBack reason: String) throws -> Bool {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] {
            try FileManager.default.removeItem(at: root.appendingPathComponent(name))
        }
        return fallBack(reason)
    }

    func appendToLog(_ line: String) {
        guard let log = try? FileHandle(forWritingTo: logFile) else { return }
        defer { try? log.close() }
        _ = try? log.seekToEnd()
        log.write(Data((line + "\n").utf8))
    }
}

/// Whether the last install laid the root out by hardlinks to the cache:
/// set by `installFromCache`, read by the stages after it.
final class RootLayout: @unchecked Sendable {
    private let lock = NSLock()
    private var isShared = false
    var shared: Bool { lock.withLock { isShared } }
    func markShared() { lock.withLock { isShared = true } }
}

/// A folder seen through ostree's `rofiles-fuse --copyup`: folders are
/// writable, and a file with several links is copied before it is opened
/// for writing or has its metadata changed, so writing through the view
/// never changes another name of the same inode (the package cache's
/// object). rpm-ostree runs scriptlets over a hardlinked tree the same way.
struct CopyOnWriteMount {
    let mountPoint: URL
    private let server: SupervisedProcess

    static func executable() -> String? { Sandbox.findExecutable("rofiles-fuse") }

    /// Mounts, serving the view from a child of treeforge until `unmount`.
    /// (A treeforge killed meanwhile leaves it running and mounted: the
    /// workdir is then kept, as for any failed compose.)
    init(executable: String, source: URL, mountPoint: URL, log: URL) throws {
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        // As /proc/self/mounts spells it (no `//`, no links), to find it there.
        self.mountPoint = mountPoint.resolvingSymlinksInPath().standardizedFileURL
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        _ = try? output.seekToEnd()
        server = SupervisedProcess(arguments: [executable, "--copyup", "-f", source.path, self.mountPoint.path],
                                   environment: [:], standardOutput: output, standardError: output)
        try server.start()
        let deadline = Date().addingTimeInterval(30)
        while !Self.isMounted(self.mountPoint) {
            guard server.isRunning, Date() < deadline else {
                server.stop()
                throw ComposeError(.install, subject: mountPoint.path,
                                   "cannot mount the copy-on-write view scriptlets run in (rofiles-fuse --copyup); see \(log.path)")
            }
            usleep(10_000)
        }
    }

    /// Whether something is mounted on `folder`: its device is not its
    /// parent's (no path to unescape, as /proc/self/mounts's would need).
    static func isMounted(_ folder: URL) -> Bool {
        PackageCache.device(of: folder) != PackageCache.device(of: folder.deletingLastPathComponent())
    }

    func unmount() throws {
        defer {
            // rofiles-fuse ends once unmounted; a stuck one is stopped.
            let deadline = Date().addingTimeInterval(10)
            while server.isRunning, Date() < deadline { usleep(10_000) }
            server.stop()
            server.waitForExit()
        }
        if umount2(mountPoint.path, 0) != 0, umount2(mountPoint.path, Int32(MNT_DETACH)) != 0 {
            throw ComposeError(.install, subject: mountPoint.path, "cannot unmount the scriptlets' view: \(String(cString: strerror(errno)))")
        }
        try? FileManager.default.removeItem(at: mountPoint)
    }
}
