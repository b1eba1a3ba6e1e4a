import CSolv
import Foundation

/// Hex digests computed with libsolv's checksum code (libsolv is linked
/// anyway, so the project needs no second crypto library for this).
public enum Checksum: String, Sendable, CaseIterable {
    case sha256, sha512, sha1, md5

    /// libsolv's name for the type, as repomd.xml spells it ("sha" means sha1).
    public init?(repomdName: String) {
        switch repomdName.lowercased() {
        case "sha256": self = .sha256
        case "sha512": self = .sha512
        case "sha", "sha1": self = .sha1
        case "md5": self = .md5
        default: return nil
        }
    }

    var solvType: Id {
        switch self {
        case .sha256: Id(REPOKEY_TYPE_SHA256.rawValue)
        case .sha512: Id(REPOKEY_TYPE_SHA512.rawValue)
        case .sha1: Id(REPOKEY_TYPE_SHA1.rawValue)
        case .md5: Id(REPOKEY_TYPE_MD5.rawValue)
        }
    }

    public func hex(of data: some DataProtocol) -> String {
        let state = solv_chksum_create(solvType)!
        for region in data.regions {
            region.withUnsafeBytes { raw in
                solv_chksum_add(state, raw.baseAddress, Int32(raw.count))
            }
        }
        return Self.finish(state)
    }

    private static func finish(_ state: OpaquePointer) -> String {
        var length: Int32 = 0
        let bytes = solv_chksum_get(state, &length)!
        let hex = hexString(bytes, count: Int(length))
        _ = solv_chksum_free(state, nil)
        return hex
    }

    /// Lowercase hex, by libsolv's own encoder.
    static func hexString(_ bytes: UnsafePointer<UInt8>, count: Int) -> String {
        var out = [CChar](repeating: 0, count: count * 2 + 1)
        _ = solv_bin2hex(bytes, Int32(count), &out)
        return out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
