import CCrypto

/// Incremental SHA-256 through OpenSSL's EVP interface (which uses the CPU's
/// SHA extensions where there are some: several times GLib's checksum speed).
///
/// One instance per thread; `reset()` starts a new digest on the same context.
public final class SHA256Hasher {
    private let context: OpaquePointer

    public init() {
        context = EVP_MD_CTX_new()!
        reset()
    }

    deinit { EVP_MD_CTX_free(context) }

    public func reset() {
        // Cannot fail for a built-in digest short of running out of memory.
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex(SHA-256) failed")
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1, "EVP_DigestUpdate failed")
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything given since the last reset (32 bytes); resets.
    public func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &digest, &length) == 1 && length == 32, "EVP_DigestFinal_ex failed")
        reset()
        return digest
    }

    /// The SHA-256 of `bytes`, as lowercase hex.
    public static func hex(of bytes: [UInt8]) -> String {
        let hasher = SHA256Hasher()
        hasher.update(bytes)
        return hexString(hasher.finish())
    }
}

/// Lowercase hex of bytes (OSTree's checksum spelling).
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}
