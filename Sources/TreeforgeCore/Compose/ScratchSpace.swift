import Foundation

/// Where a compose's scratch folder (the root librpm installs into, the
/// logs) is made when `--workdir` does not name one.
///
/// A root is thousands of small files written once, read once by the commit
/// and removed: creating an inode costs ~420 µs of kernel time on the ext4
/// disk of the development machine against ~9 µs in a tmpfs, and the install
/// stage of the payload corpus takes 8–11 s with the root on disk against
/// about 3 s in memory (docs/performance.md). In memory the root costs
/// RAM instead, as much as the tree is large, for the compose's duration —
/// what rpm-ostree's `--workdir-tmpfs` offered.
public enum ScratchPlacement: String, Sendable, Codable, CaseIterable {
    /// In memory (`/dev/shm`) when it fits with room to spare, else on disk.
    case auto
    /// In memory, whatever the size (fails when it does not fit).
    case tmpfs
    /// On disk, in /var/tmp.
    case disk
}

enum ScratchSpace {
    static let diskPrefix = "/var/tmp/treeforge-compose-"
    static let memoryFolder = "/dev/shm"
    static let memoryPrefix = memoryFolder + "/treeforge-compose-"
    /// Prefixes of the scratch folders treeforge makes (and may remove).
    static let prefixes = [diskPrefix, memoryPrefix]

    /// The folder prefix for a compose whose packages install `installSize`
    /// bytes, and why, for the install log.
    static func prefix(for placement: ScratchPlacement, installSize: UInt64) -> (prefix: String, reason: String) {
        switch placement {
        case .disk:
            return (diskPrefix, "on disk (--no-workdir-tmpfs)")
        case .tmpfs:
            return (memoryPrefix, "in memory (--workdir-tmpfs)")
        case .auto:
            // Room for the tree, what the postprocess adds (an initramfs, the
            // rpmdb) and the page cache the commit reads through.
            let needed = installSize + installSize / 2 + (256 << 20)
            guard let memory = usableMemory() else { return (diskPrefix, "on disk (\(memoryFolder) is not a tmpfs that can run programs)") }
            guard memory >= needed else {
                return (diskPrefix, "on disk (\(mib(needed)) MiB wanted, \(mib(memory)) MiB free in \(memoryFolder) and memory)")
            }
            return (memoryPrefix, "in memory (\(mib(needed)) MiB wanted, \(mib(memory)) MiB free)")
        }
    }

    /// The smaller of /dev/shm's free space and the memory available, or nil
    /// when /dev/shm is not a tmpfs mount or does not allow running programs
    /// (the scriptlets run from the root).
    static func usableMemory() -> UInt64? {
        guard let mount = mountOptions(of: memoryFolder), mount.type == "tmpfs", !mount.options.contains("noexec") else { return nil }
        var vfs = statvfs()
        guard statvfs(memoryFolder, &vfs) == 0 else { return nil }
        let free = UInt64(vfs.f_bavail) * UInt64(vfs.f_frsize)
        return min(free, memoryAvailable() ?? free)
    }

    /// The filesystem type and mount options of the mount point `path`
    /// (the last mount there wins), from /proc/self/mounts.
    static func mountOptions(of path: String) -> (type: String, options: Set<String>)? {
        guard let text = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return nil }
        var found: (type: String, options: Set<String>)?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 4, fields[1] == path else { continue }
            found = (String(fields[2]), Set(fields[3].split(separator: ",").map(String.init)))
        }
        return found
    }

    /// `MemAvailable` of /proc/meminfo, in bytes.
    static func memoryAvailable() -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            return line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) }.map { $0 * 1024 }
        }
        return nil
    }

    private static func mib(_ bytes: UInt64) -> UInt64 { bytes >> 20 }
}
