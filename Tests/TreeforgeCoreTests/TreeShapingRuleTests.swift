import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// The pure parts of the tree-shaping rules: os-release rewriting (rpm-ostree's
/// own test cases), [Install] parsing, and symlink resolution inside a root.
struct TreeShapingRuleTests {
    @Test func osReleaseGetsTheCommitVersion() {
        // rpm-ostree's mutate_os_release_contents test, same input and output.
        let input = """
            NAME=Fedora
            VERSION="28 (Cloud Edition)"
            ID=fedora
            VERSION_ID=28
            PRETTY_NAME="Fedora 28 (Cloud Edition)"

            """
        let expected = """
            NAME=Fedora
            VERSION="28.20180102.0 (Cloud Edition)"
            ID=fedora
            VERSION_ID=28
            PRETTY_NAME="Fedora 28.20180102.0 (Cloud Edition)"
            OSTREE_VERSION='28.20180102.0'

            """
        #expect(OSRelease.mutated(input, baseVersion: "28", nextVersion: "28.20180102.0") == expected)
        #expect(OSRelease.shellQuoted("it's") == #"'it'\''s'"#)
    }

    @Test func installSectionsAreReadAsSystemctlReadsThem() throws {
        let dir = try TemporaryDirectory("units")
        let unit = dir.path("a.service")
        try """
            [Unit]
            Description=WantedBy=not-this.target
            [Install]
            WantedBy=multi-user.target \\
              graphical.target
            # WantedBy=commented.target
            RequiredBy=b.target
            Alias=c.service
            Also=d.socket e.timer
            DefaultInstance=x
            """.write(to: unit, atomically: true, encoding: .utf8)
        let install = try InstallSection(parsing: unit)
        #expect(install.present)
        #expect(install.wantedBy == ["multi-user.target", "graphical.target"])
        #expect(install.requiredBy == ["b.target"])
        #expect(install.alias == ["c.service"])
        #expect(install.also == ["d.socket", "e.timer"])
        #expect(install.defaultInstance == "x")

        try "[Service]\nExecStart=/bin/true\n[Install]\n".write(to: unit, atomically: true, encoding: .utf8)
        #expect(try InstallSection(parsing: unit).present == false, "an empty [Install] is no install config")
    }

    @Test func aUnitTheTreefileAddsIsEnabledFromItsOwnInstallSection() throws {
        let dir = try TemporaryDirectory("units-added")
        let source = try dir.write("treefile/version.service", "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=custom.target\n")
        try FileManager.default.createDirectory(at: dir.path("root/usr/lib/systemd/system"), withIntermediateDirectories: true)
        let events = RecordedEvents()
        var units = SystemdUnits(root: RootDirectory(dir.path("root")), events: events)
        units.added = ["usr/lib/systemd/system/version.service": source]
        let log = try units.enable(["version.service"])
        #expect(log == ["units: version.service: /etc/systemd/system/custom.target.wants/version.service → /usr/lib/systemd/system/version.service"])
        #expect(events.events.isEmpty, "no warning: add-files provides the unit")
    }

    @Test func symlinksResolveInsideTheRoot() throws {
        let dir = try TemporaryDirectory("rootpath")
        let root = dir.path("root")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("usr/lib"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("etc/os-release").path,
                                                   withDestinationPath: "../usr/lib/os-release")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("etc/abs").path,
                                                   withDestinationPath: "/usr/lib/os-release")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("lib").path, withDestinationPath: "usr/lib")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("etc/escape").path,
                                                   withDestinationPath: "../../../../etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("etc/loop").path, withDestinationPath: "loop")
        #expect(try RootPath.resolve("/etc/os-release", in: root) == "usr/lib/os-release")
        #expect(try RootPath.resolve("etc/abs", in: root) == "usr/lib/os-release", "absolute targets are inside the root")
        #expect(try RootPath.resolve("lib/systemd/system/x.service", in: root) == "usr/lib/systemd/system/x.service")
        #expect(try RootPath.resolve("etc/escape", in: root) == "etc/passwd", "never above the root")
        #expect(throws: ComposeError.self) { try RootPath.resolve("etc/loop", in: root) }
    }
}
