import Foundation

/// A GnuPG home with one unprotected signing key, made for one test.
public final class ThrowawayGPGKey: @unchecked Sendable {
    public let home: TemporaryDirectory
    public let keyID: String
    /// The public key, ASCII-armored, for clients to import.
    public let publicKey: URL

    public init() throws {
        home = try TemporaryDirectory("gpg")
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: home.url.path)
        let gpg = ["gpg", "--batch", "--homedir", home.url.path]
        try Command.check(gpg + ["--passphrase", "", "--quick-gen-key", "treeforge test <test@treeforge.invalid>", "ed25519", "sign", "1d"])
        let listing = try Command.check(gpg + ["--with-colons", "--list-secret-keys"])
        guard let line = listing.split(separator: "\n").first(where: { $0.hasPrefix("fpr:") }) else {
            throw FixtureError("gpg made no key: \(listing)")
        }
        keyID = String(line.split(separator: ":", omittingEmptySubsequences: false)[9])
        publicKey = home.path("public.asc")
        try Command.check(gpg + ["--armor", "--output", publicKey.path, "--export", keyID])
    }

    /// The key's 16-hex-digit id (the fingerprint's tail), lowercase as
    /// `rpm -qi` prints it.
    public var longKeyID: String { String(keyID.suffix(16)).lowercased() }

    /// Signs RPM files in place with `rpmsign --addsign`, using only this
    /// home (rpm's default `%__gpg` on Debian names gpg2, which is absent).
    public func signRPMs(_ files: [URL]) throws {
        try Command.check(["rpmsign", "--define", "_gpg_name \(keyID)", "--define", "_gpg_path \(home.url.path)",
                           "--define", "__gpg /usr/bin/gpg", "--addsign"] + files.map(\.path))
    }

    /// Flips one bit of a signed RPM's header signature (the EdDSA or RSA
    /// value itself), so the signature no longer matches the header.
    public static func damageSignature(of file: URL) throws {
        let hex = try Command.check(["rpm", "-qp", "--qf", "%|DSAHEADER?{%{DSAHEADER}}:{%{RSAHEADER}}|", file.path])
        let blob = Data(stride(from: 0, to: hex.count - 1, by: 2).compactMap {
            UInt8(hex.dropFirst($0).prefix(2), radix: 16)
        })
        var bytes = try Data(contentsOf: file)
        guard blob.count > 8, let range = bytes.range(of: blob) else { throw FixtureError("\(file.path) carries no header signature") }
        bytes[range.upperBound - 3] ^= 0x01
        try bytes.write(to: file)
    }

    deinit {
        _ = try? Command.run(["gpgconf", "--homedir", home.url.path, "--kill", "all"])
    }
}
