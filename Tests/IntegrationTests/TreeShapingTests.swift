import Foundation
import Testing
import TestSupport

/// The tree-shaping treefile keys (units, default-target, mutate-os-release,
/// remove-files, add-files, remove-from-packages, readonly-executables), each
/// checked in the committed tree with the real `ostree`.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct TreeShapingTests {
    /// Where the tree keeps what a package installs under /etc.
    static func etc(_ path: String) -> String { "/usr/etc/" + path }

    static let shapingKeys = """
        units: [fixture-daemon.service, fixture-getty@.service, fixture-getty@ttyS0.service, fixture-oneshot.service]
        default-target: fixture-appliance.target
        mutate-os-release: "40"
        automatic-version-prefix: "40.5"
        remove-files: [usr/share/fixture-app/data/README]
        add-files:
          - [motd, /etc/motd]
          - [tools/hello.sh, /usr/bin/fixture-hello]
        remove-from-packages:
          - [fixture-app, "^/usr/share/fixture-app/private/"]
        readonly-executables: true
        """

    func writeSources(_ harness: ComposeHarness, motd: String = "welcome to fixture os\n") throws {
        let folder = harness.dir.path("tf")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tools"), withIntermediateDirectories: true)
        try motd.write(to: folder.appendingPathComponent("motd"), atomically: true, encoding: .utf8)
        let hello = folder.appendingPathComponent("tools/hello.sh")
        try "#!/bin/sh\necho hello\n".write(to: hello, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: hello.path)
    }

    @Test func shapesTheTreeAsTheTreefileSays() throws {
        let harness = try ComposeHarness("shaping")
        try writeSources(harness)
        let treefile = try harness.treefile(["fixture-app", "fixture-os"], extra: Self.shapingKeys)
        try harness.composeOK(treefile)
        let listing = try Oracle.ostree(harness.repo, ["ls", "-R", harness.ref])
        func entry(_ path: String) -> String? {
            listing.split(separator: "\n").first { $0.hasSuffix(" \(path)") || $0.contains(" \(path) -> ") }.map(String.init)
        }
        func link(_ path: String) -> String? {
            entry(path).flatMap { $0.range(of: " -> ").map { line in String(entry(path)![line.upperBound...]) } }
        }

        // units: the symlinks systemctl enable makes from each [Install] section.
        let system = Self.etc("systemd/system")
        #expect(link("\(system)/multi-user.target.wants/fixture-daemon.service") == "/usr/lib/systemd/system/fixture-daemon.service")
        #expect(link("\(system)/fixture.service") == "/usr/lib/systemd/system/fixture-daemon.service", "Alias=")
        #expect(link("\(system)/sockets.target.wants/fixture-daemon.socket") == "/usr/lib/systemd/system/fixture-daemon.socket", "Also=")
        #expect(link("\(system)/getty.target.wants/fixture-getty@tty1.service") == "/usr/lib/systemd/system/fixture-getty@.service",
                "DefaultInstance=")
        #expect(link("\(system)/getty.target.wants/fixture-getty@ttyS0.service") == "/usr/lib/systemd/system/fixture-getty@.service")
        #expect(link("\(system)/multi-user.target.wants/fixture-oneshot.service") == "/usr/lib/systemd/system/fixture-oneshot.service",
                "no [Install]: multi-user.target.wants, as rpm-ostree does")
        #expect(link("/usr/lib/systemd/system/default.target") == "fixture-appliance.target")

        // mutate-os-release, in the file /etc/os-release points to.
        let version = try #require(try Oracle.ostree(harness.repo, ["log", harness.ref])
            .split(separator: "\n").first { $0.hasPrefix("Version: ") }?.dropFirst("Version: ".count))
        #expect(version == "40.5")
        let osRelease = try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/lib/os-release"])
        #expect(osRelease.contains("VERSION=\"40.5 (Fixture)\"\n"))
        #expect(osRelease.contains("PRETTY_NAME=\"Fixture OS 40.5 (Fixture)\"\n"))
        #expect(osRelease.contains("VERSION_ID=40\n"), "only VERSION and PRETTY_NAME change")
        #expect(osRelease.hasSuffix("OSTREE_VERSION='40.5'\n"))
        #expect(link(Self.etc("os-release")) == "../usr/lib/os-release")

        // remove-files, add-files (content and the source's mode, owned by root).
        #expect(entry("/usr/share/fixture-app/data/README") == nil)
        #expect(entry("/usr/share/fixture-app/data") != nil)
        #expect(try Oracle.ostree(harness.repo, ["cat", harness.ref, Self.etc("motd")]) == "welcome to fixture os\n")
        #expect(entry(Self.etc("motd"))?.hasPrefix("-00644 0 0") == true)
        #expect(entry("/usr/bin/fixture-hello")?.hasPrefix("-00750 0 0") == true,
                "add-files come after readonly-executables, as in rpm-ostree")

        // remove-from-packages: the package's matching files were never
        // installed (librpm skipped them; the rpmdb says so), its others were.
        #expect(entry("/usr/share/fixture-app/private/token") == nil)
        #expect(entry("/usr/bin/fixture-app") != nil)
        let states = try harness.fileStates("fixture-app")
        #expect(states.contains("net shared /usr/share/fixture-app/private/token"), "\(states)")
        #expect(states.contains("normal /usr/bin/fixture-app"), "\(states)")

        // readonly-executables: package executables lose their write bits.
        #expect(entry("/usr/bin/fixture-app")?.hasPrefix("-00555 0 0") == true, "\(entry("/usr/bin/fixture-app") ?? "missing")")
        #expect(entry(Self.etc("fixture-app.conf"))?.hasPrefix("-00644") == true, "not executable: unchanged")

        // The build log says what was done.
        let log = try Command.check([Fixtures.treeforgeExecutable.path, "builds", "log", "--repo", harness.repo.path, "1"])
        #expect(log.contains("units: fixture-daemon.service: /etc/systemd/system/fixture.service → /usr/lib/systemd/system/fixture-daemon.service"))
        #expect(log.contains("remove-from-packages: fixture-app: removed 1 of its"))
    }

    /// A unit no package ships is linked anyway, as rpm-ostree does, with a
    /// warning; a link already there stays.
    @Test func aMissingUnitIsAWarning() throws {
        let harness = try ComposeHarness("shaping-units")
        let result = try harness.compose(try harness.treefile(["fixture-os", "fixture-sh"],
                                                              extra: "units: [fixture-missing.service, fixture-daemon.service, fixture-daemon.service]"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("warning: units: no unit file fixture-missing.service in the tree"), "\(result.stderr)")
        let listing = try Oracle.ostree(harness.repo, ["ls", "-R", harness.ref, "/usr/etc/systemd/system"])
        #expect(listing.contains("/usr/etc/systemd/system/multi-user.target.wants/fixture-missing.service -> /usr/lib/systemd/system/fixture-missing.service"))
        #expect(listing.contains("/usr/etc/systemd/system/multi-user.target.wants/fixture-daemon.service -> /usr/lib/systemd/system/fixture-daemon.service"))
    }

    @Test func anEditedAddFilesSourceIsAChange() throws {
        let harness = try ComposeHarness("shaping-change")
        try writeSources(harness)
        let treefile = try harness.treefile(["fixture-app", "fixture-os"], extra: Self.shapingKeys)
        let first = try harness.composeOK(treefile)
        #expect(try harness.compose(treefile).status == 3, "same inputs: unchanged")
        try writeSources(harness, motd: "edited\n")
        let second = try harness.composeOK(treefile)
        #expect(second != first)
        #expect(try Oracle.ostree(harness.repo, ["cat", harness.ref, Self.etc("motd")]) == "edited\n")
    }

    @Test func badTreeShapingInputFailsNamingIt() throws {
        let harness = try ComposeHarness("shaping-bad")
        try writeSources(harness)
        let good = try harness.treefile(["fixture-app", "fixture-os"], extra: "")
        try harness.composeOK(good)

        try harness.expectFailure(try harness.treefile(["fixture-app"], extra: "add-files: [[absent, /usr/share/absent]]"),
                                  stage: "load", mentions: ["add-files", "absent", "does not exist"])
        // A dangling symlink says where it points.
        try FileManager.default.createSymbolicLink(at: harness.dir.path("tf/dangling"), withDestinationURL: harness.dir.path("gone"))
        try harness.expectFailure(try harness.treefile(["fixture-app"], extra: "add-files: [[dangling, /usr/share/dangling]]"),
                                  stage: "load", mentions: ["add-files", "dangling", "which is missing"])

        // remove-from-packages naming a package the tree does not have: caught before installing.
        try harness.expectFailure(try harness.treefile(["fixture-app"], extra: #"remove-from-packages: [[fixture-os, "/usr/lib/.*"]]"#),
                                  stage: "resolve", mentions: ["remove-from-packages: fixture-os", "not in the resolved package set"])
        try harness.expectFailure(try harness.treefile(["fixture-app"], extra: #"remove-from-packages: [[fixture-app, "/usr/(share"]]"#),
                                  stage: "load", mentions: ["remove-from-packages", "/usr/(share", "not a valid regular expression"])

        // remove-files with an absolute path.
        try harness.expectFailure(try harness.treefile(["fixture-app"], extra: "remove-files: [/usr/bin/fixture-app]"),
                                  stage: "postprocess", mentions: ["remove-files", "relative"])
    }

    /// As rpm-ostree opens them: a source beside the treefile's folder, by
    /// `../` or through a symlink, is read and committed (issue 13).
    @Test func sourcesOutsideTheTreefilesFolderAreFollowed() throws {
        let harness = try ComposeHarness("shaping-outside")
        try FileManager.default.createDirectory(at: harness.dir.path("shared"), withIntermediateDirectories: true)
        try "shared banner\n".write(to: harness.dir.path("shared/banner"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: harness.dir.path("tf"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: harness.dir.path("tf/linked"), withDestinationURL: harness.dir.path("shared/banner"))
        try harness.composeOK(try harness.treefile(["fixture-app"], extra: """
            add-files:
              - [../shared/banner, /usr/share/banner-up]
              - [linked, /usr/share/banner-linked]
            """))
        #expect(try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/share/banner-up"]) == "shared banner\n")
        #expect(try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/share/banner-linked"]) == "shared banner\n")
    }

    @Test func postprocessScriptsRunInTheTreeInRpmOstreesOrder() throws {
        let harness = try ComposeHarness("shaping-scripts")
        let folder = harness.dir.path("tf")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "from the treefile's folder\n".write(to: folder.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        try """
            postprocess:
              - |
                #!/bin/sh
                echo "included $SOURCE_DATE_EPOCH" >> /usr/share/order
            """.write(to: folder.appendingPathComponent("included.yaml"), atomically: true, encoding: .utf8)
        try """
            #!/bin/sh
            set -e
            echo script >> /usr/share/order
            while read -r line; do echo "$line"; done < "$TREEFORGE_TREEFILE_DIR/data.txt" > /usr/share/copied
            echo "postprocess-script says hello"
            """.write(to: folder.appendingPathComponent("post.sh"), atomically: true, encoding: .utf8)
        let treefile = try harness.treefile(["fixture-app"], extra: """
            include: included.yaml
            postprocess-script: post.sh
            postprocess:
              - |
                #!/bin/sh
                echo top >> /usr/share/order
                # The rpmdb is where the tree's rpm looks, as in rpm-ostree.
                if [ -f /usr/lib/sysimage/rpm/rpmdb.sqlite ] && [ -f /usr/lib/rpm/macros.d/macros.rpm-ostree ]; then
                  echo linked > /usr/share/rpmdb-at-script-time
                fi
            """)
        let result = try harness.compose(treefile, environment: ["SOURCE_DATE_EPOCH": "1700000000"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/share/order"]) == "included 1700000000\ntop\nscript\n",
                "included files' scripts first, then the includer's, then postprocess-script")
        #expect(try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/share/copied"]) == "from the treefile's folder\n")
        #expect(try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/share/rpmdb-at-script-time"]) == "linked\n")
        let listing = try Oracle.ostree(harness.repo, ["ls", "-R", harness.ref])
        #expect(!listing.contains("treeforge-postprocess"), "the scripts are removed after they ran")
        #expect(!listing.contains("/tmp/treefile") && !listing.contains("data.txt"), "the treefile's folder is not copied into the tree")
        let log = try Command.check([Fixtures.treeforgeExecutable.path, "builds", "log", "--repo", harness.repo.path, "--stage", "postprocess", "1"])
        #expect(log.contains("postprocess-script says hello"))
        #expect(log.contains("postprocess-script post.sh: ran in"))

        // What scripts can read is an input: editing it composes again.
        #expect(try harness.compose(treefile, environment: ["SOURCE_DATE_EPOCH": "1700000000"]).status == 3)
        try "edited\n".write(to: folder.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        #expect(try harness.compose(treefile, environment: ["SOURCE_DATE_EPOCH": "1700000000"]).status == 0)
        #expect(try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/share/copied"]) == "edited\n")

        // Unconfined, the folder is copied in — without a workdir that lives inside it.
        let unconfined = try harness.compose(treefile, ["--sandbox", "none", "--force-nocache", "--workdir", folder.appendingPathComponent("work").path])
        #expect(unconfined.status == 0, "\(unconfined.stderr)")
        #expect(try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/share/copied"]) == "edited\n")
        #expect(!(try Oracle.ostree(harness.repo, ["ls", "-R", harness.ref]).contains("treefile")))
    }

    @Test func aFailingOrHangingPostprocessScriptStopsTheCompose() throws {
        let harness = try ComposeHarness("shaping-scripts-bad")
        try harness.composeOK(try harness.treefile(["fixture-app"]))
        let failing = try harness.treefile(["fixture-app"], extra: """
            postprocess:
              - |
                #!/bin/sh
                echo "about to fail"
                exit 7
            """)
        try harness.expectFailure(failing, stage: "postprocess", mentions: ["postprocess script 1 of 1", "exit status 7", "about to fail"])

        let hanging = try harness.treefile(["fixture-app"], extra: """
            postprocess:
              - |
                #!/bin/sh
                while :; do :; done
            """)
        let refBefore = try Oracle.ostreeRev(harness.repo, harness.ref)
        let start = Date()
        let result = try harness.compose(hanging, ["--scriptlet-timeout", "2"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("postprocess: postprocess script 1 of 1: the script did not finish within 2 s"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == refBefore)
        // This compose's scripts only (bwrap's arguments, or an unconfined script's root, name
        // the test's folder): a suite alongside may be running the demo's postprocess script now.
        let folder = harness.dir.url.lastPathComponent
        let leftovers = try Command.run(["pgrep", "-f", "treeforge-postprocess-inline"]).stdout.split(separator: "\n")
            .compactMap { Int32($0) }
            .filter { ProcessTree.commandLine($0).contains(folder)
                || ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/root")) ?? "").contains(folder) }
        #expect(leftovers.isEmpty, "no script left running: \(leftovers.map(ProcessTree.commandLine))")
    }

    /// `container: true` brings rpm-ostree's implications (tmp-is-dir, no
    /// users and groups carried over or checked, boot-location modules).
    @Test func aContainerTreeComposes() throws {
        let harness = try ComposeHarness("container")
        try harness.composeOK(try harness.treefile(["fixture-app"], extra: "container: true\n"))
        let tmp = try Oracle.ostree(harness.repo, ["ls", harness.ref, "/tmp"])
        #expect(tmp.hasPrefix("d01777 0 0"), "tmp-is-dir: \(tmp)")
        // Without container: true the same tree gets the default link.
        let booted = try ComposeHarness("not-container")
        try booted.composeOK(try booted.treefile(["fixture-app"]))
        #expect(try Oracle.ostree(booted.repo, ["ls", booted.ref, "/tmp"]).hasSuffix("/tmp -> sysroot/tmp\n"))
        let printed = try Command.check([Fixtures.treeforgeExecutable.path, "compose", "tree", "--print-only",
                                         harness.dir.path("tf/treefile.yaml").path])
        for implied in [#""boot-location": "modules""#, #""preserve-passwd": false"#, #""tmp-is-dir": true"#] {
            #expect(printed.contains(implied), "\(implied) in \(printed)")
        }
    }
}
