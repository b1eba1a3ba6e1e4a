import Foundation

/// One repository section of a dnf `.repo` file.
public struct RepoDefinition: Sendable, Equatable {
    public var id: String
    public var name: String
    /// A `file://` URL (a local folder) or an `http(s)://` URL.
    public var baseURL: URL
    public var enabled: Bool
    public var gpgcheck: Bool
    /// The `gpgkey=` files: `file://` URLs or paths (resolved like `baseurl`),
    /// or `http(s)://` URLs.
    public var gpgkeys: [URL] = []
    /// dnf's priority: a lower number wins outright (default 99).
    public var priority: Int = 99
    /// dnf's cost: among equal priorities the cheaper repository is preferred (default 1000).
    public var cost: Int = 1000
    /// Package name globs never taken from this repository.
    public var excludePackages: [String] = []
    /// When set, only package names matching these globs are taken from it.
    public var includePackages: [String] = []

    public var isRemote: Bool { !baseURL.isFileURL }
    /// What `priority` and `cost` may be: libsolv keeps them negated (a
    /// higher number wins there) in 32-bit ints.
    public static let weights = -Int(Int32.max)...Int(Int32.max)
    /// `priority` and `cost` as libsolv's priority and subpriority.
    public var solvPriorities: (priority: Int32, subpriority: Int32) { (Int32(-priority), Int32(-cost)) }
    /// The `.repo` file and line that defined it, for error messages.
    public var definedAt: String
}

/// Reads dnf INI `.repo` files. Only the folder's own files are read — never
/// the host's /etc/yum.repos.d — so a compose depends on nothing outside the
/// treefile's folder.
public struct RepoFileReader: Sendable {
    public var basearch: String
    public var releasever: String?

    public init(basearch: String, releasever: String?) {
        self.basearch = basearch
        self.releasever = releasever
    }

    /// Every repository defined by the `*.repo` files in `directory`.
    public func definitions(in directory: URL) throws -> [String: RepoDefinition] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var all: [String: RepoDefinition] = [:]
        for name in names.sorted() where name.hasSuffix(".repo") {
            let file = directory.appendingPathComponent(name)
            for definition in try parse(file) {
                if let earlier = all[definition.id] {
                    throw ComposeError(.resolve, subject: definition.definedAt,
                                       "repository `\(definition.id)` is defined twice (also at \(earlier.definedAt))")
                }
                all[definition.id] = definition
            }
        }
        return all
    }

    func parse(_ file: URL) throws -> [RepoDefinition] {
        var sections: [(id: String, line: Int, values: [String: String])] = []
        for (index, raw) in try Self.lines(of: file).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                sections.append((String(line.dropFirst().dropLast()), index + 1, [:]))
            } else if let eq = line.firstIndex(of: "="), !sections.isEmpty {
                let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                sections[sections.count - 1].values[key] = substitute(value)
            } else {
                throw ComposeError(.resolve, subject: "\(file.path):\(index + 1)", "not a `[section]` or `key=value` line")
            }
        }
        return try sections.map { section in
            let at = "\(file.path):\(section.line)"
            guard let base = section.values["baseurl"]?.split(separator: " ").first.map(String.init) else {
                throw ComposeError(.resolve, subject: at, "repository `\(section.id)` has no baseurl (metalink and mirrorlist are not supported)")
            }
            func number(_ key: String, default fallback: Int) throws -> Int {
                guard let text = section.values[key] else { return fallback }
                guard let value = Int(text), RepoDefinition.weights.contains(value) else {
                    throw ComposeError(.resolve, subject: at,
                                       "`\(key)` of repository `\(section.id)` must be a whole number from \(RepoDefinition.weights.lowerBound) to \(RepoDefinition.weights.upperBound), not \(text)")
                }
                return value
            }
            return RepoDefinition(
                id: section.id, name: section.values["name"] ?? section.id,
                baseURL: try baseURL(base, relativeTo: file.deletingLastPathComponent(), at: at),
                enabled: Self.bool(section.values["enabled"], default: true),
                gpgcheck: Self.bool(section.values["gpgcheck"], default: false),
                gpgkeys: try Self.list(section.values["gpgkey"]).map {
                    try location($0, relativeTo: file.deletingLastPathComponent(), at: at, key: "gpgkey")
                },
                priority: try number("priority", default: 99),
                cost: try number("cost", default: 1000),
                excludePackages: Self.list(section.values["excludepkgs"] ?? section.values["exclude"]),
                includePackages: Self.list(section.values["includepkgs"]),
                definedAt: at)
        }
    }

    /// The file's lines, each checked to be UTF-8 so an error names the line.
    static func lines(of file: URL) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ComposeError(.resolve, subject: file.path, "cannot read the file")
        }
        return try data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated().map { index, bytes in
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw ComposeError(.resolve, subject: "\(file.path):\(index + 1)", "the line is not valid UTF-8")
            }
            return line
        }
    }

    /// A folder: as `location`, with a trailing slash on remote URLs so
    /// relative paths resolve inside it.
    private func baseURL(_ value: String, relativeTo directory: URL, at: String) throws -> URL {
        let isRemote = value.hasPrefix("http://") || value.hasPrefix("https://")
        return try location(isRemote && !value.hasSuffix("/") ? value + "/" : value, relativeTo: directory, at: at, key: "baseurl")
    }

    /// `file://` and `http(s)://` URLs, and — a treeforge extension so a
    /// treefile folder can carry its own repository — plain paths relative
    /// to the `.repo` file.
    private func location(_ value: String, relativeTo directory: URL, at: String, key: String) throws -> URL {
        if value.hasPrefix("file://") {
            return URL(fileURLWithPath: String(value.dropFirst("file://".count)))
        }
        if value.hasPrefix("http://") || value.hasPrefix("https://") {
            guard let url = URL(string: value) else {
                throw ComposeError(.resolve, subject: at, "not a valid URL: \(value)")
            }
            return url
        }
        if value.contains("://") {
            throw ComposeError(.resolve, subject: at, "unsupported \(key) scheme: \(value)")
        }
        return URL(fileURLWithPath: value, relativeTo: directory).standardizedFileURL
    }

    private func substitute(_ value: String) -> String {
        var out = value.replacingOccurrences(of: "$basearch", with: basearch)
        if let releasever { out = out.replacingOccurrences(of: "$releasever", with: releasever) }
        return out
    }

    /// dnf lists: separated by commas and/or whitespace.
    static func list(_ value: String?) -> [String] {
        (value ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
    }

    static func bool(_ value: String?, default fallback: Bool) -> Bool {
        guard let value = value?.lowercased() else { return fallback }
        return ["1", "yes", "true", "on"].contains(value)
    }
}
