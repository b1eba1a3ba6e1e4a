import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// The files a treefile names, found as rpm-ostree finds them: relative to
/// the naming treefile's path, `..` and symlinks followed, so that a product
/// folder can take its manifests, scripts and check files from a sibling
/// folder; and everything read, wherever it lies, in the input hash.
@Suite struct TreefilePathTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("treefile-paths") }

    /// `shared/` holds what several products use; `product/` reaches it by
    /// `../`, by a symlinked folder (`lib` → `../shared`) and by a symlinked
    /// subfolder (`files` → `../shared/files`).
    func writeSharedLayout() throws {
        try dir.write("shared/base.yaml", "packages: [bash]\npostprocess-script: scripts/post.sh\n")
        try dir.write("shared/scripts/post.sh", "#!/bin/sh\necho shared\n")
        try dir.write("shared/extra.yaml", "packages: [vim]\ncheck-groups: {type: file, filename: group}\n")
        try dir.write("shared/passwd", "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\n")
        try dir.write("shared/group", "root:x:0:\nbin:x:1:\n")
        try dir.write("shared/files/motd", "welcome\n")
        try dir.write("product/manifest.yaml", """
            ref: os/product
            include:
              - ../shared/base.yaml
              - lib/extra.yaml
            check-passwd: {type: file, filename: ../shared/passwd}
            add-files:
              - [files/motd, /etc/motd]
              - [files/../scripts/post.sh, /usr/libexec/post]
            """)
        try symlink("product/lib", to: "../shared")
        try symlink("product/files", to: "../shared/files")
    }

    func symlink(_ relative: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: dir.path(relative).path, withDestinationPath: target)
    }

    /// The path the kernel reaches (the temporary folder's own path has `//`).
    func real(_ relative: String) throws -> String {
        let resolved = try #require(realpath(dir.path(relative).path, nil))
        defer { free(resolved) }
        return String(cString: resolved)
    }

    func load(_ name: String) throws -> Treefile {
        try TreefileLoader(basearch: "x86_64").load(dir.path(name))
    }

    func hash(_ treefile: Treefile) throws -> String {
        try InputHash.compute(treefile: treefile, packages: ResolvedSet(packages: [], repos: []),
                              scriptFolder: TreefileFolder(treefile.directory, excluding: []))
    }

    @Test func aSharedConfigurationLoadsFromItsSiblingFolder() throws {
        try writeSharedLayout()
        let treefile = try load("product/manifest.yaml")
        #expect(treefile.packages == ["bash", "vim"])
        #expect(treefile.sourceFiles.map { $0.path.replacingOccurrences(of: dir.url.path + "/", with: "") }
                == ["product/manifest.yaml", "product/../shared/base.yaml", "product/lib/extra.yaml"])
        #expect(treefile.externalFile("check-passwd", "../shared/passwd")?.path == (try real("shared/passwd")))
        // An included file's names start from its own path: lib/extra.yaml names lib/group.
        #expect(treefile.externalFile("check-groups", "group")?.path == (try real("shared/group")))
        #expect(treefile.externalFile("postprocess-script", "scripts/post.sh")?.path == (try real("shared/scripts/post.sh")))
        #expect(treefile.externalFile("add-files", "files/motd")?.path == (try real("shared/files/motd")))
        // `..` after a symlink leads to the link target's parent, as open(2) goes, not back to product/.
        #expect(treefile.externalFile("add-files", "files/../scripts/post.sh")?.path == (try real("shared/scripts/post.sh")))
        #expect(treefile.warnings.isEmpty)
    }

    @Test func whatTheComposeReadsComesFromTheSiblingFolder() throws {
        try writeSharedLayout()
        let treefile = try load("product/manifest.yaml")
        let root = try TemporaryDirectory("treefile-paths-root")
        _ = try TreefileFiles(root: RootDirectory(root.url), treefile: treefile).add(treefile.config.addFiles)
        #expect(try String(contentsOf: root.path("etc/motd"), encoding: .utf8) == "welcome\n")
        #expect(try String(contentsOf: root.path("usr/libexec/post"), encoding: .utf8) == "#!/bin/sh\necho shared\n")

        let seed = try PasswdSeed(treefile: treefile, previous: nil).files()
        let passwd = try #require(seed.first { $0.path == "etc/passwd" })
        #expect(String(decoding: passwd.contents, as: UTF8.self).contains("bin:x:1:1:bin:/bin:/sbin/nologin"))
        let group = try #require(seed.first { $0.path == "etc/group" })
        #expect(String(decoding: group.contents, as: UTF8.self).contains("bin:x:1:"))

        let scripts = try PostprocessScripts(root: root.url, treefile: treefile, confinement: .unconfined(reason: nil), timeout: 10,
                                             sourceDateEpoch: 0, logFile: root.path("log"),
                                             folder: TreefileFolder(treefile.directory, excluding: []),
                                             events: SilentEvents(), cancellation: nil).scripts()
        #expect(scripts.map(\.name) == ["postprocess-script scripts/post.sh"])
        #expect(scripts.first?.contents == Data("#!/bin/sh\necho shared\n".utf8))
    }

    @Test func filesOutsideTheFolderCountInTheInputHash() throws {
        try writeSharedLayout()
        let folder = TreefileFolder(dir.path("product"), excluding: [])
        let folderDigest = try folder.digest()
        let first = try hash(load("product/manifest.yaml"))
        #expect(try hash(load("product/manifest.yaml")) == first, "the same inputs give the same hash")

        // Through `../`.
        try dir.write("shared/passwd", "root:x:0:0:root:/root:/bin/bash\n")
        let afterPasswd = try hash(load("product/manifest.yaml"))
        #expect(afterPasswd != first)
        // Through a symlinked folder: the content, then the mode.
        try dir.write("shared/files/motd", "welcome back\n")
        let afterMotd = try hash(load("product/manifest.yaml"))
        #expect(afterMotd != afterPasswd)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: dir.path("shared/files/motd").path)
        let afterMode = try hash(load("product/manifest.yaml"))
        #expect(afterMode != afterMotd)
        // An included file reached through a symlinked folder, by what it sets.
        try dir.write("shared/extra.yaml", "packages: [vim, emacs]\ncheck-groups: {type: file, filename: group}\n")
        let afterInclude = try hash(load("product/manifest.yaml"))
        #expect(afterInclude != afterMode)
        // The script's own file, named by an included file outside the folder.
        try dir.write("shared/scripts/post.sh", "#!/bin/sh\necho changed\n")
        #expect(try hash(load("product/manifest.yaml")) != afterInclude)

        // None of it is in the folder scripts see: it holds only the links.
        #expect(try folder.digest() == folderDigest)
    }

    @Test func aSymlinkedTreefileNamesFilesFromTheLinksFolder() throws {
        try dir.write("other/inc.yaml", "postprocess-script: post.sh\n")
        try dir.write("other/post.sh", "other\n")
        try dir.write("product/post.sh", "product\n")
        try dir.write("product/t.yaml", "include: inc.yaml\n")
        try symlink("product/inc.yaml", to: "../other/inc.yaml")
        let treefile = try load("product/t.yaml")
        // rpm-ostree joins the name to the path it opened, which is the link's.
        #expect(treefile.externalFile("postprocess-script", "post.sh")?.path == (try real("product/post.sh")))
    }

    @Test func anInlineConditionalIncludeNamesFilesFromItsFile() throws {
        try dir.write("product/t.yaml", """
            conditional-include:
              - if: basearch == "x86_64"
                include:
                  add-files: [[../shared/banner, /etc/banner]]
            """)
        try dir.write("shared/banner", "hi\n")
        let treefile = try load("product/t.yaml")
        #expect(treefile.config.addFiles == [AddFile(source: "../shared/banner", destination: "/etc/banner")])
        #expect(treefile.externalFile("add-files", "../shared/banner")?.path == (try real("shared/banner")))
    }

    @Test func oneAddFilesNameForTwoFilesTakesTheLastReadAsRpmOstreeDoes() throws {
        try dir.write("product/t.yaml", "ref: r\npackages: [bash]\ninclude: ../shared/motd.yaml\nadd-files: [[motd, /etc/motd]]\n")
        try dir.write("product/motd", "product\n")
        try dir.write("shared/motd.yaml", "add-files: [[motd, /etc/issue]]\n")
        try dir.write("shared/motd", "shared\n")
        let treefile = try load("product/t.yaml")
        #expect(treefile.config.addFiles.map(\.destination) == ["/etc/issue", "/etc/motd"])
        #expect(treefile.externalFile("add-files", "motd")?.path == (try real("shared/motd")))
        #expect(treefile.externalFiles.count == 1)
        let warning = try #require(treefile.warnings.first)
        #expect(treefile.warnings.count == 1)
        #expect(warning.hasPrefix("`add-files` names motd for two files, \(try real("product/motd")) ("))
        #expect(warning.contains("t.yaml:4:1") && warning.contains("motd.yaml:1:1"))
        #expect(warning.hasSuffix("copies the one read last, \(try real("shared/motd"))"))
        #expect(try treefile.checkComposable() == treefile.warnings, "a compose reports it")
    }

    @Test func aMissingFileOutsideTheFolderNamesWhereItWasLookedFor() throws {
        try dir.write("shared/inc.yaml", "check-passwd: {type: file, filename: ../shared/nope}\n")
        try dir.write("product/t.yaml", "ref: r\ninclude: ../shared/inc.yaml\n")
        let e = try #require(throws: ComposeError.self) { try load("product/t.yaml") }
        #expect(e.message == "`check-passwd` names ../shared/nope, which does not exist (\(try real("shared"))/nope)")
        #expect(e.subject?.hasSuffix("shared/inc.yaml:1:1") == true, "\(e)")
        #expect(e.details.count == 1 && e.details[0].contains("included from") && e.details[0].contains("t.yaml:2:10"))
    }

    @Test func aDanglingSymlinkAndADirectoryAreRefused() throws {
        try dir.write("product/t.yaml", "add-files: [[gone, /etc/gone]]\n")
        try symlink("product/gone", to: "../shared/gone")
        let dangling = try #require(throws: ComposeError.self) { try load("product/t.yaml") }
        #expect(dangling.message == "`add-files` names gone, which does not exist (\(try real("product"))/gone is a symlink to ../shared/gone, which is missing)")
        #expect(dangling.subject?.hasSuffix("t.yaml:1:1") == true)

        try dir.write("shared/files/a", "a\n")
        try dir.write("product/d.yaml", "postprocess-script: ../shared/files\n")
        let directory = try #require(throws: ComposeError.self) { try load("product/d.yaml") }
        #expect(directory.message == "`postprocess-script` names ../shared/files, which is a directory (\(try real("shared/files"))), not a file")
        #expect(directory.subject?.hasSuffix("d.yaml:1:1") == true)
    }
}
