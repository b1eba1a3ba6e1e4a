import Foundation
import LibRPM

/// `remove-from-packages: [[PACKAGE, REGEX…]…]`: the files of PACKAGE whose
/// path matches a REGEX (unanchored, as rpm-ostree's GRegex match) are
/// left out of the tree. rpm-ostree matches while importing, where /etc is
/// already /usr/etc; a file under /etc is matched under both spellings.
/// The rpmdb still lists the files, as in rpm-ostree.
///
/// A matched directory is removed only when nothing else is left in it:
/// other packages may own files there.
struct PackageFileRemoval {
    var root: RootDirectory
    var databasePath: String
    var progress: ComposeProgress

    func apply(_ rules: [RemoveFromPackage]) throws -> [String] {
        try RPMConfiguration.load(databasePath: databasePath)
        var log: [String] = []
        for rule in rules {
            let patterns = try rule.patterns.map { pattern in
                do {
                    return (pattern, try Regex(pattern))
                } catch {
                    throw ComposeError(.postprocess, subject: "remove-from-packages: \(rule.package)",
                                       "invalid regular expression \(pattern): \(error)")
                }
            }
            let owned: [String]?
            do {
                owned = try RPMDatabase.files(root: root.url.path, ofPackageNamed: rule.package)
            } catch let error as RPMError {
                throw ComposeError(.postprocess, subject: "remove-from-packages: \(rule.package)", "cannot read the rpm database: \(error)")
            }
            guard let owned else {
                throw Self.notInstalled(rule.package)
            }
            var matchedBy = Set<String>()
            var removed = 0
            // Deepest first, so a directory is looked at after its files.
            for path in owned.sorted(by: >) {
                let spellings = path.hasPrefix("/etc/") ? [path, "/usr" + path] : [path]
                guard let match = patterns.first(where: { pattern in spellings.contains { $0.contains(pattern.1) } }) else { continue }
                matchedBy.insert(match.0)
                if try removeIfPossible(path) { removed += 1 }
            }
            for (pattern, _) in patterns where !matchedBy.contains(pattern) {
                progress.warning("remove-from-packages: \(pattern) matches no file of \(rule.package)")
                log.append("remove-from-packages: \(rule.package): \(pattern) matches nothing")
            }
            log.append("remove-from-packages: \(rule.package): removed \(removed) of its \(owned.count) files")
        }
        return log
    }

    static func notInstalled(_ package: String, stage: Stage = .postprocess) -> ComposeError {
        ComposeError(stage, subject: "remove-from-packages: \(package)",
                     "\(package) is not installed in this tree; add it to packages or drop the entry")
    }

    private func removeIfPossible(_ path: String) throws -> Bool {
        let relative = RootPath.relative(path)
        guard root.exists(relative) else { return false }
        if root.isDirectory(relative), try !root.entries(relative).isEmpty { return false }
        try root.removeIfPresent(relative)
        return true
    }
}
