import Foundation

/// `${name}` substitution, as rpm-ostree does it after merging: only in
/// `ref`, `automatic-version-prefix`, `mutate-os-release`,
/// `platform-module`, `rojig`'s texts and the top-level string values of
/// `metadata` and `add-commit-metadata` (the keys marked `substituted` in the
/// schema). An undefined `${name}` is left as written.
enum VariableSubstitution {
    static func apply(to config: inout TreefileConfig, variables: [String: JSONValue]) throws {
        let texts = try texts(of: variables)
        for key in TreefileSchema.keys where key.substituted {
            guard let value = config.values[key.name] else { continue }
            switch value {
            case .string(let s):
                config.values[key.name] = .string(substitute(s, texts))
            case .object(let pairs):
                // rojig's license is not substituted; metadata maps substitute every top-level string.
                let skipped: Set<String> = key.name == "rojig" ? ["license"] : []
                config.values[key.name] = .object(pairs.map { name, value in
                    if case .string(let s) = value, !skipped.contains(name) { return (name, .string(substitute(s, texts))) }
                    return (name, value)
                })
            default:
                continue
            }
        }
    }

    /// Variable values as text; `$`, `{` and `}` are not allowed in names or
    /// values (they would make substitution ambiguous).
    static func texts(of variables: [String: JSONValue]) throws -> [String: String] {
        var out: [String: String] = [:]
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
            let text: String
            switch value {
            case .string(let s): text = s
            case .bool(let b): text = b ? "true" : "false"
            case .uint(let u): text = String(u)
            default: text = value.canonicalString
            }
            for (what, s) in [("name", name), ("value", text)] {
                if let bad = s.first(where: { "${}".contains($0) }) {
                    throw ComposeError(.load, subject: "variable \(name)", "variable \(what) `\(s)` contains `\(bad)`, which substitution does not allow")
                }
            }
            out[name] = text
        }
        return out
    }

    static func substitute(_ text: String, _ variables: [String: String]) -> String {
        // rpm-ostree's substitution only runs on text that looks templated:
        // the first `${` before the first `}`.
        guard let open = text.range(of: "${"), text.firstIndex(of: "}").map({ $0 > open.lowerBound }) ?? false else {
            return text
        }
        var out = text
        for (name, value) in variables {
            out = out.replacingOccurrences(of: "${\(name)}", with: value)
        }
        return out
    }
}
