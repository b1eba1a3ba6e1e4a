import COSTree

/// A value of a commit's `a{sv}` metadata, as treeforge writes and reads it.
public enum CommitMetadataValue: Hashable, Sendable {
    case string(String)
    case strings([String])
    case uint64(UInt64)
    case int64(Int64)
    case double(Double)
    case bool(Bool)
    /// `av`: a list of mixed values.
    indirect case array([CommitMetadataValue])
    /// `a{sv}`.
    indirect case dictionary([String: CommitMetadataValue])

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// A new (floating) GVariant for this value.
    func makeVariant() -> OpaquePointer {
        switch self {
        case .string(let value):
            return g_variant_new_string(value)
        case .uint64(let value):
            return g_variant_new_uint64(guint64(value))
        case .int64(let value):
            return g_variant_new_int64(gint64(value))
        case .double(let value):
            return g_variant_new_double(value)
        case .array(let values):
            let type = g_variant_type_new("v")
            defer { g_variant_type_free(type) }
            let items = values.map { g_variant_new_variant($0.makeVariant()) }
            return items.withUnsafeBufferPointer { buffer in
                g_variant_new_array(type, buffer.baseAddress, gsize(buffer.count))
            }
        case .dictionary(let entries):
            return makeFloatingVardict(entries)
        case .bool(let value):
            return g_variant_new_boolean(value ? 1 : 0)
        case .strings(let values):
            let type = g_variant_type_new("s")
            defer { g_variant_type_free(type) }
            let items = values.map { g_variant_new_string($0) }
            return items.withUnsafeBufferPointer { buffer in
                g_variant_new_array(type, buffer.baseAddress, gsize(buffer.count))
            }
        }
    }

    /// Reads a value back; types treeforge does not write come back as nil.
    init?(variant: OpaquePointer) {
        let type = String(cString: g_variant_get_type_string(variant))
        switch type {
        case "s": self = .string(String(cString: g_variant_get_string(variant, nil)))
        case "t": self = .uint64(UInt64(g_variant_get_uint64(variant)))
        case "x": self = .int64(Int64(g_variant_get_int64(variant)))
        case "d": self = .double(g_variant_get_double(variant))
        case "b": self = .bool(g_variant_get_boolean(variant) != 0)
        case "as":
            var values: [String] = []
            for i in 0..<g_variant_n_children(variant) {
                let child = g_variant_get_child_value(variant, i)!
                values.append(String(cString: g_variant_get_string(child, nil)))
                g_variant_unref(child)
            }
            self = .strings(values)
        case "av":
            var values: [CommitMetadataValue] = []
            for i in 0..<g_variant_n_children(variant) {
                let boxed = g_variant_get_child_value(variant, i)!
                let child = g_variant_get_variant(boxed)!
                if let value = CommitMetadataValue(variant: child) { values.append(value) }
                g_variant_unref(child)
                g_variant_unref(boxed)
            }
            self = .array(values)
        default: return nil
        }
    }
}

/// Builds an owned (sunk) `a{sv}` GVariant; the caller unrefs it.
func makeVardict(_ metadata: [String: CommitMetadataValue]) -> OpaquePointer {
    g_variant_ref_sink(makeFloatingVardict(metadata))
}

/// As `makeVardict`, with entries given as (floating) variants of types
/// `CommitMetadataValue` does not model (`ostree.sizes`); they win over
/// `metadata`'s entries of the same key.
func makeVardict(_ metadata: [String: CommitMetadataValue], variants: [String: OpaquePointer]) -> OpaquePointer {
    var all: [String: () -> OpaquePointer] = metadata.mapValues { value in { value.makeVariant() } }
    for (key, variant) in variants { all[key] = { variant } }
    let type = g_variant_type_new("a{sv}")
    defer { g_variant_type_free(type) }
    let builder = g_variant_builder_new(type)!
    defer { g_variant_builder_unref(builder) }
    for key in all.keys.sorted() {
        g_variant_builder_add_value(builder, g_variant_new_dict_entry(g_variant_new_string(key), g_variant_new_variant(all[key]!())))
    }
    return g_variant_ref_sink(g_variant_builder_end(builder))
}

/// A new floating `a{sv}`, for nesting inside another value (which takes it).
func makeFloatingVardict(_ metadata: [String: CommitMetadataValue]) -> OpaquePointer {
    let type = g_variant_type_new("a{sv}")
    defer { g_variant_type_free(type) }
    let builder = g_variant_builder_new(type)!
    defer { g_variant_builder_unref(builder) }
    for key in metadata.keys.sorted() {
        let entry = g_variant_new_dict_entry(g_variant_new_string(key), g_variant_new_variant(metadata[key]!.makeVariant()))
        g_variant_builder_add_value(builder, entry)
    }
    return g_variant_builder_end(builder)
}

/// An `a{sv}` as Swift values; entries of types treeforge does not read are skipped.
func decodeVardict(_ dict: OpaquePointer) -> [String: CommitMetadataValue] {
    var out: [String: CommitMetadataValue] = [:]
    for i in 0..<g_variant_n_children(dict) {
        let entry = g_variant_get_child_value(dict, i)!
        let key = g_variant_get_child_value(entry, 0)!
        let boxed = g_variant_get_child_value(entry, 1)!
        let value = g_variant_get_variant(boxed)!
        if let decoded = CommitMetadataValue(variant: value) {
            out[String(cString: g_variant_get_string(key, nil))] = decoded
        }
        [value, boxed, key, entry].forEach { g_variant_unref($0) }
    }
    return out
}
