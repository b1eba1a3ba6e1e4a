import Foundation

extension Sandbox {
    /// Runs `command` with `root` as `/` (shape b), its stdout and stderr
    /// streamed into `log`, stopped with everything it started after
    /// `timeout` seconds. Mount-point folders bwrap had to create in the root
    /// are removed again (see `MountPoints`).
    public func run(_ command: [String], inRoot root: URL, writable: Bool = true, readOnly binds: [Bind] = [],
                    timeout: TimeInterval, log: FileHandle) throws -> SupervisedExit {
        let missing = MountPoints.missing(in: root)
        defer { MountPoints.removeCreated(missing, in: root) }
        let process = SupervisedProcess(arguments: arguments(inRoot: root, writable: writable, readOnly: binds, command: command),
                                        environment: [:], standardOutput: log, standardError: log)
        return try process.run(timeout: timeout)
    }
}

/// The folders bwrap mounts /dev, /proc and /tmp on. bwrap creates them in
/// the root when they are missing, and a mount hides what happens to the
/// folder underneath; the tree must not gain folders no package owns.
public enum MountPoints {
    /// Which of `Sandbox.mountPoints` do not exist in `root` yet.
    public static func missing(in root: URL) -> [String] {
        Sandbox.mountPoints.filter { !FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path) }
    }

    /// Removes those of `created` that are still empty folders: bwrap made
    /// them and nothing wrote underneath the mount.
    public static func removeCreated(_ created: [String], in root: URL) {
        for name in created {
            let folder = root.appendingPathComponent(name)
            if let content = try? FileManager.default.contentsOfDirectory(atPath: folder.path), content.isEmpty {
                try? FileManager.default.removeItem(at: folder)
            }
        }
    }
}
