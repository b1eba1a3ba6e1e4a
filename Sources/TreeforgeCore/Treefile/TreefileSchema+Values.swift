/// Checks a value against its key's shape and turns it into the normalized
/// JSON that is merged and printed. Every error names the node's file, line
/// and column and the include chain.
struct ValueReader {
    /// "included from …" lines for errors.
    let chain: [String]

    func error(_ location: SourceLocation, _ message: String) -> ComposeError {
        ComposeError(.load, subject: location.description, message, details: chain)
    }

    func read(_ node: TreefileNode, as kind: ValueKind, key: String) throws -> JSONValue {
        func expected(_ what: String) -> ComposeError {
            error(node.location, "`\(key)` must be \(what), not \(node.typeName)")
        }
        switch kind {
        case .string:
            guard let s = node.string else { throw expected("a string") }
            return .string(s)
        case .bool:
            guard let b = node.bool else { throw expected("true or false") }
            return .bool(b)
        case .uint32:
            guard case .uint(let u) = node.scalar, u <= UInt64(UInt32.max) else { throw expected("an unsigned 32-bit integer") }
            return .uint(u)
        case .strings:
            return .array(try strings(node, key: key).map(JSONValue.string))
        case .stringSet:
            return .array(Set(try strings(node, key: key)).sorted().map(JSONValue.string))
        case .packageSet:
            var specs = Set<String>()
            for item in try stringNodes(node, key: key) {
                guard let parts = PackageSpec.split(item.string!) else {
                    throw error(item.location, "missing terminating quote in `\(key)` entry: \(item.string!)")
                }
                guard !parts.contains("") else {
                    throw error(item.location, "empty package spec ('') in `\(key)` entry: \(item.string!)")
                }
                specs.formUnion(parts)
            }
            return .array(specs.sorted().map(JSONValue.string))
        case .stringMap:
            guard let entries = node.entries else { throw expected("a mapping of strings") }
            return .object(try entries.sorted { $0.key < $1.key }.map { entry in
                guard let s = entry.value.string else {
                    throw error(entry.value.location, "`\(key).\(entry.key)` must be a string, not \(entry.value.typeName)")
                }
                return (entry.key, .string(s))
            })
        case .jsonMap:
            guard node.entries != nil else { throw expected("a mapping") }
            return node.json.sortingKeys
        case .oneOf(let allowed, let aliases):
            guard let s = node.string, let value = allowed.contains(s) ? s : aliases[s] else {
                throw error(node.location, "`\(key)` must be one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            return .string(value)
        case .edition:
            guard let s = node.string else {
                throw error(node.location, "`edition` must be a quoted string such as \"2024\", not \(node.typeName)")
            }
            guard s == "2014" || s == "2024" else { throw error(node.location, "unknown edition \"\(s)\" (known: \"2014\", \"2024\")") }
            return .string(s)
        case .releasever:
            switch node.scalar {
            case .uint(let u): return .uint(u)
            case .string(let s): return .string(s)
            default: throw expected("an unsigned integer or a string")
            }
        case .variables:
            guard let entries = node.entries else { throw expected("a mapping of names to values") }
            return .object(try entries.sorted { $0.key < $1.key }.map { entry in
                switch entry.value.scalar {
                case .bool(let b): return (entry.key, .bool(b))
                case .uint(let u): return (entry.key, .uint(u))
                case .string(let s): return (entry.key, .string(s))
                default:
                    throw error(entry.value.location, "variable `\(entry.key)` must be a boolean, an unsigned integer or a string")
                }
            })
        case .includes:
            if let s = node.string { return .array([.string(s)]) }
            guard node.array != nil else { throw expected("a file name or a list of file names") }
            return .array(try strings(node, key: key).map(JSONValue.string))
        case .archIncludes:
            guard let entries = node.entries else { throw expected("a mapping of basearch to file names") }
            return .object(try entries.map { ($0.key, try read($0.value, as: .includes, key: "\(key).\($0.key)")) })
        case .conditionalIncludes:
            // Evaluated by the loader, which needs the nodes themselves.
            guard node.array != nil else { throw expected("a list of `{if, include}` entries") }
            return .null
        case .addFiles:
            guard let items = node.array else { throw expected("a list of [source, destination] pairs") }
            return .array(try items.map { item in
                guard let pair = item.array, pair.count == 2, let source = pair[0].string, let destination = pair[1].string else {
                    throw error(item.location, "each `add-files` entry must be a [source, destination] pair of strings")
                }
                return .array([.string(source), .string(destination)])
            })
        case .listOfStringLists:
            guard let items = node.array else { throw expected("a list of [package, regex…] lists") }
            return .array(try items.map { item in
                let parts = try strings(item, key: key)
                guard parts.count >= 2 else {
                    throw error(item.location, "each `\(key)` entry must name a package and at least one regex")
                }
                return .array(parts.map(JSONValue.string))
            })
        case .objects(let fields):
            guard let items = node.array else { throw expected("a list of mappings") }
            return .array(try items.map { try object($0, fields: fields, key: key) })
        case .object(let fields):
            return try object(node, fields: fields, key: key)
        case .checkFile(let users):
            return try checkFile(node, users: users, key: key)
        }
    }

    func strings(_ node: TreefileNode, key: String) throws -> [String] {
        try stringNodes(node, key: key).map { $0.string! }
    }

    private func stringNodes(_ node: TreefileNode, key: String) throws -> [TreefileNode] {
        guard let items = node.array else {
            throw error(node.location, "`\(key)` must be a list of strings, not \(node.typeName)")
        }
        for item in items where item.string == nil {
            throw error(item.location, "`\(key)` must be a list of strings; this entry is \(item.typeName)")
        }
        return items
    }

    private func object(_ node: TreefileNode, fields: [ObjectField], key: String) throws -> JSONValue {
        guard let entries = node.entries else {
            throw error(node.location, "`\(key)` entries must be mappings with \(fields.map { "`\($0.name)`" }.joined(separator: ", "))")
        }
        for entry in entries where !fields.contains(where: { $0.name == entry.key }) {
            throw error(entry.keyLocation, "unknown key `\(entry.key)` in `\(key)` (known: \(fields.map(\.name).joined(separator: ", ")))")
        }
        var out: [(String, JSONValue)] = []
        for field in fields {
            if let entry = entries.first(where: { $0.key == field.name }) {
                out.append((field.name, try read(entry.value, as: field.kind, key: "\(key).\(field.name)")))
            } else if field.required {
                throw error(node.location, "`\(key)` is missing `\(field.name)`")
            } else if field.nullWhenAbsent {
                out.append((field.name, .null))
            }
        }
        return .object(out)
    }

    private func checkFile(_ node: TreefileNode, users: Bool, key: String) throws -> JSONValue {
        guard let entries = node.entries, let type = entries.first(where: { $0.key == "type" })?.value.string else {
            throw error(node.location, "`\(key)` must be a mapping with `type`: none, previous, file or data")
        }
        switch type {
        case "none", "previous":
            return try object(node, fields: [ObjectField(name: "type", kind: .string)], key: key)
        case "file":
            return try object(node, fields: [ObjectField(name: "type", kind: .string), ObjectField(name: "filename", kind: .string)], key: key)
        case "data":
            guard let data = entries.first(where: { $0.key == "entries" })?.value, let ids = data.entries else {
                throw error(node.location, "`\(key)` of type data needs `entries`: a mapping of names to ids")
            }
            for extra in entries where extra.key != "type" && extra.key != "entries" {
                throw error(extra.keyLocation, "unknown key `\(extra.key)` in `\(key)`")
            }
            let values: [(String, JSONValue)] = try ids.sorted { $0.key < $1.key }.map { entry in
                (entry.key, try checkID(entry.value, users: users, key: "\(key).entries.\(entry.key)"))
            }
            return .object([("type", .string("data")), ("entries", .object(values))])
        default:
            throw error(node.location, "`\(key)` type must be none, previous, file or data, not \"\(type)\"")
        }
    }

    /// A uid/gid: for users also `[uid]` or `[uid, gid]`.
    private func checkID(_ node: TreefileNode, users: Bool, key: String) throws -> JSONValue {
        if case .uint(let id) = node.scalar, id <= UInt64(UInt32.max) { return .uint(id) }
        if users, let items = node.array, (1...2).contains(items.count) {
            return .array(try items.map { item in
                guard case .uint(let id) = item.scalar, id <= UInt64(UInt32.max) else {
                    throw error(item.location, "`\(key)` ids must be unsigned 32-bit integers")
                }
                return .uint(id)
            })
        }
        throw error(node.location, users ? "`\(key)` must be a uid, [uid] or [uid, gid]" : "`\(key)` must be a gid")
    }
}

/// Package entries as rpm-ostree reads them.
enum PackageSpec {
    /// Splits on whitespace; text between single quotes is one spec, verbatim
    /// (`'foo >= 1.2'`). Nil when a quote is not closed.
    static func split(_ entry: String) -> [String]? {
        var specs: [String] = []
        var current = ""
        var quoted = false
        for c in entry {
            if c == "'" {
                if quoted { specs.append(current) } else if !current.isEmpty { specs.append(current) }
                current = ""
                quoted.toggle()
            } else if !quoted && c.isWhitespace {
                if !current.isEmpty { specs.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if quoted { return nil }
        if !current.isEmpty { specs.append(current) }
        return specs
    }
}
