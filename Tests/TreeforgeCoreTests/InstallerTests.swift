import Foundation
import Testing
import TestSupport
import LibRPM
import LibSolv
@testable import TreeforgeCore

@Suite struct InstallerTests {
    @Test func scriptletFailureNamesPackageAndScriptlet() throws {
        let dir = try TemporaryDirectory("installer")
        let log = try dir.write("install.log", """
            fixture: %post failing on purpose
            warning: %post(p-1-1.noarch) scriptlet failed, exit status 3
            """)
        let error = try #require(Installer.failure(
            in: [.installing(nevra: "p-1-1.noarch", index: 1, total: 1),
                 .scriptletFailed(nevra: "p-1-1.noarch", scriptlet: "%post", output: ["fixture: %post failing on purpose"])],
            exitStatus: 1, logFile: log))
        #expect(error.stage == .install)
        #expect(error.subject == "p-1-1.noarch")
        #expect(error.message == "the %post scriptlet failed (exit status 3)")
        #expect(error.details.contains("fixture: %post failing on purpose"))
        #expect(error.details.last == "(full log: \(log.path))")
    }

    /// A named pipe is refused unless librpm leaves it out anyway: under a
    /// sandbox mount point (a `%_netsharedpath` folder, matched as rpm
    /// matches it: the folder or below, not a name that merely starts
    /// with it) or by `remove-from-packages`.
    @Test func namedPipesAreRefusedUnlessLeftOut() throws {
        let fifo = UInt32(S_IFIFO) | 0o600
        let lists = [RPMPackageFileList(name: "p", nevra: "p-1-1.noarch", files: [
            .init(path: "/dev/initctl", mode: fifo),
            .init(path: "/devices/pipe", mode: fifo),
            .init(path: "/usr/share/p/pipe", mode: fifo),
            .init(path: "/usr/share/p/readme", mode: UInt32(S_IFREG) | 0o644),
        ])]
        var plan = InstallPlan(root: "/r", databasePath: InstallPlan.defaultDatabasePath, documentation: true,
                               packages: [.init(path: "/p.rpm", nevra: "p-1-1.noarch")])
        plan.mountPoints = ["/dev", "/proc", "/tmp"]
        let refused = try InstallSkips(plan: plan, lists: lists)
        #expect(refused.failure == .failed(message: "the packages ship named pipes (FIFOs), which OSTree cannot commit; leave them out with `remove-from-packages`",
                                           package: "p-1-1.noarch",
                                           details: ["/devices/pipe (named pipe, from p-1-1.noarch)", "/usr/share/p/pipe (named pipe, from p-1-1.noarch)"]))
        plan.removeFromPackages = [RemoveFromPackage(package: "p", patterns: ["/pipe$"])]
        let left = try InstallSkips(plan: plan, lists: lists)
        #expect(left.failure == nil)
        #expect(left.paths == ["/dev", "/proc", "/tmp", "/devices/pipe", "/usr/share/p/pipe"])
    }

    @Test func aChildThatDiesWithoutFinishingIsAFailure() throws {
        let dir = try TemporaryDirectory("installer")
        let log = try dir.write("install.log", "")
        let error = Installer.failure(in: [.installing(nevra: "p", index: 1, total: 2)], exitStatus: 137, logFile: log)
        #expect(error?.message.contains("status 137") == true)
        #expect(Installer.failure(in: [.finished(installed: 1)], exitStatus: 0, logFile: log) == nil)
    }

    @Test func eventsRoundTripAsJSONLines() throws {
        let events: [InstallEvent] = [
            .installing(nevra: "a", index: 1, total: 2), .scriptletStarted(nevra: "a", scriptlet: "%pre"),
            .scriptletFinished(nevra: "a", scriptlet: "%pre", output: ["line one", ""]),
            .failed(message: "m", package: nil, details: ["d"]), .finished(installed: 2),
        ]
        for event in events {
            let line = try JSONEncoder().encode(event)
            #expect(!line.contains(0x0a))
            #expect(try JSONDecoder().decode(InstallEvent.self, from: line) == event)
        }
    }

    @Test func thePlanCarriesKeysOnlyForPackagesOfGpgcheckRepositories() throws {
        func package(_ name: String, _ repo: String) -> ResolvedPackage {
            ResolvedPackage(info: PackageInfo(name: name, epoch: "", version: "1", release: "1", arch: "noarch", repository: repo,
                                              location: "\(name).rpm", checksumType: nil, checksum: nil, downloadSize: 1, installSize: 1),
                            path: "/r/\(name).rpm")
        }
        let repos = [RepoState(id: "signed", path: "/s", packageCount: 1, gpgcheck: true, gpgkeys: ["/keys/a.asc", "/keys/b.asc"]),
                     RepoState(id: "plain", path: "/p", packageCount: 1)]
        let planned = try Installer.planPackages(ResolvedSet(packages: [package("a", "signed"), package("b", "plain")], repos: repos))
        #expect(planned.map(\.repository) == ["signed", "plain"])
        #expect(planned[0].signatureKeys == ["/keys/a.asc", "/keys/b.asc"])
        #expect(planned[1].signatureKeys == nil)

        let keyless = [RepoState(id: "signed", path: "/s", packageCount: 1, gpgcheck: true)]
        let error = try #require(throws: ComposeError.self) {
            try Installer.planPackages(ResolvedSet(packages: [package("a", "signed")], repos: keyless))
        }
        #expect(error.subject == "repo signed")
        #expect(error.message.contains("gpgcheck=1") && error.message.contains("a-1-1.noarch"))
    }

    @Test func corruptFileIsCaughtBeforeLibrpmSeesIt() throws {
        let dir = try TemporaryDirectory("installer")
        let file = try dir.write("p.rpm", "not the rpm the metadata describes")
        let package = ResolvedPackage(info: PackageInfo(
            name: "p", epoch: "", version: "1", release: "1", arch: "noarch", repository: "fx",
            location: "p.rpm", checksumType: "sha256", checksum: String(repeating: "0", count: 64),
            downloadSize: 1, installSize: 1), path: file.path)
        let error = try #require(throws: ComposeError.self) {
            try Installer(helperExecutable: Fixtures.treeforgeExecutable, workdir: dir.url).verifyFiles([package])
        }
        #expect(error.subject == "p-1-1.noarch")
        #expect(error.message.contains("does not match repo fx's metadata"))
    }
}
