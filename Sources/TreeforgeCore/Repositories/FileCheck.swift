import Foundation
import LibCrypto
import LibSolv

/// Whether a file is the one its metadata describes: its size first (cheap,
/// and names a truncated copy as such), then its checksum.
enum FileCheck {
    /// Nil when the file matches; otherwise what differs, in words.
    static func damage(of path: String, checksum: Checksum, expected: String, size: UInt64?) throws -> String? {
        if let size, let actual = Self.size(of: path), actual != size {
            return "it is \(actual) bytes, expected \(size)\(actual < size ? ": truncated" : "")"
        }
        let actual = try checksum.hex(ofFileAt: path)
        return actual == expected ? nil : "\(checksum.rawValue) is \(actual), expected \(expected)"
    }

    static func size(of path: String) -> UInt64? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value
    }
}

extension Checksum {
    /// The file's digest of this type, streamed, by OpenSSL (`FileDigest`:
    /// the CPU's SHA instructions; libsolv's portable code took 12 times as
    /// long on the corpus's RPMs). The case names are OpenSSL's names.
    public func hex(ofFileAt path: String) throws -> String {
        try FileDigest.hex(ofFileAt: path, algorithm: rawValue)
    }
}
