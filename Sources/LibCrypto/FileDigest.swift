import CCrypto
import Glibc

/// A file's digest through OpenSSL's EVP interface, streamed in 1 MiB
/// blocks: the package files a compose checks against their repository's
/// metadata, each compose (SHA-256 with the CPU's SHA extensions runs at
/// several times the speed of libsolv's portable code).
public enum FileDigest {
    /// Lowercase hex of the file's `algorithm` digest ("sha256", "sha512",
    /// "sha1", "md5": OpenSSL's names, which repomd.xml's match).
    public static func hex(ofFileAt path: String, algorithm: String) throws -> String {
        guard let digest = EVP_get_digestbyname(algorithm) else {
            throw CryptoError(function: "EVP_get_digestbyname", message: "OpenSSL has no digest \(algorithm)", path: path)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CryptoError(function: "open", message: String(cString: strerror(errno)), path: path) }
        defer { close(fd) }
        let context = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(context) }
        precondition(EVP_DigestInit_ex(context, digest, nil) == 1, "EVP_DigestInit_ex(\(algorithm)) failed")
        var block = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw CryptoError(function: "read", message: String(cString: strerror(errno)), path: path) }
            if count == 0 { break }
            block.withUnsafeBytes { precondition(EVP_DigestUpdate(context, $0.baseAddress, count) == 1, "EVP_DigestUpdate failed") }
        }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &out, &length) == 1, "EVP_DigestFinal_ex failed")
        return hexString(Array(out[0..<Int(length)]))
    }
}

/// A failed OpenSSL or system call, with the file it was for.
public struct CryptoError: Error, CustomStringConvertible, Sendable {
    public let function: String
    public let message: String
    public let path: String
    public var description: String { "\(path): \(function): \(message)" }
}
