import CRpm
import Foundation

/// What checking a package file's OpenPGP signature against a keyring found.
public enum RPMSignatureVerdict: Sendable, Equatable {
    /// Signed by a key in the keyring, and the signature holds.
    case valid(keyID: String)
    /// The package carries no OpenPGP header signature.
    case unsigned
    /// Signed by a key the keyring does not hold (librpm's NOKEY).
    case unknownKey(keyID: String)
    /// Signed by a key in the keyring that librpm does not trust (expired,
    /// revoked or not allowed to sign: librpm's NOTTRUSTED).
    case untrustedKey(keyID: String)
    /// A signature or digest does not match the package: librpm's own words.
    case bad(message: String)
}

extension RPMKeyring {
    /// Reads the package file with signature and digest checks on, against
    /// this keyring only (never the host's or a root's rpmdb).
    public func verify(packageAt path: String) throws -> RPMSignatureVerdict {
        let ts = rpmtsCreate()
        defer { rpmtsFree(ts) }
        // A keyring set on the transaction replaces the one librpm would
        // load from the rpmdb.
        _ = rpmtsSetKeyring(ts, raw)
        _ = rpmtsSetVSFlags(ts, rpmVSFlags(0))
        guard let fd = Fopen(path, "r.ufdio"), Ferror(fd) == 0 else {
            throw RPMError(function: "Fopen", package: path, message: "cannot open the package file")
        }
        defer { Fclose(fd) }
        var header: Header?
        let rc = rpmReadPackageFile(ts, fd, path, &header)
        defer { header.map { _ = headerFree($0) } }
        switch rc {
        case RPMRC_OK:
            guard let header else {
                throw RPMError(function: "rpmReadPackageFile", package: path, message: "librpm returned no header")
            }
            return Self.signer(of: header).map { .valid(keyID: $0) } ?? .unsigned
        case RPMRC_NOKEY:
            return .unknownKey(keyID: header.flatMap(Self.signer(of:)) ?? "?")
        case RPMRC_NOTTRUSTED:
            return .untrustedKey(keyID: header.flatMap(Self.signer(of:)) ?? "?")
        case RPMRC_FAIL:
            return .bad(message: RPMError.fromLog("rpmReadPackageFile", package: path,
                                                  fallback: "a signature or digest does not match").message)
        default:
            throw RPMError.fromLog("rpmReadPackageFile", package: path, fallback: "not a readable RPM package")
        }
    }

    /// The issuer key id of the package's header signature (RSA, or DSA
    /// which also holds EdDSA: what rpmsign has written since rpm 4.1); nil
    /// when there is none. Legacy header+payload-only signatures count as
    /// none: reading the header does not verify them.
    static func signer(of header: Header) -> String? {
        for tag in [RPMTAG_RSAHEADER, RPMTAG_DSAHEADER] {
            let data = rpmtdNew()!
            defer { rpmtdFree(data) }
            guard headerGet(header, rpmTagVal(tag.rawValue), data, headerGetFlags(HEADERGET_MINMEM.rawValue)) != 0 else { continue }
            defer { rpmtdFreeData(data) }
            guard let bytes = data.pointee.data else { continue }
            var parameters: pgpDigParams?
            guard pgpPrtParams(bytes.assumingMemoryBound(to: UInt8.self), Int(data.pointee.count),
                               UInt32(PGPTAG_SIGNATURE.rawValue), &parameters) == 0, let parameters else { continue }
            defer { pgpDigParamsFree(parameters) }
            return keyID(of: parameters)
        }
        return nil
    }
}
