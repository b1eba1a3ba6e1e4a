import LibOSTree

extension CommitMetadataValue {
    /// A treefile or command-line JSON value as commit metadata: strings,
    /// booleans and numbers as themselves, a list of strings as `as`, other
    /// lists as `av`, objects as `a{sv}`. Null has no GVariant form: nil.
    init?(json: JSONValue) {
        switch json {
        case .null: return nil
        case .bool(let b): self = .bool(b)
        case .uint(let u): self = .uint64(u)
        case .int(let i): self = .int64(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items):
            if let strings = json.strings, strings.count == items.count {
                self = .strings(strings)
            } else {
                self = .array(items.compactMap(CommitMetadataValue.init(json:)))
            }
        case .object(let pairs):
            self = .dictionary(Dictionary(pairs.compactMap { key, value in CommitMetadataValue(json: value).map { (key, $0) } },
                                          uniquingKeysWith: { _, last in last }))
        }
    }
}

extension CommitMetadataValue {
    /// The same text for the same value (dictionaries in key order), for stage ids.
    var canonicalText: String {
        switch self {
        case .string(let value): JSONValue.quote(value)
        case .strings(let values): "[" + values.map(JSONValue.quote).joined(separator: ",") + "]"
        case .uint64(let value): "u\(value)"
        case .int64(let value): "i\(value)"
        case .double(let value): "d\(value)"
        case .bool(let value): "\(value)"
        case .array(let values): "[" + values.map(\.canonicalText).joined(separator: ",") + "]"
        case .dictionary(let entries):
            "{" + entries.sorted { $0.key < $1.key }.map { JSONValue.quote($0.key) + ":" + $0.value.canonicalText }.joined(separator: ",") + "}"
        }
    }
}
