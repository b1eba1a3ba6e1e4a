/// A treefile's settings, every key of rpm-ostree's format, checked against
/// `TreefileSchema` and normalized (sets sorted, aliases canonical). The
/// typed accessors (`TreefileConfig+Keys.swift`) are what the pipeline reads.
public struct TreefileConfig: Sendable, Equatable {
    /// Normalized values by rpm-ostree key name.
    var values: [String: JSONValue] = [:]
    /// Where each key's winning value was written.
    public internal(set) var locations: [String: SourceLocation] = [:]

    public init() {}

    public subscript(key: String) -> JSONValue? { values[key] }

    /// The keys that are set, in schema order.
    public var setKeys: [String] { TreefileSchema.keys.map(\.name).filter { values[$0] != nil } }

    mutating func set(_ key: String, _ value: JSONValue?, at location: SourceLocation?) {
        values[key] = value
        locations[key] = value == nil ? nil : location
    }

    public static func == (a: TreefileConfig, b: TreefileConfig) -> Bool { a.values == b.values }

    // MARK: Merging

    /// Merges an included file's settings into this (the including) file's,
    /// rule by rule as `TreefileSchema` gives them.
    mutating func merge(included source: TreefileConfig) {
        for key in TreefileSchema.keys {
            guard let incoming = source.values[key.name] else { continue }
            let mine = values[key.name]
            let location = locations[key.name] ?? source.locations[key.name]
            switch key.merge {
            case .includerWins:
                if mine == nil { set(key.name, incoming, at: source.locations[key.name]) }
            case .concatenate:
                set(key.name, .array((incoming.array ?? []) + (mine?.array ?? [])), at: location)
            case .mapUnion:
                var merged = incoming.object ?? []
                for (name, value) in mine?.object ?? [] {
                    merged.removeAll { $0.0 == name }
                    merged.append((name, value))
                }
                set(key.name, JSONValue.object(merged).sortingKeysShallow, at: location)
            case .setUnion:
                let union = Set((incoming.strings ?? []) + (mine?.strings ?? []))
                set(key.name, .array(union.sorted().map(JSONValue.string)), at: location)
            case .repoPackages:
                let all = (incoming.array ?? []) + (mine?.array ?? [])
                set(key.name, .array(Self.keepingLastMention(all)), at: location)
            case .topLevelOnly, .consumed:
                continue
            }
        }
    }

    /// rpm-ostree's repo-packages rule: a package belongs to the last entry
    /// that names it; entries left empty are dropped.
    static func keepingLastMention(_ entries: [JSONValue]) -> [JSONValue] {
        var claimed = Set<String>()
        var kept: [JSONValue] = []
        for entry in entries.reversed() {
            guard var fields = entry.object, let index = fields.firstIndex(where: { $0.0 == "packages" }) else { continue }
            let packages = (fields[index].1.strings ?? []).filter { claimed.insert($0).inserted }
            guard !packages.isEmpty else { continue }
            fields[index].1 = .array(packages.map(JSONValue.string))
            kept.append(.object(fields))
        }
        return kept.reversed()
    }

    // MARK: Output

    /// The flattened treefile as `rpm-ostree compose tree --print-only`
    /// shapes it: rpm-ostree's key order, `packages` and `basearch` always
    /// present, consumed keys (includes, variables) left out.
    public var printable: JSONValue {
        var pairs: [(String, JSONValue)] = []
        for key in TreefileSchema.keys where key.printed {
            if let value = values[key.name] {
                pairs.append((key.name, value))
            } else if key.name == "packages" {
                pairs.append((key.name, .array([])))
            }
        }
        return .object(pairs)
    }

    /// `printable` with sorted keys and no insignificant whitespace: the same
    /// bytes for the same inputs (part of a build's input hash).
    public var canonicalJSON: String { printable.canonicalString }
}

extension JSONValue {
    /// An object's keys sorted (values untouched).
    var sortingKeysShallow: JSONValue {
        guard case .object(let pairs) = self else { return self }
        return .object(pairs.sorted { $0.0 < $1.0 })
    }
}
