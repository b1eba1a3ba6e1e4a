import Foundation
import LibSolv

/// Reads a treefile and everything it includes, and flattens them as
/// rpm-ostree does (its `treefile.rs` rules, reimplemented):
///
/// 1. each file is read and checked on its own (`TreefileLoader+File.swift`);
/// 2. its includes are collected: `include`, then the `arch-include` entry of
///    the basearch, then each `conditional-include` whose condition holds
///    (an inline treefile there is merged at once);
/// 3. each include is loaded depth-first and merged into the including file
///    by the schema's merge rules;
/// 4. after the whole tree: `${var}` substitution, then final checks.
public struct TreefileLoader: Sendable {
    public var basearch: String
    /// Variables given on the command line (`--var`); they win over the treefile's.
    public var variables: [String: JSONValue]

    static let maximumIncludeDepth = 50

    public init(basearch: String = Resolver.hostArchitecture, variables: [String: JSONValue] = [:]) {
        self.basearch = basearch
        self.variables = variables
    }

    public func load(_ url: URL) throws -> Treefile {
        let top = URL(fileURLWithPath: url.path)
        guard FileManager.default.fileExists(atPath: top.path) else {
            throw ComposeError(.load, subject: top.path, "treefile not found")
        }
        var state = LoadState(variables: variables.merging(["basearch": .string(basearch)]) { cli, _ in cli })
        var config = try loadFile(top, depth: 0, chain: [], state: &state)
        try VariableSubstitution.apply(to: &config, variables: state.variables)
        try validate(config)
        if config["basearch"] == nil {
            config.set("basearch", .string(basearch), at: nil)
        }
        let bytes = try Data(contentsOf: top)
        return Treefile(config: config, basearch: basearch, variables: state.variables,
                        sourceFiles: state.files, sha256: Checksum.sha256.hex(of: bytes), externalFiles: state.externalFiles)
    }

    struct LoadState {
        /// Variables defined so far; the first definition wins.
        var variables: [String: JSONValue]
        var files: [URL] = []
        /// The first treefile to name a file wins: includers load before their includes.
        var externalFiles: [ExternalFile] = []
        var seen: [FileIdentity: URL] = [:]
    }

    struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private func loadFile(_ file: URL, depth: Int, chain: [String], state: inout LoadState) throws -> TreefileConfig {
        var info = stat()
        guard stat(file.path, &info) == 0, let data = FileManager.default.contents(atPath: file.path) else {
            throw ComposeError(.load, subject: file.path, "cannot read the file", details: chain)
        }
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        if let earlier = state.seen[identity] {
            let also = earlier.path == file.path ? "" : " (also as \(earlier.path))"
            throw ComposeError(.load, subject: file.path, "this file is included twice\(also); each file may be included once", details: chain)
        }
        state.seen[identity] = file
        state.files.append(file)

        let format = file.pathExtension == "yaml" || file.pathExtension == "yml" ? "YAML" : "JSON"
        let text = String(decoding: data, as: UTF8.self)
        let node = try TreefileNode.parse(text, file: file.path, format: format, chain: chain)
        var parsed = try FileReader(loader: self, file: file, chain: chain).read(node)
        try resolveExternalFiles(parsed.config, of: file, chain: chain, into: &state.externalFiles)

        // This file's variables join the global set; earlier definitions win.
        state.variables.merge(parsed.variables) { existing, _ in existing }

        var includes = parsed.includes
        if let forArch = parsed.archIncludes[basearch] { includes += forArch }
        for conditional in parsed.conditionalIncludes {
            guard try conditional.holds(state.variables, chain: chain) else { continue }
            switch conditional.target {
            case .files(let files): includes += files
            case .inline(let node):
                let inline = try FileReader(loader: self, file: file, chain: chain).read(node, inline: true)
                parsed.config.merge(included: inline.config)
            }
        }

        for include in includes {
            guard depth < Self.maximumIncludeDepth else {
                throw ComposeError(.load, subject: include.location.description,
                                   "includes nest deeper than \(Self.maximumIncludeDepth) levels", details: chain)
            }
            // Lexical, relative to the including file's path as given: a
            // symlinked treefile includes relative to the link's folder.
            let target = include.path.hasPrefix("/")
                ? URL(fileURLWithPath: include.path)
                : file.deletingLastPathComponent().appendingPathComponent(include.path)
            guard FileManager.default.fileExists(atPath: target.path) else {
                throw ComposeError(.load, subject: include.location.description, "included file \(target.path) not found", details: chain)
            }
            let child = try loadFile(target, depth: depth + 1,
                                     chain: ["included from \(include.location)"] + chain, state: &state)
            parsed.config.merge(included: child)
        }
        return parsed.config
    }

