import Foundation

/// A bubblewrap (`bwrap`) confinement for code that packages and treefiles
/// bring along: rpm scriptlets and postprocess scripts. No network, a fresh
/// /dev, /proc and /tmp, its own pid, IPC, UTS and cgroup namespaces, a new
/// session (no terminal to inject input into), and only the capabilities
/// rpm-ostree gives scriptlets. Builds argument vectors; running them is
/// `SupervisedProcess`'s job, so the plan can be inspected without side effects.
public struct Sandbox: Sendable, Equatable {
    /// The bwrap executable.
    public var bwrap: String
    /// The whole environment of the confined command.
    public var environment: [String: String]

    /// rpm-ostree's list (rust/src/bwrap.rs): what librpm needs to set owners,
    /// modes and file capabilities and to chroot, and what scriptlets need to
    /// drop privileges. Left out on purpose: mknod (a device made by a
    /// scriptlet would not survive into the commit), net_raw, audit_write,
    /// sys_admin and everything newer.
    public static let capabilities = [
        "cap_chown", "cap_dac_override", "cap_fowner", "cap_fsetid", "cap_kill",
        "cap_setgid", "cap_setuid", "cap_setpcap", "cap_sys_chroot", "cap_setfcap",
    ]
    /// rpm-ostree's PATH for scripts: no /usr/local, which scripts should not see.
    public static let searchPath = "/usr/sbin:/usr/bin"
    /// The API filesystems mounted fresh inside the root.
    public static let mountPoints = ["dev", "proc", "tmp"]

    public init(bwrap: String, sourceDateEpoch: Int) {
        self.bwrap = bwrap
        environment = Self.environment(sourceDateEpoch: sourceDateEpoch)
    }

    /// The environment every confined command starts from (also used
    /// unconfined, so scriptlets see the same thing either way).
    public static func environment(sourceDateEpoch: Int) -> [String: String] {
        ["PATH": searchPath, "LANG": "C.UTF-8", "SOURCE_DATE_EPOCH": String(sourceDateEpoch)]
    }

    /// `bwrap` (or `name`) on the PATH (as rpm-ostree finds it), nil when there is none.
    public static func findExecutable(_ name: String = "bwrap", path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for folder in (path ?? "/usr/bin:/bin").split(separator: ":")
        where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
            return "\(folder)/\(name)"
        }
        return nil
    }

    /// Shape (a): a host command that writes into `root` (the rpm child).
    /// Of the host it sees only `hostView` (what runs the command) and the
    /// `readable` paths, read-only at their own paths, with its own /dev, /proc
    /// and an empty /tmp; `root` is writable at its own path with fresh /dev,
    /// /proc and /tmp inside it, so a process that chroots into it (librpm
    /// running a scriptlet) finds them there.
    public func arguments(writingInto root: URL, readable: [URL] = [], hostView: HostView? = nil,
                          command: [String]) -> [String] {
        let rootPath = root.standardizedFileURL.path
        let view = hostView ?? HostView.forRunning(command[0])
        // The fresh /tmp first: what is bound after it may live under the
        // host's /tmp (a checkout or a work folder there).
        var mounts = ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"] + view.mounts
        var seen = Set<String>()
        for path in readable.map(\.standardizedFileURL.path) where seen.insert(path).inserted {
            // bwrap refuses to start on a missing source (the -try form skips
            // it); the command inside then reports the missing file itself,
            // naming what needs it.
            mounts += ["--ro-bind-try", path, path]
        }
        mounts += ["--bind", rootPath, rootPath]
        for name in Self.mountPoints {
            mounts += [Self.mountOption(name), "\(rootPath)/\(name)"]
        }
        return [bwrap] + mounts + confinement + ["--chdir", "/", "--"] + command
    }

    /// Shape (b): `command` with `root` as `/` (writable or not), fresh /dev,
    /// /proc and /tmp, and host folders bound read-only where `binds` say
    /// (a treefile's folder for postprocess scripts).
    public func arguments(inRoot root: URL, writable: Bool = true, readOnly binds: [Bind] = [], command: [String]) -> [String] {
        var mounts = [writable ? "--bind" : "--ro-bind", root.standardizedFileURL.path, "/"]
        for name in Self.mountPoints {
            mounts += [Self.mountOption(name), "/\(name)"]
        }
        for bind in binds {
            mounts += ["--ro-bind", bind.source.standardizedFileURL.path, bind.destination]
        }
        return [bwrap] + mounts + confinement + ["--chdir", "/", "--"] + command
    }

    /// A host path made visible read-only at `destination` inside the sandbox.
    public struct Bind: Sendable, Equatable {
        public var source: URL
        public var destination: String
        public init(source: URL, destination: String) {
            self.source = source
            self.destination = destination
        }
    }

    /// Namespaces, capabilities and environment: the same for both shapes.
    var confinement: [String] {
        var arguments = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                         "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        for capability in Self.capabilities {
            arguments += ["--cap-add", capability]
        }
        arguments.append("--clearenv")
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            arguments += ["--setenv", name, value]
        }
        return arguments
    }

    private static func mountOption(_ name: String) -> String {
        switch name {
        case "dev": "--dev"
        case "proc": "--proc"
        default: "--tmpfs"
        }
    }
}
