import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// What a scriptlet reaches when it leaves librpm's chroot, and whether
/// scriptlets outlive a killed treeforge: real composes of real fixtures.
@Suite(.enabled(if: getuid() == 0, "librpm chroots into the new root and bwrap needs root: run as root"))
struct ScriptletEscapeTests {
    /// Whether `ancestor` is `path` or one of its parent folders.
    static func leads(_ ancestor: String, to path: String) -> Bool {
        path == ancestor || path.hasPrefix(ancestor.hasSuffix("/") ? ancestor : ancestor + "/")
    }

    @Test(.enabled(if: bubblewrapRuns, "bwrap cannot create namespaces here"))
    func anEscapedScriptletSeesOnlyTheAllowlist() throws {
        let harness = try ComposeHarness("chroot-escape")
        let secret = try harness.dir.write("secret-marker", "not for scriptlets\n").standardizedFileURL.path
        let workdir = harness.dir.path("work").standardizedFileURL
        try harness.composeOK(try harness.treefile(["fixture-chroot-escape", "fixture-sh"]),
                              ["--sandbox", "bwrap", "--workdir", workdir.path])
        let seen = try Oracle.ostree(harness.repo, ["cat", harness.ref, "/usr/share/fixture-chroot-escape/seen"])
            .split(separator: "\n").map(String.init)
        // The escape worked: it reached the sandbox's host view and found the root there.
        #expect(seen.contains("/usr"), "\(seen)")
        #expect(seen.contains(workdir.appendingPathComponent("rootfs").path), "\(seen)")
        for hidden in ["/etc/shadow", "/etc/passwd", "/etc/gnupg", "/root", "/home", "/var/lib", "/var/log", secret] {
            #expect(!seen.contains(hidden), "\(hidden) is visible")
        }
        // Everything seen is on the allowlist or a folder leading to it.
        let view = Sandbox.HostView.forRunning(Fixtures.treeforgeExecutable.path)
        let allowed = view.readOnly + view.links.map(\.path) + ["/dev", "/proc", "/tmp", workdir.path,
                                                              try Fixtures.repository().standardizedFileURL.path]
        let outside = seen.filter { path in !allowed.contains { Self.leads($0, to: path) || Self.leads(path, to: $0) } }
        #expect(outside.isEmpty, "visible outside the allowlist: \(outside)")
    }

    /// Unconfined, nothing but the rpm child's own lifetime ties it to
    /// treeforge (Foundation gives it a process group of its own).
    @Test func unconfinedScriptletsEndWithTreeforge() throws {
        let harness = try ComposeHarness("orphans")
        let workdir = harness.dir.path("work").standardizedFileURL
        let compose = Process()
        compose.executableURL = Fixtures.treeforgeExecutable
        compose.arguments = ["compose", "tree", try harness.treefile(["fixture-hang"]).path, "--repo", harness.repo.path,
                             "--sandbox", "none", "--workdir", workdir.path]
        compose.standardOutput = FileHandle.nullDevice
        compose.standardError = FileHandle.nullDevice
        defer {
            // Never leave a busy loop behind, whatever the outcome.
            for line in LeftoverProcesses.touching(workdir) {
                if let pid = Int32(line.prefix { $0 != ":" }) { kill(pid, SIGKILL) }
            }
        }
        try compose.run()
        let scriptletRoot = "(root \(workdir.path)"
        var running = false
        for _ in 0..<300 where !running {
            running = LeftoverProcesses.touching(workdir).contains { $0.contains(scriptletRoot) }
            if !running { usleep(100_000) }
        }
        #expect(running, "the %post scriptlet never started")
        kill(compose.processIdentifier, SIGKILL)
        compose.waitUntilExit()
        var left = LeftoverProcesses.touching(workdir)
        for _ in 0..<50 where !left.isEmpty {
            usleep(100_000)
            left = LeftoverProcesses.touching(workdir)
        }
        #expect(left.isEmpty, "still running 5 s after treeforge was killed: \(left)")
    }
}