    /// Files a treefile names must exist in its folder (rpm-ostree opens them
    /// while loading, so `--print-only` fails on a missing one too). A name
    /// that leads out of the folder, through `..` or a symlink, is refused:
    /// a treefile's inputs are its folder, which is what gets hashed.
    private func resolveExternalFiles(_ config: TreefileConfig, of file: URL, chain: [String],
                                      into resolved: inout [ExternalFile]) throws {
        let folder = file.deletingLastPathComponent().resolvingSymlinksInPath().standardizedFileURL
        var named: [(String, String)] = []
        if let script = config.postprocessScript { named.append(("postprocess-script", script)) }
        named += config.addFiles.map { ("add-files", $0.source) }
        for key in ["check-passwd", "check-groups"] {
            if case .file(let name) = CheckFile(config[key]) { named.append((key, name)) }
        }
        for (key, name) in named {
            let location = config.locations[key]?.description ?? file.path
            let url = (name.hasPrefix("/") ? URL(fileURLWithPath: name) : folder.appendingPathComponent(name))
                .resolvingSymlinksInPath().standardizedFileURL
            guard url.path.hasPrefix(folder.path + "/") else {
                throw ComposeError(.load, subject: location,
                                   "`\(key)` names \(name), which is outside the treefile's folder \(folder.path) (it resolves to \(url.path))",
                                   details: chain)
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw ComposeError(.load, subject: location, "`\(key)` names \(name), which does not exist (\(url.path))", details: chain)
            }
            guard !isDirectory.boolValue else {
                throw ComposeError(.load, subject: location, "`\(key)` names \(name), which is a directory, not a file", details: chain)
            }
            if !resolved.contains(where: { $0.key == key && $0.name == name }) {
                resolved.append(ExternalFile(key: key, name: name, url: url))
            }
        }
    }

    /// rpm-ostree's checks on the merged result.
    private func validate(_ config: TreefileConfig) throws {
        let allowed = ["usr/", "etc/", "bin/", "sbin/", "lib/", "lib64/"]
        for file in config.addFiles {
            let destination = String(file.destination.drop { $0 == "/" })
            if !allowed.contains(where: destination.hasPrefix) || destination.hasPrefix("usr/local/") {
                throw ComposeError(.load, subject: config.locations["add-files"]?.description,
                                   "unsupported destination in add-files: \(file.destination) (allowed under /usr except /usr/local, /etc, /bin, /sbin, /lib, /lib64)")
            }
        }
        for rule in config.removeFromPackages {
            for pattern in rule.patterns {
                do {
                    _ = try Regex(pattern)
                } catch {
                    throw ComposeError(.load, subject: config.locations["remove-from-packages"]?.description,
                                       "remove-from-packages: \(pattern) (for \(rule.package)) is not a valid regular expression: \(error)")
                }
            }
        }
        if let suffix = config.automaticVersionSuffix, suffix.utf8.count != 1 || !suffix.allSatisfy(\.isASCII) {
            throw ComposeError(.load, subject: config.locations["automatic-version-suffix"]?.description,
                               "automatic-version-suffix must be exactly one ASCII character, not \"\(suffix)\"")
        }
    }
}

extension TreefileLoader {
    /// A JSON (or YAML) file holding one object, such as `--add-metadata-from-json`'s.
    public static func readJSONObject(_ file: URL) throws -> [String: JSONValue] {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ComposeError(.load, subject: file.path, "cannot read the file")
        }
        let node = try TreefileNode.parse(String(decoding: data, as: UTF8.self), file: file.path, format: "JSON", chain: [])
        guard case .object(let pairs)? = node?.json else {
            throw ComposeError(.load, subject: file.path, "expected a JSON object")
        }
        return Dictionary(pairs, uniquingKeysWith: { _, last in last })
    }
}
