import Foundation

/// Which process a pid named when it was recorded: this boot's id and the
/// process's start time. A pid alone is reused (pid_max is 32768 here), and
/// under the server every compose is a treeforge process, so "a treeforge
/// process with that pid runs" would keep a dead build `running` for as
/// long as some later compose happened to get its number.
enum ProcessIdentity {
    /// `<boot id>:<start time in clock ticks since boot>`, nil when no such process runs.
    static func of(_ pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)" come the fields from the 3rd (state) on; the 22nd is the start time.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return "\(bootID):\(fields[19])"
    }

    private static let bootID = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown-boot"

    /// Whether the process a build recorded still runs. Rows from before
    /// identities were recorded fall back to the pid and the command line.
    static func isAlive(pid: Int32?, identity: String?) -> Bool {
        guard let pid, pid > 0 else { return false }
        if let identity { return of(pid) == identity }
        guard kill(pid, 0) == 0 else { return false }
        let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        return String(decoding: cmdline, as: UTF8.self).contains("treeforge")
    }
}

extension BuildRecord {
    /// Signals the compose process running this build — the one its pid and
    /// start time name, never a later process that reused the pid; false when
    /// none runs.
    public func signalComposeProcess(_ signal: Int32) -> Bool {
        guard let pid, ProcessIdentity.isAlive(pid: pid, identity: process) else { return false }
        return kill(pid, signal) == 0
    }
}
