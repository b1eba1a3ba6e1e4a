import Foundation

extension Sandbox {
    /// Runs `command` with `root` as `/` (shape b), its stdout and stderr
    /// streamed into `log`, stopped with everything it started after
    /// `timeout` seconds. Folders bwrap had to create in the root for its
    /// mounts are removed again (see `MountPoints`).
    public func run(_ command: [String], inRoot root: URL, writable: Bool = true, readOnly binds: [Bind] = [],
                    timeout: TimeInterval, cancellation: Cancellation? = nil, log: FileHandle) throws -> SupervisedExit {
        let created = MountPoints.missing(in: root, for: Self.mountPoints.map { "/" + $0 } + binds.map(\.destination))
        defer { MountPoints.removeCreated(created, in: root) }
        let process = SupervisedProcess(arguments: arguments(inRoot: root, writable: writable, readOnly: binds, command: command),
                                        environment: [:], standardOutput: log, standardError: log)
        return try process.run(timeout: timeout, cancellation: cancellation)
    }
}

/// The folders bwrap mounts on. bwrap creates them in the root when they are
/// missing, and a mount hides what happens to the folder underneath: the
/// tree must not gain folders no package owns.
public enum MountPoints {
    /// For each mount destination (an absolute path in the root), its
    /// topmost folder that does not exist yet; relative paths, deduplicated.
    public static func missing(in root: URL, for destinations: [String] = Sandbox.mountPoints.map { "/" + $0 }) -> [String] {
        var created: [String] = []
        for destination in destinations {
            var path = ""
            for component in destination.split(separator: "/") {
                path += path.isEmpty ? String(component) : "/\(component)"
                if !FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path) {
                    if !created.contains(path) { created.append(path) }
                    break
                }
            }
        }
        return created
    }

    /// Removes those of `created` that hold nothing but empty folders: bwrap
    /// made them and nothing was written underneath the mounts.
    public static func removeCreated(_ created: [String], in root: URL) {
        for path in created {
            let folder = root.appendingPathComponent(path)
            if holdsOnlyEmptyFolders(folder) { try? FileManager.default.removeItem(at: folder) }
        }
    }

    static func holdsOnlyEmptyFolders(_ folder: URL) -> Bool {
        guard (try? folder.resourceValues(forKeys: [.isDirectoryKey, .isSymbolicLinkKey])).map({ $0.isDirectory == true && $0.isSymbolicLink != true }) == true,
              let content = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return false }
        return content.allSatisfy { holdsOnlyEmptyFolders(folder.appendingPathComponent($0)) }
    }
}
