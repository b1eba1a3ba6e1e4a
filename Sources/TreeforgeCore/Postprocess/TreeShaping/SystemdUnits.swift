import Foundation

/// `units` and `default-target`: the symlinks `systemctl enable` and
/// `systemctl set-default` would make, written without running systemctl.
///
/// A unit is enabled from its `[Install]` section (`WantedBy=`,
/// `RequiredBy=`, `UpheldBy=`, `Alias=`, `Also=`, `DefaultInstance=` for
/// templates). A unit with no `[Install]` section goes into
/// `multi-user.target.wants`, which is what rpm-ostree does for every unit.
struct SystemdUnits {
    var root: RootDirectory
    var events: ComposeEventSink
    /// Unit files `add-files` will put in the tree (path in the tree → the
    /// source): `units` comes first in rpm-ostree's order, but a unit the
    /// treefile itself adds is enabled from its own `[Install]` section.
    var added: [String: URL] = [:]

    /// Where units are looked for, in systemd's order of precedence for the
    /// admin and vendor directories.
    static let unitDirectories = ["etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system"]
    static let enableDirectory = "etc/systemd/system"

    func enable(_ units: [String]) throws -> [String] {
        var log: [String] = []
        var done = Set<String>()
        var pending = units
        while !pending.isEmpty {
            let unit = pending.removeFirst()
            guard done.insert(unit).inserted else { continue }
            guard let file = try unitFile(for: unit) else {
                // rpm-ostree links it anyway; say so, since it will not start.
                let link = "\(Self.enableDirectory)/multi-user.target.wants/\(unit)"
                events.warning("units: no unit file \(unit) in the tree (looked in /\(Self.unitDirectories.joined(separator: ", /"))); linked into multi-user.target.wants as rpm-ostree does, but it will not start")
                try makeSymlink(link, to: "/usr/lib/systemd/system/\(unit)", for: unit)
                log.append("units: \(unit) (no unit file): /\(link) → /usr/lib/systemd/system/\(unit)")
                continue
            }
            let install = try InstallSection(parsing: added[file] ?? root.url.appendingPathComponent(try RootPath.resolve(file, in: root.url)))
            var name = unit
            if unit.contains("@.") {
                // A bare template ("getty@.service") is enabled with its DefaultInstance.
                guard let instance = install.defaultInstance else {
                    throw ComposeError(.postprocess, subject: "units: \(unit)",
                                       "\(unit) is a template with no DefaultInstance=; name an instance, such as \(unit.replacingOccurrences(of: "@.", with: "@name."))")
                }
                name = unit.replacingOccurrences(of: "@.", with: "@\(instance).")
            }
            let target = "/" + file
            var links: [(String, String)] = []
            for wanted in install.wantedBy { links.append(("\(Self.enableDirectory)/\(wanted).wants/\(name)", target)) }
            for required in install.requiredBy { links.append(("\(Self.enableDirectory)/\(required).requires/\(name)", target)) }
            for upheld in install.upheldBy { links.append(("\(Self.enableDirectory)/\(upheld).upholds/\(name)", target)) }
            for alias in install.alias { links.append(("\(Self.enableDirectory)/\(alias)", target)) }
            pending += install.also
            if !install.present {
                links.append(("\(Self.enableDirectory)/multi-user.target.wants/\(name)", target))
            }
            for (link, destination) in links {
                try makeSymlink(link, to: destination, for: unit)
                log.append("units: \(unit): /\(link) → \(destination)")
            }
        }
        return log
    }

    func setDefaultTarget(_ target: String) throws -> [String] {
        let link = "usr/lib/systemd/system/default.target"
        try root.symlink(link, to: target)
        return ["default-target: /\(link) → \(target)"]
    }

    /// The unit's file: for an instance ("getty@tty1.service") its template.
    private func unitFile(for unit: String) throws -> String? {
        var candidates = [unit]
        if let at = unit.firstIndex(of: "@"), let dot = unit.lastIndex(of: "."), at < dot {
            candidates.append(String(unit[...at]) + String(unit[dot...]))
        }
        for name in candidates {
            for directory in Self.unitDirectories {
                let relative = directory + "/" + name
                if added[relative] != nil { return relative }
                let resolved = try RootPath.resolve(relative, in: root.url)
                if root.status(resolved).map({ $0.st_mode & S_IFMT == S_IFREG }) == true {
                    // Link to the unit where systemd looks for it, not through /lib.
                    let canonical = directory == "lib/systemd/system" ? "usr/lib/systemd/system/\(name)" : relative
                    return canonical
                }
            }
        }
        return nil
    }

    /// A link that is already there stays, as in rpm-ostree; one pointing
    /// elsewhere is worth a warning.
    private func makeSymlink(_ link: String, to destination: String, for unit: String) throws {
        if root.isSymlink(link) {
            let existing = try root.symlinkTarget(link)
            if existing != destination {
                events.warning("units: \(unit): /\(link) already points to \(existing); left as it is")
            }
            return
        }
        if root.exists(link) {
            events.warning("units: \(unit): /\(link) already exists and is not a symlink; left as it is")
            return
        }
        try root.symlink(link, to: destination)
    }
}

/// A unit file's `[Install]` section.
struct InstallSection {
    var present = false
    var wantedBy: [String] = []
    var requiredBy: [String] = []
    var upheldBy: [String] = []
    var alias: [String] = []
    var also: [String] = []
    var defaultInstance: String?

    init(parsing file: URL) throws {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw ComposeError(.postprocess, subject: file.lastPathComponent, "cannot read the unit file")
        }
        var inInstall = false
        var pendingLine = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = pendingLine + rawLine.trimmingCharacters(in: .whitespaces)
            pendingLine = ""
            if line.hasSuffix("\\") {
                pendingLine = String(line.dropLast()) + " "
                continue
            }
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                inInstall = line == "[Install]"
                if inInstall { present = true }
                continue
            }
            guard inInstall, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            line = String(line[line.index(after: equals)...])
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            switch key {
            case "WantedBy": wantedBy += words
            case "RequiredBy": requiredBy += words
            case "UpheldBy": upheldBy += words
            case "Alias": alias += words
            case "Also": also += words
            case "DefaultInstance": defaultInstance = words.first
            default: continue
            }
        }
        // An [Install] section that names nothing is, to systemctl, no install config.
        if wantedBy.isEmpty && requiredBy.isEmpty && upheldBy.isEmpty && alias.isEmpty && also.isEmpty {
            present = false
        }
    }
}
