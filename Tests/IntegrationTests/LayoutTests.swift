import Foundation
import Testing
import TestSupport

/// OSTree's layout rules, as rpm-ostree applies them, checked on the
/// committed tree with `ostree ls` and `ostree cat`.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct LayoutTests {
    /// `ostree ls -R` of the ref: path → the listing's line.
    func listing(_ harness: ComposeHarness) throws -> [String: String] {
        var entries: [String: String] = [:]
        for line in try Oracle.ostree(harness.repo, ["ls", "-R", harness.ref]).split(separator: "\n") {
            // "d00755 0 0      0 /path" or "l00777 0 0      0 /path -> target"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 5 else { continue }
            entries[String(fields[4])] = String(line)
        }
        return entries
    }

    func cat(_ harness: ComposeHarness, _ path: String) throws -> String {
        try Oracle.ostree(harness.repo, ["cat", harness.ref, path])
    }

    @Test func theDefaultLayout() throws {
        let harness = try ComposeHarness("layout")
        let treefile = try harness.treefile(["fixture-app", "fixture-layout", "fixture-user-a-1.0-1"], extra: "etc-group-members: [wheel]\n")
        let result = try harness.compose(treefile)
        #expect(result.status == 0, "\(result.stderr)")
        // Packaged files a deployment would not keep are named, not lost silently.
        #expect(result.stderr.contains("dropped from the tree") && result.stderr.contains("/opt"))
        #expect(result.stderr.contains("/usr/local"))
        try Oracle.ostree(harness.repo, ["fsck"])
        let tree = try listing(harness)

        // Toplevel: mount points, links into /var and /sysroot; /tmp a link (tmp-is-dir false).
        for directory in ["/dev", "/proc", "/run", "/sys", "/sysroot", "/usr", "/var"] {
            #expect(tree[directory]?.hasPrefix("d00755 0 0") == true, "\(directory): \(tree[directory] ?? "missing")")
        }
        for (link, target) in [("/tmp", "sysroot/tmp"), ("/home", "var/home"), ("/root", "var/roothome"), ("/srv", "var/srv"),
                               ("/mnt", "var/mnt"), ("/media", "run/media"), ("/opt", "var/opt"), ("/ostree", "sysroot/ostree"),
                               ("/usr/local", "../var/usrlocal"), ("/bin", "usr/bin")] {
            #expect(tree[link]?.hasSuffix("\(link) -> \(target)") == true, "\(link): \(tree[link] ?? "missing")")
        }
        #expect(tree.keys.filter { $0.hasPrefix("/opt/") || $0.hasPrefix("/usr/local/") }.isEmpty)

        // /etc is /usr/etc; /var is empty, its directories and links are tmpfiles.d entries.
        #expect(tree["/etc"] == nil)
        #expect(tree["/usr/etc/fixture-app.conf"] != nil)
        #expect(tree.keys.filter { $0.hasPrefix("/var/") }.isEmpty)
        #expect(try cat(harness, "/usr/lib/tmpfiles.d/rpm-ostree-1-autovar.conf") == """
            L /var/lib/fixture-layout/data - - - - ../../../usr/share/fixture-layout
            L /var/lib/rpm - - - - ../../usr/share/rpm
            d '/var/lib/fixture-layout/with space' 0755 root root - -
            d /var/lib 0755 root root - -
            d /var/lib/fixture-app 0755 root root - -
            d /var/lib/fixture-layout 0700 root root - -
            d /var/lib/fixture-user-a 0750 fxa fxa - -
            d /var/tmp 0755 root root - -

            """)
        let integration = try cat(harness, "/usr/lib/tmpfiles.d/rpm-ostree-0-integration.conf")
        #expect(integration.contains("d /var/home 0755 root root -\n") && integration.contains("d /var/roothome 0700 root root -\n"))
        #expect(try cat(harness, "/usr/lib/tmpfiles.d/rpm-ostree-0-integration-opt-usrlocal.conf").contains("d /var/opt 0755 root root -"))

        // The rpmdb in /usr/share/rpm, linked from /usr/lib/sysimage/rpm; the deployed rpm is told where.
        #expect(tree["/usr/share/rpm/rpmdb.sqlite"] != nil)
        #expect(tree["/usr/lib/sysimage/rpm"]?.hasSuffix("-> ../../share/rpm") == true)
        #expect(try cat(harness, "/usr/lib/rpm/macros.d/macros.rpm-ostree") == "%_dbpath /usr/share/rpm\n")

        // machineid-compat: an empty /usr/etc/machine-id.
        #expect(tree["/usr/etc/machine-id"]?.hasPrefix("-00644 0 0      0 ") == true)
        // ignore-devices: librpm skipped the character device (the only
        // thing in its folder, which the package does not own), and the
        // rpmdb says so.
        #expect(tree["/usr/share/fixture-layout/null"] == nil)
        #expect(tree["/usr/share/fixture-layout"] == nil)
        let checkout = harness.dir.path("checkout")
        try Oracle.ostree(harness.repo, ["checkout", "-U", harness.ref, checkout.path])
        let states = try Command.check(["rpm", "--root", checkout.path, "--dbpath", "/usr/share/rpm", "-q", "--qf",
                                        "[%{FILESTATES:fstate} %{FILENAMES}\n]", "fixture-layout"])
        #expect(states.contains("net shared /usr/share/fixture-layout/null"), "\(states)")

        // Users and groups: root (and etc-group-members) in /usr/etc, the rest in /usr/lib.
        #expect(try cat(harness, "/usr/etc/passwd") == "root:x:0:0:Super User:/root:/bin/sh\n")
        #expect(try cat(harness, "/usr/lib/passwd") == "bin:x:1:1:bin:/bin:/sbin/nologin\nfxa:x:900:900:fixture fxa:/var/lib/fixture-user-a:/sbin/nologin\n")
        #expect(try cat(harness, "/usr/etc/group") == "root:x:0:\nwheel:x:10:\n")
        #expect(try cat(harness, "/usr/lib/group") == "bin:x:1:\nwheel:x:10:\nfxa:x:900:\n")
        #expect(tree["/usr/share/fixture-user-a/owned"]?.hasPrefix("-00640 900 900") == true)

        // The stock rpm reads the database through both paths.
        let installed = try Oracle.rpmQueryAll(root: checkout)
        #expect(installed.contains("fixture-layout-1.0-1.noarch"))
        #expect(try Oracle.rpmQueryAll(root: checkout, databasePath: "/usr/lib/sysimage/rpm") == installed)
    }

    @Test func tmpIsDirOptUsrlocalRootAndNoMachineID() throws {
        let harness = try ComposeHarness("layout-settings")
        let treefile = try harness.treefile(["fixture-layout"], extra: """
            tmp-is-dir: true
            opt-usrlocal: root
            machineid-compat: false

            """)
        let result = try harness.compose(treefile)
        #expect(result.status == 0, "\(result.stderr)")
        let tree = try listing(harness)
        #expect(tree["/tmp"]?.hasPrefix("d01777 0 0") == true, "\(tree["/tmp"] ?? "missing")")
        #expect(tree["/opt"]?.hasPrefix("d00755") == true)
        #expect(tree["/usr/local"]?.hasPrefix("d00755") == true)
        #expect(tree["/usr/local/bin/fixture-layout"] != nil, "with opt-usrlocal root, /usr/local is content")
        #expect(tree["/usr/etc/machine-id"] == nil)
        #expect(!(try cat(harness, "/usr/lib/tmpfiles.d/rpm-ostree-1-autovar.conf")).contains("/var/run"), "/var/run is /run: never converted")
    }

    @Test func aDeviceNodeFailsWithIgnoreDevicesFalse() throws {
        let harness = try ComposeHarness("devices")
        let result = try harness.compose(try harness.treefile(["fixture-layout"], extra: "ignore-devices: false\n"))
        #expect(result.status != 0)
        // After the warning about dropped /opt and /usr/local files, the error.
        let error = try #require(result.stderr.range(of: "error: ").map { String(result.stderr[$0.lowerBound...]) })
        #expect(error.hasPrefix("error: install: fixture-layout-1.0-1.noarch: "), "\(result.stderr)")
        for text in ["device files", "ignore-devices: false", "/usr/share/fixture-layout/null (character device 1:3, from fixture-layout-1.0-1.noarch)"] {
            #expect(error.contains(text), "missing \(text) in: \(error)")
        }
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == nil)
        #expect(harness.commitObjectCount() == 0)
        #expect(try harness.lastBuild().status == "failed")
    }

    static func fifoRepository() throws -> URL {
        let output = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("treeforge-test-fixtures/fifo-rpms")
        try Fixtures.buildRepository(specs: Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/fifo-specs"), into: output)
        return output
    }

    /// A named pipe fails the install before librpm sees it (Debian's rpm
    /// would block on it for ever), naming the pipe and its package.
    @Test func aNamedPipeFailsNamingIt() throws {
        let harness = try ComposeHarness("fifo")
        // Killed (and its sandboxed rpm with it: --die-with-parent) if librpm got the pipe.
        let result = try harness.compose(try harness.treefile(["fixture-fifo"], repository: try Self.fifoRepository()), killedAfter: 120)
        #expect(result.status != 137, "the install hung on the pipe")
        #expect(result.status != 0)
        let error = try #require(result.stderr.range(of: "error: ").map { String(result.stderr[$0.lowerBound...]) })
        #expect(error.hasPrefix("error: install: fixture-fifo-1.0-1.noarch: "), "\(result.stderr)")
        for text in ["named pipes", "remove-from-packages", "/usr/share/fixture-fifo/pipe (named pipe, from fixture-fifo-1.0-1.noarch)"] {
            #expect(error.contains(text), "missing \(text) in: \(error)")
        }
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == nil)
        #expect(try harness.lastBuild().status == "failed")
    }

    /// `remove-from-packages` leaves the pipe out; the rpmdb records it as
    /// not installed ("net shared"), so `rpm -V` stays clean.
    @Test func aNamedPipeLeftOutComposes() throws {
        let harness = try ComposeHarness("fifo-removed")
        let treefile = try harness.treefile(["fixture-fifo"], repository: try Self.fifoRepository(),
                                            extra: "remove-from-packages: [[fixture-fifo, \"/pipe$\"]]\n")
        try harness.composeOK(treefile)
        let entries = try listing(harness)
        #expect(entries["/usr/share/fixture-fifo/pipe"] == nil)
        #expect(try cat(harness, "/usr/share/fixture-fifo/readme") == "kept\n")
        let states = try harness.fileStates("fixture-fifo")
        #expect(states.contains("net shared /usr/share/fixture-fifo/pipe"), "\(states)")
        #expect(states.contains("normal /usr/share/fixture-fifo/readme"), "\(states)")
    }

    @Test func stateOverlayIsRefused() throws {
        let harness = try ComposeHarness("state-overlay")
        try harness.expectFailure(try harness.treefile(["fixture-layout"], extra: "opt-usrlocal: state-overlay\n"), stage: "load",
                                  mentions: ["`opt-usrlocal: \"state-overlay\"`", "treefile.yaml:6:1"])
    }
}
