import Foundation
import LibRPM
import Testing
import TestSupport

/// Signature checks with an in-memory keyring, against fixture RPMs signed
/// at test time with throwaway keys (`rpmsign`).
@Suite(.serialized) struct RPMKeyringTests {
    let dir: TemporaryDirectory
    let key: ThrowawayGPGKey
    let signed: URL

    init() throws {
        dir = try TemporaryDirectory("keyring")
        key = try ThrowawayGPGKey()
        try RPMConfiguration.load(databasePath: "/usr/lib/sysimage/rpm")
        signed = try Self.copy("fixture-newtool-2.0-1.noarch.rpm", into: dir)
        try key.signRPMs([signed])
    }

    func copy(_ name: String) throws -> URL { try Self.copy(name, into: dir) }

    static func copy(_ name: String, into dir: TemporaryDirectory) throws -> URL {
        let copy = dir.path(name)
        try FileManager.default.copyItem(at: try Fixtures.repository().appendingPathComponent("Packages/\(name)"), to: copy)
        return copy
    }

    func keyring(_ keys: ThrowawayGPGKey...) throws -> RPMKeyring {
        let keyring = RPMKeyring()
        for key in keys { try keyring.addKeys(fromArmoredFile: key.publicKey.path) }
        return keyring
    }

    @Test func readsTheKeyIDsGnuPGGave() throws {
        #expect(try keyring(key).keyIDs == [key.longKeyID])
    }

    @Test func aPackageSignedByAKeyInTheKeyringIsValid() throws {
        #expect(try keyring(key).verify(packageAt: signed.path) == .valid(keyID: key.longKeyID))
    }

    @Test func anUnsignedPackageIsReportedAsSuch() throws {
        #expect(try keyring(key).verify(packageAt: try copy("fixture-editor-b-1.0-1.noarch.rpm").path) == .unsigned)
    }

    @Test func aPackageSignedByAnotherKeyNamesThatKey() throws {
        let other = try ThrowawayGPGKey()
        #expect(try keyring(other).verify(packageAt: signed.path) == .unknownKey(keyID: key.longKeyID))
        // Two files, two keys: either signs.
        #expect(try keyring(other, key).verify(packageAt: signed.path) == .valid(keyID: key.longKeyID))
    }

    @Test func aDamagedSignatureIsBadInLibrpmsWords() throws {
        try ThrowawayGPGKey.damageSignature(of: signed)
        let verdict = try keyring(key).verify(packageAt: signed.path)
        guard case .bad(let message) = verdict else {
            Issue.record("expected a bad signature, got \(verdict)")
            return
        }
        #expect(message.contains("Signature") && message.contains("BAD"), "librpm's words: \(message)")
    }

    @Test func aFileThatIsNoKeyIsRefused() throws {
        let notAKey = try dir.write("not-a-key.asc", "hello\n")
        let error = try #require(throws: RPMError.self) { try RPMKeyring().addKeys(fromArmoredFile: notAKey.path) }
        #expect(error.message.contains("not-a-key.asc holds no ASCII-armored OpenPGP block"))
        let missing = try #require(throws: RPMError.self) { try RPMKeyring().addKeys(fromArmoredFile: dir.path("absent.asc").path) }
        #expect(missing.message.contains("absent.asc does not exist"))
        // A binary (dearmored) key: gpg --export without --armor.
        let binary = dir.path("binary.gpg")
        try Command.check(["gpg", "--batch", "--homedir", key.home.url.path, "--output", binary.path, "--export", key.keyID])
        let notArmored = try #require(throws: RPMError.self) { try RPMKeyring().addKeys(fromArmoredFile: binary.path) }
        #expect(notArmored.message.contains("binary.gpg holds no ASCII-armored OpenPGP block"))
    }
}
