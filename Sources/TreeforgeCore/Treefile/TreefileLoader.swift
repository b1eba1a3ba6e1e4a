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
                        sourceFiles: state.files, sha256: Checksum.sha256.hex(of: bytes), externalFiles: state.externalFiles,
                        warnings: state.warnings)
    }

    struct LoadState {
        /// Variables defined so far; the first definition wins.
        var variables: [String: JSONValue]
        var files: [URL] = []
        /// In the order read (includers before their includes, depth first).
        var externalFiles: [ExternalFile] = []
        var seen: [FileIdentity: URL] = [:]
        var warnings: [String] = []
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

        let format: FileReader.Format = file.pathExtension == "yaml" || file.pathExtension == "yml" ? .yaml : .json
        let text = String(decoding: data, as: UTF8.self)
        let node = try TreefileNode.parse(text, file: file.path, format: format.rawValue, chain: chain)
        let reader = FileReader(loader: self, file: file, format: format, chain: chain)
        var parsed = try reader.read(node)
        state.warnings += parsed.warnings
        try resolveExternalFiles(parsed.config, of: file, chain: chain, into: &state)

        // This file's variables join the global set; earlier definitions win.
        state.variables.merge(parsed.variables) { existing, _ in existing }

        var includes = parsed.includes
        if let forArch = parsed.archIncludes[basearch] { includes += forArch }
        for conditional in parsed.conditionalIncludes {
            guard try conditional.holds(state.variables, chain: chain) else { continue }
            switch conditional.target {
            case .files(let files): includes += files
            case .inline(let node):
                let inline = try reader.read(node, inline: true)
                state.warnings += inline.warnings
                // Its names are the file's, relative to the file's folder.
                try resolveExternalFiles(inline.config, of: file, chain: chain, into: &state)
                parsed.config.merge(included: inline.config)
            }
        }

        for include in includes {
            guard depth < Self.maximumIncludeDepth else {
                throw ComposeError(.load, subject: include.location.description,
                                   "includes nest deeper than \(Self.maximumIncludeDepth) levels", details: chain)
            }
            // Relative to the including file's path as given (a symlinked
            // treefile includes relative to the link's folder); the kernel
            // then follows `..` and symlinks, as it does for rpm-ostree.
            let target = URL(fileURLWithPath: Self.joined(include.path, namedBy: file))
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory) else {
                throw ComposeError(.load, subject: include.location.description, "included file \(target.path) not found", details: chain)
            }
            guard !isDirectory.boolValue else {
                throw ComposeError(.load, subject: include.location.description,
                                   "included file \(target.path) is a directory, not a treefile", details: chain)
            }
            let child = try loadFile(target, depth: depth + 1,
                                     chain: ["included from \(include.location)"] + chain, state: &state)
            parsed.config.merge(included: child)
        }
        return parsed.config
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
