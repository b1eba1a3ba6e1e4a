import Foundation
import LibRPM
import Testing
import TestSupport

/// librpm through the wrapper. Only header reading here: running a
/// transaction chroots the process, which the integration tests do in the
/// rpm child process.
@Suite(.serialized) struct RPMTransactionTests {
    let dir: TemporaryDirectory

    init() throws {
        dir = try TemporaryDirectory("rpm")
        try RPMConfiguration.load(databasePath: "/usr/lib/sysimage/rpm")
    }

    @Test func configurationOverridesTheDatabasePath() {
        #expect(RPMConfiguration.expand("%{_dbpath}") == "/usr/lib/sysimage/rpm")
    }

    @Test func readsAPackageHeader() throws {
        let transaction = try RPMTransaction(root: dir.url.path)
        let rpm = try Fixtures.repository().appendingPathComponent("Packages/fixture-app-1.0-1.noarch.rpm")
        #expect(try transaction.addInstall(path: rpm.path) == "fixture-app-1.0-1.noarch")
    }

    @Test func aDamagedHeaderIsRefusedWithLibrpmsMessage() throws {
        let rpm = try Fixtures.repository().appendingPathComponent("Packages/fixture-app-1.0-1.noarch.rpm")
        var bytes = try Data(contentsOf: rpm)
        // The main header is the second header structure (after the signature).
        let magic = Data([0x8e, 0xad, 0xe8, 0x01])
        let signature = try #require(bytes.range(of: magic))
        let header = try #require(bytes.range(of: magic, in: signature.upperBound..<bytes.endIndex))
        for i in (header.lowerBound + 600)..<(header.lowerBound + 700) { bytes[i] ^= 0x5a }
        let damaged = dir.path("damaged.rpm")
        try bytes.write(to: damaged)
        let transaction = try RPMTransaction(root: dir.url.path)
        let error = try #require(throws: RPMError.self) { try transaction.addInstall(path: damaged.path) }
        #expect(error.function == "rpmReadPackageFile")
        #expect(error.package == damaged.path)
        #expect(error.message.contains("BAD"), "librpm's own words: \(error.message)")
    }

    @Test func aMissingFileIsNamed() throws {
        let transaction = try RPMTransaction(root: dir.url.path)
        let error = try #require(throws: RPMError.self) { try transaction.addInstall(path: dir.path("none.rpm").path) }
        #expect(error.package?.hasSuffix("none.rpm") == true)
    }

    /// The rpmdb's record of an installed path (a root `rpm -i` made: the oracle writes, the wrapper reads).
    @Test(.enabled(if: getuid() == 0, "rpm -i sets owners: run as root"))
    func readsAnInstalledFilesMetadata() throws {
        let rpm = try Fixtures.repository().appendingPathComponent("Packages/fixture-app-1.0-1.noarch.rpm")
        let root = dir.path("root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Command.check(["rpm", "--root", root.path, "--dbpath", "/usr/lib/sysimage/rpm", "-i", "--nodeps", "--noscripts", rpm.path])
        let transaction = try RPMTransaction(root: root.path)
        let file = try #require(transaction.installedFile("/usr/share/fixture-app/private"))
        #expect(file.mode == 0o40700)
        #expect(file.user == "root" && file.group == "root")
        #expect(file.mtime == 1_700_000_000)
        #expect(transaction.installedFile("/usr/share/not-installed") == nil)
    }
}
