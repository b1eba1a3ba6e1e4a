import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// Scriptlets under bubblewrap, the fallback without it, and the timeout
/// for a hanging one: composes of real fixtures, read back from the commit.
@Suite(.enabled(if: getuid() == 0, "librpm chroots into the new root and bwrap needs root: run as root"))
struct ScriptletSandboxTests {
    /// What fixture-sandbox-probe's %post recorded, per file.
    func probeReport(_ harness: ComposeHarness) throws -> [String: String] {
        var report: [String: String] = [:]
        for name in ["network", "capabilities", "tmp", "dev-null", "processes", "source-date-epoch", "path"] {
            let text = try? Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/share/fixture-sandbox-probe/\(name)"])
            report[name] = text?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return report
    }

    @Test(.enabled(if: bubblewrapRuns, "bwrap cannot create namespaces here")) func scriptletsRunConfined() throws {
        let harness = try ComposeHarness("sandbox")
        let result = try harness.compose(try harness.treefile(["fixture-sandbox-probe"]), ["--sandbox", "bwrap"],
                                         environment: ["SOURCE_DATE_EPOCH": "1234567890"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try probeReport(harness)
        #expect(report["network"] == "lo", "a fresh network namespace has loopback only")
        // capsh, an independent decoder, names the effective set.
        let capabilities = try Command.check(["capsh", "--decode=0x" + (report["capabilities"] ?? "")])
        let names = capabilities.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        #expect(names == "cap_chown,cap_dac_override,cap_fowner,cap_fsetid,cap_kill,cap_setgid,cap_setuid,cap_setpcap,cap_sys_chroot,cap_setfcap")
        #expect(report["tmp"] == "wrote and read back: sandbox-probe", "an empty, writable /tmp")
        #expect(report["dev-null"] == "character device")
        #expect(Int(report["processes"] ?? "") ?? 99 <= 5, "its own pid namespace: bwrap, the rpm child, the scriptlet")
        #expect(report["source-date-epoch"] == "1234567890")
        #expect(report["path"] == "/usr/sbin:/usr/bin")
        // The fresh mounts leave nothing in the tree: /dev and /proc are the
        // layout's empty mount points, /tmp its link.
        for mountPoint in ["/dev", "/proc"] {
            #expect(try Oracle.ostree(harness.repo, ["ls", harness.ref, mountPoint]).split(separator: "\n").count == 1, "\(mountPoint) is empty")
        }
        #expect(try Oracle.ostree(harness.repo, ["ls", harness.ref, "/tmp"]).hasSuffix("/tmp -> sysroot/tmp\n"))
    }

    @Test(.enabled(if: bubblewrapRuns, "bwrap cannot create namespaces here")) func sameTreeConfinedOrNot() throws {
        for (label, request) in [("fixtures", Fixtures.defaultRequest), ("demo", nil)] {
            var listings: [String] = []
            for mode in ["bwrap", "none"] {
                let harness = try ComposeHarness("same-tree-\(label)")
                let treefile: URL
                let ref: String
                if let request {
                    treefile = try harness.treefile(request)
                    ref = harness.ref
                } else {
                    treefile = try DemoTree.copy(into: harness.dir.path("demo"))
                    ref = DemoTree.ref
                }
                let result = try harness.compose(treefile, ["--sandbox", mode])
                #expect(result.status == 0, "\(label) --sandbox \(mode): \(result.stderr)")
                listings.append(try Oracle.ostree(harness.repo, ["ls", "-R", ref, "/"]))
            }
            #expect(listings[0] == listings[1], "\(label): the bwrap tree differs from the unconfined one")
            #expect(!listings[0].isEmpty)
        }
    }

    /// A package that owns /proc and /tmp and ships into /dev and /tmp: under
    /// bwrap those paths are fresh mounts, so librpm skips their content
    /// (netshared, as it skips device nodes anywhere); the layout then makes
    /// the toplevel afresh, as rpm-ostree does.
    @Test(.enabled(if: bubblewrapRuns, "bwrap cannot create namespaces here"))
    func contentUnderMountPointsIsSkipped() throws {
        let harness = try ComposeHarness("mount-points")
        try harness.composeOK(try harness.treefile(["fixture-mount-points", "fixture-sh"], extra: "tmp-is-dir: true\n"),
                              ["--sandbox", "bwrap"])
        let top = try Oracle.ostree(harness.repo, ["ls", harness.ref, "/"]).split(separator: "\n")
        #expect(top.contains { $0.hasPrefix("d00755 0 0") && $0.hasSuffix(" /proc") }, "\(top)")
        #expect(top.contains { $0.hasPrefix("d01777 0 0") && $0.hasSuffix(" /tmp") }, "\(top)")
        for mountPoint in ["/dev", "/proc", "/tmp"] {
            #expect(try Oracle.ostree(harness.repo, ["ls", harness.ref, mountPoint]).split(separator: "\n").count == 1, "\(mountPoint) is empty")
        }
        let checkout = harness.dir.path("checkout")
        try Oracle.ostree(harness.repo, ["checkout", "-U", harness.ref, checkout.path])
        let states = try Command.check(["rpm", "--root", checkout.path, "--dbpath", "/usr/share/rpm", "-q", "--qf",
                                        "[%{FILESTATES:fstate} %{FILENAMES}\n]", "fixture-mount-points"])
        #expect(states.contains("net shared /tmp/fixture-shipped") && states.contains("net shared /dev/fixture-null"), "\(states)")
    }

    @Test func fallsBackWithoutBubblewrap() throws {
        let harness = try ComposeHarness("no-bwrap")
        let emptyPath = harness.dir.path("empty-path")
        try FileManager.default.createDirectory(at: emptyPath, withIntermediateDirectories: true)
        let treefile = try harness.treefile(["fixture-sandbox-probe"])
        let result = try harness.compose(treefile, ["--sandbox", "auto"], environment: ["PATH": emptyPath.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("scriptlets run unconfined"), "\(result.stderr)")
        #expect(result.stderr.contains("bwrap is not on the PATH"), "\(result.stderr)")
        let log = try Command.check([Fixtures.treeforgeExecutable.path, "builds", "log", "1", "--stage", "install", "--repo", harness.repo.path])
        #expect(log.contains("warning: scriptlets run unconfined"), "\(log)")
        // librpm's bare chroot: no /dev, but SOURCE_DATE_EPOCH and PATH still set.
        let report = try probeReport(harness)
        #expect(report["dev-null"] == "missing")
        #expect(report["path"] == "/usr/sbin:/usr/bin")
        #expect(Int(report["source-date-epoch"] ?? "") != nil)

        let refBefore = try Oracle.ostreeRev(harness.repo, harness.ref)
        let strict = try harness.compose(treefile, ["--sandbox", "bwrap", "--force-nocache"], environment: ["PATH": emptyPath.path])
        #expect(strict.status != 0)
        #expect(strict.stderr.contains("\nerror: install: ") || strict.stderr.hasPrefix("error: install: "), "\(strict.stderr)")
        #expect(strict.stderr.contains("--sandbox bwrap was asked for, but bubblewrap cannot run here"), "\(strict.stderr)")
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == refBefore)
    }

    @Test(arguments: bubblewrapRuns ? ["bwrap", "none"] : ["none"])
    func hangingScriptletIsStopped(mode: String) throws {
        let harness = try ComposeHarness("hang-\(mode)")
        let workdir = harness.dir.path("work")
        let started = Date()
        let result = try harness.compose(try harness.treefile(["fixture-hang"]),
                                         ["--sandbox", mode, "--scriptlet-timeout", "2", "--workdir", workdir.path])
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status != 0)
        #expect(result.stderr.contains("error: install: fixture-hang-1.0-1.noarch: the %post scriptlet of fixture-hang-1.0-1.noarch did not finish within 2 s"),
                "\(result.stderr)")
        #expect(result.stderr.contains("%post hanging on purpose"), "the scriptlet's own output is quoted")
        #expect(seconds < 15, "took \(seconds) s")
        #expect(try Oracle.ostreeRev(harness.repo, harness.ref) == nil)
        #expect(harness.commitObjectCount() == 0)
        #expect(try harness.lastBuild().status == "failed")
        #expect(LeftoverProcesses.touching(workdir).isEmpty, "\(LeftoverProcesses.touching(workdir))")
    }
}

/// Processes still running from a folder: named in their command line or
/// chrooted under it (a scriptlet). Read from /proc, as pgrep does.
enum LeftoverProcesses {
    static func touching(_ folder: URL) -> [String] {
        let prefix = folder.standardizedFileURL.path
        return processes { root, commandLine in root.hasPrefix(prefix) || commandLine.contains(prefix) }
    }

    static func matching(_ text: String) -> [String] {
        processes { _, commandLine in commandLine.contains(text) }
    }

    private static func processes(where matches: (_ root: String, _ commandLine: String) -> Bool) -> [String] {
        var found: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            let root = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/root")) ?? ""
            let commandLine = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")))
                .map { String(decoding: $0.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) } ?? ""
            if Int32(entry) != getpid(), matches(root, commandLine) {
                found.append("\(entry): \(commandLine) (root \(root))")
            }
        }
        return found
    }
}

/// Whether bubblewrap can run here (the same probe composes use): not in an
/// unprivileged container, for one.
let bubblewrapRuns = getuid() == 0 && (try? SandboxMode.bwrap.resolve(sourceDateEpoch: 0)) != nil
