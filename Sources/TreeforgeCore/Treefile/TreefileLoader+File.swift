import Foundation
import Yams

/// One include to follow, and where it was asked for.
struct Include {
    var path: String
    var location: SourceLocation
}

/// A `conditional-include` entry.
struct ConditionalInclude {
    enum Target {
        case files([Include])
        /// An inline treefile, merged when the condition holds.
        case inline(TreefileNode)
    }

    var conditions: [(IncludeCondition, SourceLocation)]
    var target: Target

    /// Every condition is evaluated (so a mistake in a later one surfaces
    /// even when an earlier one is false); the entry applies when all hold.
    func holds(_ variables: [String: JSONValue], chain: [String]) throws -> Bool {
        var all = true
        for (condition, location) in conditions {
            switch condition.evaluate(variables) {
            case .success(let holds): all = all && holds
            case .failure(let error):
                throw ComposeError(.load, subject: location.description, "condition `\(condition.text)`: \(error.message)", details: chain)
            }
        }
        return all
    }
}

/// Reads one treefile (or an inline conditional include) into its settings
/// and its include directives, applying the per-file rules: `packages-ARCH`
/// folded into `packages`, `container: true` and `edition: "2024"`
/// implications, legacy spellings migrated, unknown keys refused in YAML
/// and ignored with a warning in JSON (rpm-ostree checks them only in YAML).
struct FileReader {
    /// By the name's ending, as rpm-ostree decides: `.yaml`/`.yml`, else JSON.
    enum Format: String {
        case yaml = "YAML"
        case json = "JSON"
    }

    let loader: TreefileLoader
    let file: URL
    let format: Format
    let chain: [String]

    struct Parsed {
        var config = TreefileConfig()
        var variables: [String: JSONValue] = [:]
        var includes: [Include] = []
        var archIncludes: [String: [Include]] = [:]
        var conditionalIncludes: [ConditionalInclude] = []
        var warnings: [String] = []
    }

    func error(_ location: SourceLocation, _ message: String) -> ComposeError {
        ComposeError(.load, subject: location.description, message, details: chain)
    }

    func read(_ node: TreefileNode?, inline: Bool = false) throws -> Parsed {
        var parsed = Parsed()
        guard let node else { return parsed }  // an empty file is an empty treefile
        guard let entries = node.entries else {
            throw error(node.location, "a treefile must be a mapping of keys to values, not \(node.typeName)")
        }
        let reader = ValueReader(chain: chain)
        var packages = Set<String>()
        var legacy: [String: (TreefileNode, SourceLocation)] = [:]

        for entry in entries {
            let key = entry.key
            if let schema = TreefileSchema.byName[key] {
                let value = try reader.read(entry.value, as: schema.kind, key: key)
                switch key {
                case "include":
                    parsed.includes += (value.strings ?? []).map { Include(path: $0, location: entry.value.location) }
                case "arch-include":
                    for (arch, files) in value.object ?? [] {
                        parsed.archIncludes[arch] = (files.strings ?? []).map { Include(path: $0, location: entry.value.location) }
                    }
                case "conditional-include":
                    parsed.conditionalIncludes = try conditionalIncludes(entry.value)
                case "variables":
                    parsed.variables = Dictionary(uniqueKeysWithValues: value.object ?? [])
                    for reserved in ["releasever", "basearch"] where parsed.variables[reserved] != nil {
                        throw error(entry.keyLocation, "`\(reserved)` is a reserved variable and cannot be defined in `variables`")
                    }
                case "packages", "bootstrap-packages":
                    packages.formUnion(value.strings ?? [])
                default:
                    parsed.config.set(key, value, at: entry.keyLocation)
                }
            } else if TreefileSchema.legacyNames[key] != nil {
                legacy[key] = (entry.value, entry.keyLocation)
            } else if key.hasPrefix("packages-") {
                let specs = try reader.read(entry.value, as: .packageSet, key: key)
                if key.dropFirst("packages-".count) == loader.basearch { packages.formUnion(specs.strings ?? []) }
            } else if format == .json {
                parsed.warnings.append("unknown key `\(key)` ignored, as rpm-ostree ignores unknown keys in JSON treefiles (\(entry.keyLocation))")
            } else {
                throw error(entry.keyLocation, "unknown key `\(key)`")
            }
        }
        if !packages.isEmpty || entries.contains(where: { $0.key == "packages" }) || !inline {
            parsed.config.set("packages", .array(packages.sorted().map(JSONValue.string)),
                              at: entries.first { $0.key == "packages" }?.keyLocation ?? node.location)
        }

        if let declared = parsed.config.basearch, declared != loader.basearch {
            throw error(parsed.config.locations["basearch"]!, "`basearch: \(declared)` does not match the compose architecture \(loader.basearch) (cross-composes are not supported)")
        }
        applyImplications(&parsed.config, at: node.location)
        for (legacyName, (value, location)) in legacy.sorted(by: { $0.key < $1.key }) {
            let newName = TreefileSchema.legacyNames[legacyName]!
            if parsed.config[newName] != nil {
                throw error(location, "`\(legacyName)` and `\(newName)` are the legacy and new spellings of one key: use only `\(newName)`")
            }
            let kind = TreefileSchema.byName[newName]!.kind
            parsed.config.set(newName, try reader.read(value, as: kind, key: legacyName), at: location)
        }
        // Each file's conditions and substitutions see basearch and its own releasever.
        parsed.variables["basearch"] = .string(loader.basearch)
        if let release = parsed.config["releasever"] { parsed.variables["releasever"] = release }
        return parsed
    }

