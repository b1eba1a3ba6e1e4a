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

    /// A package's name and files from its header (`rpm -qlvp` is the oracle).
    @Test func readsAPackagesFileList() throws {
        let packages = try Fixtures.repository().appendingPathComponent("Packages")
        let layout = try RPMPackageFileList(packageAt: packages.appendingPathComponent("fixture-layout-1.0-1.noarch.rpm").path)
        #expect(layout.name == "fixture-layout" && layout.nevra == "fixture-layout-1.0-1.noarch")
        let device = try #require(layout.files.first { $0.path == "/usr/share/fixture-layout/null" })
        #expect(device.isCharacterDevice && device.major == 1 && device.minor == 3)
        let listing = try Command.check(["rpm", "-qlp", packages.appendingPathComponent("fixture-layout-1.0-1.noarch.rpm").path])
        #expect(layout.files.map(\.path) == listing.split(separator: "\n").map(String.init))
        let app = try RPMPackageFileList(packageAt: packages.appendingPathComponent("fixture-app-1.0-1.noarch.rpm").path)
        #expect(app.files.contains { $0.path == "/usr/share/fixture-app/private" && $0.isDirectory && $0.mode & 0o7777 == 0o700 })
        #expect(!app.files.contains { $0.isCharacterDevice || $0.isBlockDevice })
    }
}
