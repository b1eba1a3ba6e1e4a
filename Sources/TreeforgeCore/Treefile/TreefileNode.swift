import Foundation
import Yams

/// Where something was written: file, line and column (1-based).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public var description: String { "\(file):\(line):\(column)" }
}

/// A treefile value as written, with its location, before it is checked
/// against the schema. YAML and JSON both parse into this (JSON through the
/// YAML parser, which gives JSON errors a line and column too).
struct TreefileNode {
    indirect enum Kind {
        /// null, a boolean, a number or a string.
        case scalar(JSONValue)
        case array([TreefileNode])
        case object([Entry])
    }

    struct Entry {
        var key: String
        var keyLocation: SourceLocation
        var value: TreefileNode
    }

    var kind: Kind
    var location: SourceLocation

    /// YAML 1.2's core schema, as rpm-ostree's YAML parser reads it: only
    /// true/false are booleans (not yes/no/on/off).
    static let resolver: Yams.Resolver = {
        // swiftlint:disable:next force_try
        try! Yams.Resolver.default.replacing(.bool, with: "^(?:true|True|TRUE|false|False|FALSE)$")
            .removing(.timestamp).removing(.merge).removing(.value)
    }()

    /// Parses a whole file. An empty (comments-only) file is `nil`.
    static func parse(_ text: String, file: String, format: String, chain: [String]) throws -> TreefileNode? {
        if let anchor = YAMLAnchorScan.firstAnchor(in: text) {
            throw ComposeError(.load, subject: "\(file):\(anchor.line):\(anchor.column)",
                               "YAML anchors and aliases are not supported (&\(anchor.name))", details: chain)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, resolver)
        } catch let error as YamlError {
            let (line, column, problem) = TreefileLoader.location(of: error)
            throw ComposeError(.load, subject: "\(file):\(line):\(column)", "\(format) syntax error: \(problem)", details: chain)
        }
        var visited = Set<NodeStart>()
        return try root.map { try TreefileNode($0, file: file, chain: chain, visited: &visited) }
    }

    init(kind: Kind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// Where a Yams node starts, and its kind.
    struct NodeStart: Hashable {
        var line: Int
        var column: Int
        var kind: String

        init?(_ node: Node) {
            guard let mark = node.mark else { return nil }
            line = mark.line
            column = mark.column
            kind = switch node {
            case .scalar: "scalar"
            case .sequence: "sequence"
            case .mapping: "mapping"
            case .alias: "alias"
            }
        }
    }

    /// `visited` holds where every node converted so far starts: Yams hands
    /// back an alias as the anchored node itself (its anchor gone with the
    /// parser), so nested aliases would expand into billions of nodes here.
    /// Two nodes of one kind never start at the same place otherwise, so a
    /// second visit is an alias, reported where it is used. (`parse` refuses
    /// anchors first; this holds should its scan miss one.)
    init(_ node: Node, file: String, chain: [String], usedAt: SourceLocation? = nil, visited: inout Set<NodeStart>) throws {
        location = SourceLocation(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
        if let start = NodeStart(node), !visited.insert(start).inserted {
            throw ComposeError(.load, subject: (usedAt ?? location).description,
                               "YAML aliases are not supported (this repeats the \(start.kind) at \(start.line):\(start.column))",
                               details: chain)
        }
        switch node {
        case .scalar(let scalar):
            kind = Self.scalarKind(scalar, tag: TreefileNode.resolver.resolveTag(of: node))
        case .sequence(let sequence):
            let at = location
            kind = .array(try sequence.map { try TreefileNode($0, file: file, chain: chain, usedAt: at, visited: &visited) })
        case .mapping(let mapping):
            var entries: [Entry] = []
            var keyLocations: [String: SourceLocation] = [:]
            for (keyNode, valueNode) in mapping {
                let keyLocation = SourceLocation(file: file, line: keyNode.mark?.line ?? 0, column: keyNode.mark?.column ?? 0)
                guard let key = keyNode.scalar?.string else {
                    throw ComposeError(.load, subject: keyLocation.description, "a key must be a string", details: chain)
                }
                if let start = NodeStart(keyNode), !visited.insert(start).inserted {
                    throw ComposeError(.load, subject: location.description,
                                       "YAML aliases are not supported (a key repeats the scalar at \(start.line):\(start.column))", details: chain)
                }
                // Yams tells `1` from `"1"` (an integer and a string), but as
                // keys they are one name.
                if let earlier = keyLocations.updateValue(keyLocation, forKey: key) {
                    throw ComposeError(.load, subject: keyLocation.description,
                                       "duplicate key `\(key)` in this mapping (also at \(earlier.line):\(earlier.column))", details: chain)
                }
                let value = try TreefileNode(valueNode, file: file, chain: chain, usedAt: keyLocation, visited: &visited)
                entries.append(Entry(key: key, keyLocation: keyLocation, value: value))
            }
            kind = .object(entries)
        case .alias(let alias):
            throw ComposeError(.load, subject: location.description, "YAML aliases are not supported (*\(alias.anchor.rawValue))", details: chain)
        }
    }

    private static func scalarKind(_ scalar: Node.Scalar, tag: Tag.Name) -> Kind {
        let text = scalar.string
        guard scalar.style == .plain || scalar.style == .any else { return .scalar(.string(text)) }
        switch tag {
        case .null: return .scalar(.null)
        case .bool: return .scalar(.bool(text.lowercased() == "true"))
        case .int:
            let digits = text.replacingOccurrences(of: "_", with: "")
            if let value = UInt64(digits) { return .scalar(.uint(value)) }
            if let value = Int64(digits) { return .scalar(.int(value)) }
            return .scalar(.string(text))
        case .float: return .scalar(Double(text).map(JSONValue.double) ?? .string(text))
        default: return .scalar(.string(text))
        }
    }

    /// "a string", "a list", …: for error messages.
    var typeName: String {
        switch kind {
        case .scalar(.null): "null"
        case .scalar(.bool): "a boolean"
        case .scalar(.int), .scalar(.uint): "an integer"
        case .scalar(.string): "a string"
        case .scalar: "a number"
        case .array: "a list"
        case .object: "a mapping"
        }
    }

    var scalar: JSONValue? { if case .scalar(let value) = kind { value } else { nil } }
    var string: String? { scalar?.string }
    var bool: Bool? { scalar?.bool }
    var array: [TreefileNode]? { if case .array(let a) = kind { a } else { nil } }
    var entries: [Entry]? { if case .object(let o) = kind { o } else { nil } }

    /// The value as plain JSON (for free-form fields such as `metadata`).
    var json: JSONValue {
        switch kind {
        case .scalar(let value): value
        case .array(let items): .array(items.map(\.json))
        case .object(let entries): .object(entries.map { ($0.key, $0.value.json) })
        }
    }
}
