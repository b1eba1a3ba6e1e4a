import COSTree
import Foundation

/// libostree's static delta tunables (the `params` of
/// `ostree_repo_static_delta_generate`; value types must match exactly).
public struct StaticDeltaOptions: Sendable, Equatable {
    /// Objects smaller than this (MiB) are never sent as fallbacks.
    public var minFallbackSizeMiB: UInt32 = 4
    /// Maximum size of one delta part (MiB).
    public var maxChunkSizeMiB: UInt32 = 32
    public var bsdiff = true
    /// Put the parts inside the superblock (small deltas).
    public var inlineParts = false

    public init() {}
}

extension OSTreeRepository {
    /// Generates the static delta `from → to` (nil: from scratch). Blocks:
    /// a from-scratch delta of a large tree takes tens of seconds (xz).
    public func generateStaticDelta(from: String?, to: String, options: StaticDeltaOptions = StaticDeltaOptions(),
                                    cancellable: OSTreeCancellable? = nil) throws {
        let type = g_variant_type_new("a{sv}")
        defer { g_variant_type_free(type) }
        let builder = g_variant_builder_new(type)!
        defer { g_variant_builder_unref(builder) }
        func add(_ key: String, _ value: OpaquePointer) {
            g_variant_builder_add_value(builder, g_variant_new_dict_entry(g_variant_new_string(key), g_variant_new_variant(value)))
        }
        add("min-fallback-size", g_variant_new_uint32(options.minFallbackSizeMiB))
        add("max-chunk-size", g_variant_new_uint32(options.maxChunkSizeMiB))
        add("bsdiff-enabled", g_variant_new_boolean(options.bsdiff ? 1 : 0))
        add("inline-parts", g_variant_new_boolean(options.inlineParts ? 1 : 0))
        // The callee only looks values up and never sinks the dictionary: own it.
        let params = g_variant_ref_sink(g_variant_builder_end(builder))
        defer { g_variant_unref(params) }
        try gcall("ostree_repo_static_delta_generate") {
            ostree_repo_static_delta_generate(raw, OSTREE_STATIC_DELTA_GENERATE_OPT_MAJOR, from, to, nil, params, cancellable?.raw, $0)
        }
    }

    /// Where a delta lives under the repository: `deltas/XX/REST[-TO]` in
    /// ostree's modified base64 of the checksums.
    public func staticDeltaDirectory(from: String?, to: String) -> URL {
        func b64(_ checksum: String) -> String {
            let bytes = ostree_checksum_to_bytes(checksum)!
            defer { g_free(bytes) }
            let text = ostree_checksum_b64_from_bytes(bytes)!
            defer { g_free(text) }
            return String(cString: text)
        }
        let name = from.map { "\(b64($0))-\(b64(to))" } ?? b64(to)
        let prefix = name.prefix(2)
        return URL(fileURLWithPath: path).appendingPathComponent("deltas/\(prefix)/\(name.dropFirst(2))")
    }
}

extension OSTreeRepository {
    /// Whether the static delta `from → to` is completely written: libostree
    /// writes its superblock last, so parts without one are a delta cut short.
    public func hasStaticDelta(from: String?, to: String) -> Bool {
        FileManager.default.fileExists(atPath: staticDeltaDirectory(from: from, to: to).appendingPathComponent("superblock").path)
    }
}
