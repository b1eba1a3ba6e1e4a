import CDeflate

/// libdeflate's whole-buffer compressor, producing raw DEFLATE (no zlib or
/// gzip wrapper): what OSTree's archive objects hold after their header, and
/// what zlib's raw inflate (libostree, `ostree fsck`, `ostree pull`) reads.
///
/// One instance per thread: libdeflate's compressors keep state and are not
/// shared.
public final class DeflateCompressor {
    private let raw: OpaquePointer
    public let level: Int

    /// `level` 1–12; 6 is zlib's default and libostree's for archive repositories.
    public init(level: Int = 6) throws {
        guard (1...12).contains(level), let raw = libdeflate_alloc_compressor(Int32(level)) else {
            throw DeflateError(message: "cannot make a DEFLATE compressor at level \(level) (libdeflate_alloc_compressor)")
        }
        self.raw = raw
        self.level = level
    }

    deinit { libdeflate_free_compressor(raw) }

    /// The most bytes compressing `count` bytes can produce.
    public func bound(for count: Int) -> Int {
        libdeflate_deflate_compress_bound(raw, count)
    }

    /// Compresses `input` into `output`, which is grown to the bound first;
    /// returns the compressed length (the first bytes of `output`).
    public func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws -> Int {
        let bound = bound(for: input.count)
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let written = output.withUnsafeMutableBytes { out in
            libdeflate_deflate_compress(raw, input.baseAddress, input.count, out.baseAddress, out.count)
        }
        guard written > 0 else {
            throw DeflateError(message: "libdeflate_deflate_compress: \(input.count) bytes did not fit in \(bound)")
        }
        return written
    }
}

public struct DeflateError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
