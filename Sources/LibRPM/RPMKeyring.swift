import CRpm
import Foundation

/// An in-memory OpenPGP keyring for package signature checks, filled from
/// ASCII-armored key files (a repository's `gpgkey=`). Nothing is imported
/// into an rpmdb: the keys live only as long as this value.
public final class RPMKeyring {
    let raw: OpaquePointer
    /// The 16-hex-digit ids of every key and subkey added, in file order.
    public private(set) var keyIDs: [String] = []

    public init() {
        raw = rpmKeyringNew()
    }

    deinit { rpmKeyringFree(raw) }

    /// Adds every public key (and its subkeys) in an armored file; a file
    /// may hold several `-----BEGIN PGP PUBLIC KEY BLOCK-----` blocks, and a
    /// block several certificates, as `rpmkeys --import` accepts.
    public func addKeys(fromArmoredFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw RPMError(function: "read", message: "the key file \(path) \(reason)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let blocks = text.components(separatedBy: "-----BEGIN PGP ").dropFirst().map { "-----BEGIN PGP " + $0 }
        guard !blocks.isEmpty else {
            throw RPMError(function: "pgpParsePkts", message: "the key file \(path) holds no ASCII-armored OpenPGP block")
        }
        for (index, block) in blocks.enumerated() {
            var packets: UnsafeMutablePointer<UInt8>?
            var length = 0
            let armor = pgpParsePkts(block, &packets, &length)
            defer { free(packets) }
            guard armor == PGPARMOR_PUBKEY, let packets else {
                throw RPMError(function: "pgpParsePkts", message: "block \(index + 1) of the key file \(path) is not an armored OpenPGP public key")
            }
            var offset = 0
            while offset < length {
                var certificateLength = 0
                let certificate = packets + offset
                guard pgpPubKeyCertLen(certificate, length - offset, &certificateLength) == 0, certificateLength > 0 else {
                    throw RPMError(function: "pgpPubKeyCertLen", message: "block \(index + 1) of the key file \(path) holds a malformed certificate")
                }
                try add(certificate: certificate, length: certificateLength, path: path)
                offset += certificateLength
            }
        }
    }

    private func add(certificate: UnsafeMutablePointer<UInt8>, length: Int, path: String) throws {
        guard let key = rpmPubkeyNew(certificate, length) else {
            throw RPMError.fromLog("rpmPubkeyNew", fallback: "a key in \(path) cannot be used by librpm (unsupported algorithm or malformed)")
        }
        defer { rpmPubkeyFree(key) }
        guard rpmKeyringAddKey(raw, key) >= 0 else {
            throw RPMError(function: "rpmKeyringAddKey", message: "cannot add a key from \(path) to the keyring")
        }
        var subkeyCount: Int32 = 0
        if let subkeys = rpmGetSubkeys(key, &subkeyCount) {
            for subkey in UnsafeBufferPointer(start: subkeys, count: Int(subkeyCount)) {
                _ = rpmKeyringAddKey(raw, subkey)
                rpmPubkeyFree(subkey)
            }
            free(subkeys)
        }
        keyIDs += Self.keyIDs(ofCertificate: certificate, length: length)
    }

    /// The primary key's id and its subkeys' ids, as librpm parses them.
    private static func keyIDs(ofCertificate certificate: UnsafeMutablePointer<UInt8>, length: Int) -> [String] {
        var primary: pgpDigParams?
        guard pgpPrtParams(certificate, length, UInt32(PGPTAG_PUBLIC_KEY.rawValue), &primary) == 0, let primary else { return [] }
        defer { pgpDigParamsFree(primary) }
        var ids = [keyID(of: primary)]
        var subkeys: UnsafeMutablePointer<pgpDigParams?>?
        var count: Int32 = 0
        if pgpPrtParamsSubkeys(certificate, length, primary, &subkeys, &count) == 0, let subkeys {
            for subkey in UnsafeBufferPointer(start: subkeys, count: Int(count)) {
                if let subkey {
                    ids.append(keyID(of: subkey))
                    pgpDigParamsFree(subkey)
                }
            }
            free(subkeys)
        }
        return ids
    }

    /// A key's or signature's issuer id: 8 bytes as 16 lowercase hex digits,
    /// as `rpm -qi` prints it.
    static func keyID(of parameters: pgpDigParams) -> String {
        guard let id = pgpDigParamsSignID(parameters) else { return "?" }
        return (0..<8).map { String(format: "%02x", id[$0]) }.joined()
    }
}
