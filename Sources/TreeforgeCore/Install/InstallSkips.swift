import Foundation
import LibRPM

/// What librpm must not install, given to it as `%_netsharedpath` (skipped,
/// and recorded in the rpmdb as "net shared", so `rpm -V` stays clean):
///
/// - the sandbox's mount points (`/dev`, `/proc`, `/tmp`): content there
///   would land on fresh mounts and vanish;
/// - device nodes: OSTree cannot commit them and rpm-ostree's import drops
///   them (`ignore-devices: false` makes them an error instead);
/// - `remove-from-packages`: the named package's files whose path matches a
///   regex anywhere (unanchored, as rpm-ostree's GRegex match; a file under
///   /etc also matches as /usr/etc/…, the path rpm-ostree sees). As in
///   rpm-ostree they are never installed, so no scriptlet sees them.
///   Directories stay: the skip list is global, and other packages may
///   own files inside them.
///
/// A named pipe that `remove-from-packages` does not leave out fails the
/// install before the transaction: OSTree cannot store one, and rpm 4.18.0
/// (Debian 12's) blocks for ever opening the pipe it has just created
/// (rpm-software-management/rpm#2195), so the compose would hang instead of
/// failing at the commit.
struct InstallSkips {
    var paths: [String] = []
    /// Lines for the install log: what was left out.
    var log: [String] = []
    var warnings: [String] = []
    /// Set when the plan cannot be installed as asked.
    var failure: InstallEvent?

    init(plan: InstallPlan, lists: [RPMPackageFileList]) throws {
        paths = plan.mountPoints
        var devices: [(nevra: String, entry: RPMPackageFileList.Entry)] = []
        for list in lists {
            for entry in list.files where entry.isCharacterDevice || entry.isBlockDevice {
                devices.append((list.nevra, entry))
            }
        }
        if !devices.isEmpty, !plan.ignoreDevices {
            failure = Self.refusal("the packages ship device files, which OSTree cannot commit (`ignore-devices: false` makes them an error)",
                                   devices.map { ($0.nevra, "\($0.entry.path) (\($0.entry.isCharacterDevice ? "character" : "block") device \($0.entry.major):\($0.entry.minor), from \($0.nevra))") })
            return
        }
        paths += devices.map(\.entry.path)
        for rule in plan.removeFromPackages {
            try skip(rule, in: lists.filter { $0.name == rule.package })
        }
        let pipes = lists.flatMap { list in
            list.files.filter { $0.isFIFO && !skips($0.path) }.map { (list.nevra, "\($0.path) (named pipe, from \(list.nevra))") }
        }
        if !pipes.isEmpty {
            failure = Self.refusal("the packages ship named pipes (FIFOs), which OSTree cannot commit; leave them out with `remove-from-packages`", pipes)
        }
    }

    /// Whether librpm leaves `path` out: a `%_netsharedpath` entry names it
    /// or a folder above it, as rpm matches them.
    func skips(_ path: String) -> Bool {
        paths.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// The install's failure for `files` (the package's NEVRA, a line about
    /// the file), naming each package once, in order.
    private static func refusal(_ message: String, _ files: [(nevra: String, detail: String)]) -> InstallEvent {
        var packages: [String] = []
        for file in files where !packages.contains(file.nevra) { packages.append(file.nevra) }
        return .failed(message: message, package: packages.joined(separator: ", "), details: files.map(\.detail))
    }

    private mutating func skip(_ rule: RemoveFromPackage, in lists: [RPMPackageFileList]) throws {
        let patterns = try rule.patterns.map { ($0, try Regex($0)) }
        var matched = Set<String>()
        var removed = 0
        let files = lists.flatMap(\.files)
        for file in files where !file.isDirectory {
            let spellings = file.path.hasPrefix("/etc/") ? [file.path, "/usr" + file.path] : [file.path]
            guard let match = patterns.first(where: { pattern in spellings.contains { $0.contains(pattern.1) } }) else { continue }
            matched.insert(match.0)
            paths.append(file.path)
            removed += 1
        }
        log.append("remove-from-packages: \(rule.package): removed \(removed) of its \(files.count) files")
        for (pattern, _) in patterns where !matched.contains(pattern) {
            warnings.append("remove-from-packages: \(pattern) matches no file of \(rule.package)")
        }
    }
}
