import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// Rules whose input no fixture RPM can carry, on a hand-made root.
@Suite struct PostprocessRuleTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("postprocess") }

    func context(_ treefileText: String = "") throws -> PostprocessContext {
        try dir.write("treefile.yaml", "ref: test/x86_64/base\npackages: [a]\n" + treefileText)
        let treefile = try TreefileLoader(basearch: "x86_64").load(dir.path("treefile.yaml"))
        return PostprocessContext(root: dir.path("root"), treefile: treefile, previous: nil, events: SilentEvents())
    }

    /// An overlayfs whiteout (character device 0:0) becomes `.ostree-wh.NAME`,
    /// which OSTree commits as a whiteout again. librpm cannot install one.
    @Test(.enabled(if: getuid() == 0, "mknod needs root"))
    func whiteoutsAreQuotedOtherDevicesDropped() throws {
        try FileManager.default.createDirectory(at: dir.path("root/usr/share/overlay"), withIntermediateDirectories: true)
        #expect(mknod(dir.path("root/usr/share/overlay/gone").path, S_IFCHR | 0o600, 0) == 0)
        #expect(mknod(dir.path("root/usr/share/overlay/null").path, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0)
        try DeviceNodes().apply(try context())
        let whiteout = dir.path("root/usr/share/overlay/.ostree-wh.gone").path
        let attributes = try FileManager.default.attributesOfItem(atPath: whiteout)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect(attributes[.size] as? Int == 0)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("root/usr/share/overlay").path) == [".ostree-wh.gone"])
    }

    @Test func tmpfilesPathsAreQuotedAsTheShellReadsThem() {
        #expect(VarToTmpfiles.quote("/var/lib/plain-name_1.2=x:y") == "/var/lib/plain-name_1.2=x:y")
        #expect(VarToTmpfiles.quote("/var/lib/with space") == "'/var/lib/with space'")
        #expect(VarToTmpfiles.quote("/var/lib/it's") == #"'/var/lib/it'\''s'"#)
        #expect(VarToTmpfiles.canonical("/var/run/daemon") == "/run/daemon")
    }

    @Test func nsswitchGetsAltfilesAfterFiles() throws {
        try dir.write("root/usr/etc/nsswitch.conf", "passwd:     sss files systemd\ngroup: files\nhosts: files dns\n")
        try dir.write("root/usr/etc/passwd", "root:x:0:0::/root:/bin/sh\ndaemon:x:2:2::/:/sbin/nologin\n")
        try PasswdMigration().apply(try context())
        #expect(try String(contentsOf: dir.path("root/usr/etc/nsswitch.conf"), encoding: .utf8)
            == "passwd: sss files altfiles systemd\ngroup: files altfiles\nhosts: files dns\n")
        #expect(try String(contentsOf: dir.path("root/usr/lib/passwd"), encoding: .utf8) == "daemon:x:2:2::/:/sbin/nologin\n")
    }

    @Test func aMalformedPasswdLineIsNamed() throws {
        try dir.write("root/usr/etc/passwd", "root:x:0:0::/root:/bin/sh\nbroken:x:notanumber:0::/:/bin/sh\n")
        let error = try #require(throws: ComposeError.self) { try PasswdMigration().apply(try context()) }
        #expect(error.subject == "/usr/etc/passwd:2")
        #expect(error.message.contains("broken:x:notanumber"))
    }

    /// A link a package or scriptlet planted never leads a write out of the
    /// root: folders resolve as a chroot would resolve them.
    @Test func writesThroughSymlinksStayInsideTheRoot() throws {
        let root = dir.path("root")
        let outside = dir.path("outside")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("usr/lib"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        for (link, target) in [("lib", "usr/lib"), ("etc", "/"), ("up", "../../../../../../.."), ("host", outside.path)] {
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent(link).path, withDestinationPath: target)
        }
        let tree = RootDirectory(root)
        try tree.write("lib/x/file", Data("a".utf8))
        try tree.write("etc/motd", Data("b".utf8))
        try tree.write("up/escaped", Data("c".utf8))
        try tree.write("host/planted", Data("d".utf8))
        try tree.symlink("etc/systemd/system/x.target.wants/y.service", to: "/usr/lib/systemd/system/y.service")
        #expect(try String(contentsOf: root.appendingPathComponent("usr/lib/x/file"), encoding: .utf8) == "a")
        #expect(try String(contentsOf: root.appendingPathComponent("motd"), encoding: .utf8) == "b", "etc -> / is the root's /")
        #expect(try String(contentsOf: root.appendingPathComponent("escaped"), encoding: .utf8) == "c", ".. stops at the root")
        #expect(try String(contentsOf: root.appendingPathComponent(outside.path + "/planted"), encoding: .utf8) == "d")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty, "nothing written on the host")
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("systemd/system/x.target.wants").path))
        try tree.removeIfPresent("host")
        #expect(FileManager.default.fileExists(atPath: outside.path), "removing a link leaves its target")

        // A link to itself by absolute path loops inside the root, but not on
        // the host: it must never fall through to the host's /etc.
        try FileManager.default.removeItem(at: root.appendingPathComponent("etc"))
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("etc").path, withDestinationPath: "/etc")
        #expect(!tree.isDirectory("etc/ssh") && !tree.exists("etc/passwd"))
        #expect(throws: ComposeError.self) { try tree.write("etc/ssh/planted", Data("e".utf8)) }
        try tree.removeIfPresent("etc/hostname")
        #expect(FileManager.default.fileExists(atPath: "/etc/hostname"), "what cannot be resolved in the tree is not there")
        #expect(!FileManager.default.fileExists(atPath: "/etc/ssh/planted"))
    }

    /// The tree walk the rules share: every entry once, sorted, a directory
    /// before its contents, links listed but never entered (not even one to
    /// a folder of the tree or of the host), and a walk from a folder
    /// reached through a link inside the root.
    @Test func theWalkListsLinksWithoutEnteringThem() throws {
        let root = dir.path("root")
        let outside = dir.path("outside")
        try dir.write("outside/host-file", "host")
        try dir.write("root/usr/lib/b", "b")
        try dir.write("root/usr/lib/a/deep", "deep")
        try dir.write("root/usr/share/z", "z")
        for (link, target) in [("lib", "usr/lib"), ("etc", "/"), ("host", outside.path)] {
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent(link).path, withDestinationPath: target)
        }
        let tree = RootDirectory(root)
        var seen: [String] = []
        try tree.walk { path, info in seen.append(path + (info.st_mode & S_IFMT == S_IFLNK ? "@" : "")) }
        #expect(seen == ["etc@", "host@", "lib@", "usr", "usr/lib", "usr/lib/a", "usr/lib/a/deep", "usr/lib/b", "usr/share", "usr/share/z"])
        seen = []
        try tree.walk("lib") { path, _ in seen.append(path) }
        #expect(seen == ["lib/a", "lib/a/deep", "lib/b"], "lib -> usr/lib, resolved inside the root")
        // Entries the body removes or adds in the folder it walks.
        seen = []
        try tree.walk("usr/lib") { path, _ in
            seen.append(path)
            if path == "usr/lib/a" { try tree.removeIfPresent("usr/lib/b"); try tree.write("usr/lib/c", Data()) }
        }
        #expect(seen == ["usr/lib/a", "usr/lib/a/deep"])
        #expect(throws: ComposeError.self) { try tree.walk("usr/share/z") { _, _ in } }
    }

    @Test func useraddPutsHomesUnderVar() throws {
        try dir.write("root/usr/etc/default/useradd", "GROUP=100\nHOME=/home\nSHELL=/bin/bash\n")
        try UseraddDefaults().apply(try context())
        #expect(try String(contentsOf: dir.path("root/usr/etc/default/useradd"), encoding: .utf8) == "GROUP=100\nHOME=/var/home\nSHELL=/bin/bash\n")
    }
}

