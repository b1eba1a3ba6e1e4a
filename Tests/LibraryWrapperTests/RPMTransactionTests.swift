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

    /// The device nodes a package ships, from its header (`rpm -qlv` is the oracle).
    @Test func listsThePackagesDeviceFiles() throws {
        let packages = try Fixtures.repository().appendingPathComponent("Packages")
        let devices = try RPMTransaction.deviceFiles(inPackageAt: packages.appendingPathComponent("fixture-layout-1.0-1.noarch.rpm").path)
        #expect(devices == [RPMDeviceFile(package: "fixture-layout-1.0-1.noarch", path: "/usr/share/fixture-layout/null",
                                          isCharacterDevice: true, major: 1, minor: 3)])
        let listing = try Command.check(["rpm", "-qlvp", packages.appendingPathComponent("fixture-layout-1.0-1.noarch.rpm").path])
        let line = listing.split(separator: "\n").first { $0.hasSuffix(" /usr/share/fixture-layout/null") }
        #expect(line?.hasPrefix("c") == true, "\(listing)")
        #expect(try RPMTransaction.deviceFiles(inPackageAt: packages.appendingPathComponent("fixture-app-1.0-1.noarch.rpm").path).isEmpty)
    }
}