    /// `container: true` forces its settings over the file's own;
    /// `edition: "2024"` fills defaults the file leaves unset.
    private func applyImplications(_ config: inout TreefileConfig, at location: SourceLocation) {
        if config.container {
            let at = config.locations["container"] ?? location
            config.set("boot-location", .string("modules"), at: at)
            config.set("selinux", .bool(false), at: at)
            config.set("tmp-is-dir", .bool(true), at: at)
            config.set("preserve-passwd", .bool(false), at: at)
            config.set("check-passwd", .object([("type", .string("none"))]), at: at)
            config.set("check-groups", .object([("type", .string("none"))]), at: at)
        }
        if config.edition == .e2024 {
            let at = config.locations["edition"] ?? location
            if config["boot-location"] == nil { config.set("boot-location", .string("modules"), at: at) }
            if config["tmp-is-dir"] == nil { config.set("tmp-is-dir", .bool(true), at: at) }
        }
    }

    private func conditionalIncludes(_ node: TreefileNode) throws -> [ConditionalInclude] {
        try (node.array ?? []).map { item in
            guard let entries = item.entries else {
                throw error(item.location, "each `conditional-include` entry must be a mapping with `if` and `include`")
            }
            for extra in entries where extra.key != "if" && extra.key != "include" {
                throw error(extra.keyLocation, "unknown key `\(extra.key)` in a `conditional-include` entry (known: if, include)")
            }
            guard let condition = entries.first(where: { $0.key == "if" })?.value else {
                throw error(item.location, "a `conditional-include` entry needs `if`")
            }
            guard let target = entries.first(where: { $0.key == "include" })?.value else {
                throw error(item.location, "a `conditional-include` entry needs `include`")
            }
            let texts: [TreefileNode]
            if condition.string != nil {
                texts = [condition]
            } else if let list = condition.array, !list.isEmpty, list.allSatisfy({ $0.string != nil }) {
                texts = list
            } else {
                throw error(condition.location, "`if` must be a condition or a list of conditions (all must hold), not \(condition.typeName)")
            }
            let conditions = try texts.map { text -> (IncludeCondition, SourceLocation) in
                switch IncludeCondition.parse(text.string!) {
                case .success(let parsed): return (parsed, text.location)
                case .failure(let reason):
                    throw error(text.location, "invalid condition `\(text.string!)`: \(reason.message)")
                }
            }
            switch target.kind {
            case .object:
                return ConditionalInclude(conditions: conditions, target: .inline(target))
            default:
                let files = try ValueReader(chain: chain).read(target, as: .includes, key: "conditional-include.include")
                return ConditionalInclude(conditions: conditions,
                                          target: .files((files.strings ?? []).map { Include(path: $0, location: target.location) }))
            }
        }
    }
}

extension TreefileLoader {
    static func location(of error: YamlError) -> (Int, Int, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let what = context.map { "\($0.text) \(problem)" } ?? problem
            // Yams appends the offending text on further lines; the location says where.
            return (mark.line, mark.column, String(what.prefix { $0 != "\n" }))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (context.mark.line, context.mark.column,
                    "duplicate key\(duplicates.count == 1 ? "" : "s") " + duplicates.sorted().map { "`\($0)`" }.joined(separator: ", ") + " in this mapping")
        case .reader(let problem, _, _, _):
            return (1, 1, problem)
        default:
            return (1, 1, "\(error)")
        }
    }
}
