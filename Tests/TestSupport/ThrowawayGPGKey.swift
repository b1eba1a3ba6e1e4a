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

    deinit {
        _ = try? Command.run(["gpgconf", "--homedir", home.url.path, "--kill", "all"])
    }
}
