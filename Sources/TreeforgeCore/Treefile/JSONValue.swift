import Foundation

/// A JSON value with ordered objects: the normalized form of every treefile
/// value, and what `--print-only` writes.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    /// Keys in the order they are to be written.
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.int(x), .int(y)): x == y
        case let (.uint(x), .uint(y)): x == y
        case let (.double(x), .double(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(canonicalString)
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var strings: [String]? { array?.compactMap(\.string) }
    public var object: [(String, JSONValue)]? { if case .object(let o) = self { o } else { nil } }

    public subscript(key: String) -> JSONValue? {
        object?.first { $0.0 == key }?.1
    }

    /// An object with its keys sorted, recursively (how maps are written).
    public var sortingKeys: JSONValue {
        switch self {
        case .object(let pairs): .object(pairs.sorted { $0.0 < $1.0 }.map { ($0.0, $0.1.sortingKeys) })
        case .array(let items): .array(items.map(\.sortingKeys))
        default: self
        }
    }

    // MARK: Writing

    /// Pretty JSON as rpm-ostree prints it (serde_json's pretty printer):
    /// two-space indent, `": "`, `[]`/`{}` for empty containers, no final newline.
    public var prettyString: String {
        var out = ""
        writePretty(into: &out, indent: 0)
        return out
    }

    /// Sorted keys and no insignificant whitespace: the same bytes for the
    /// same value, for hashing.
    public var canonicalString: String {
        var out = ""
        writeCanonical(into: &out)
        return out
    }

    private func writePretty(into out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closePad = String(repeating: "  ", count: indent)
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.writePretty(into: &out, indent: indent + 1)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += closePad + "]"
        case .object(let pairs) where !pairs.isEmpty:
            out += "{\n"
            for (i, (key, value)) in pairs.enumerated() {
                out += pad + Self.quote(key) + ": "
                value.writePretty(into: &out, indent: indent + 1)
                out += i == pairs.count - 1 ? "\n" : ",\n"
            }
            out += closePad + "}"
        default:
            writeScalar(into: &out)
        }
    }

    private func writeCanonical(into out: inout String) {
        switch self {
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.writeCanonical(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (key, value)) in pairs.sorted(by: { $0.0 < $1.0 }).enumerated() {
                if i > 0 { out += "," }
                out += Self.quote(key) + ":"
                value.writeCanonical(into: &out)
            }
            out += "}"
        default:
            writeScalar(into: &out)
        }
    }

    private func writeScalar(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .double(let d): out += d.isFinite ? (d == d.rounded() && abs(d) < 1e16 ? String(format: "%.1f", d) : "\(d)") : "null"
        case .string(let s): out += Self.quote(s)
        case .array: out += "[]"
        case .object: out += "{}"
        }
    }

    /// Escapes only `"`, `\` and control characters, as serde_json does.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
