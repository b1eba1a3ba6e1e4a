import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// The bwrap argument vectors as plans (no process started), the choice of
/// confinement, and the mount-point bookkeeping on real folders.
@Suite struct SandboxPlanTests {
    let sandbox = Sandbox(bwrap: "/usr/bin/bwrap", sourceDateEpoch: 1_700_000_000)

    /// The values that follow each occurrence of `option`.
    func values(of option: String, in arguments: [String], count: Int = 1) -> [[String]] {
        arguments.indices.filter { arguments[$0] == option }.map { Array(arguments[($0 + 1)...($0 + count)]) }
    }

    @Test func rpmChildShape() {
        let root = URL(fileURLWithPath: "/var/tmp/w/rootfs")
        let view = Sandbox.HostView(readOnly: ["/usr", "/etc/ld.so.cache", "/opt/swift/usr/lib/swift/linux"],
                                    links: [.init(path: "/bin", target: "usr/bin")])
        let arguments = sandbox.arguments(writingInto: root, readable: [URL(fileURLWithPath: "/tmp/cache/Packages"), URL(fileURLWithPath: "/srv/rpms")],
                                          hostView: view,
                                          command: ["/usr/bin/treeforge", "internal", "rpm-transaction", "/var/tmp/w/plan.json"])
        #expect(arguments.first == "/usr/bin/bwrap")
        #expect(Array(arguments.suffix(5)) == ["--", "/usr/bin/treeforge", "internal", "rpm-transaction", "/var/tmp/w/plan.json"])
        // Its own /dev, /proc and an empty /tmp first (what follows may live
        // under the host's /tmp), then only the host view (no --ro-bind / /),
        // then every readable path at its own path, then the root writable
        // with fresh mounts inside.
        let mounts = Array(arguments[1..<arguments.firstIndex(of: "--unshare-net")!])
        #expect(mounts == ["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                           "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache",
                           "--ro-bind", "/opt/swift/usr/lib/swift/linux", "/opt/swift/usr/lib/swift/linux",
                           "--symlink", "usr/bin", "/bin",
                           "--ro-bind-try", "/tmp/cache/Packages", "/tmp/cache/Packages",
                           "--ro-bind-try", "/srv/rpms", "/srv/rpms",
                           "--bind", root.path, root.path,
                           "--dev", "\(root.path)/dev", "--proc", "\(root.path)/proc", "--tmpfs", "\(root.path)/tmp"])
        for namespace in ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                          "--die-with-parent", "--new-session"] {
            #expect(arguments.contains(namespace), "\(namespace)")
        }
        let dropAll = arguments.firstIndex(of: "--cap-drop")!
        #expect(arguments[dropAll + 1] == "ALL")
        #expect(values(of: "--cap-add", in: arguments).map(\.[0]) == Sandbox.capabilities)
        #expect(arguments.firstIndex(of: "--cap-add")! > dropAll)
        #expect(arguments.contains("--clearenv"))
        #expect(values(of: "--setenv", in: arguments, count: 2) == [["LANG", "C.UTF-8"], ["PATH", "/usr/sbin:/usr/bin"],
                                                                    ["SOURCE_DATE_EPOCH", "1700000000"]])
    }

    /// The view of this host: /usr and the merged-/usr links, the loader's
    /// cache, the executable and the Swift runtime's folder; never / itself.
    @Test func hostViewOfThisHost() {
        let view = Sandbox.HostView.forRunning("/usr/bin/true")
        #expect(view.readOnly.first == "/usr")
        #expect(!view.readOnly.contains("/"))
        #expect(!view.readOnly.contains { $0.hasPrefix("/root") || $0.hasPrefix("/home") || $0 == "/etc" || $0 == "/var" })
        #expect(view.readOnly.filter { $0.hasPrefix("/usr/") }.isEmpty, "/usr/bin/true is under /usr already")
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: "/bin")) == "usr/bin" {
            #expect(view.links.contains(.init(path: "/bin", target: "usr/bin")))
        }
        let folders = Sandbox.HostView.libraryFolders(inMaps: """
            5581a0000000-5581a0001000 r-xp 00000000 08:01 1 /srv/app/bin/treeforge
            7f0000000000-7f0000001000 r-xp 00000000 08:01 2 /opt/swift/usr/lib/swift/linux/libswiftCore.so
            7f0000002000-7f0000003000 r--p 00000000 08:01 2 /var/lib/data.bin
            7f0000004000-7f0000005000 rw-s 00000000 08:01 3 /var/tmp/x/repo.builds.sqlite-shm
            7f0000006000-7f0000007000 r-xp 00000000 00:00 0 [vdso]
            """, except: "/srv/app/bin/treeforge")
        #expect(folders == ["/opt/swift/usr/lib/swift/linux"])
    }

    @Test func rootAsSlashShape() {
        let arguments = sandbox.arguments(inRoot: URL(fileURLWithPath: "/var/tmp/w/rootfs"), writable: false,
                                          readOnly: [.init(source: URL(fileURLWithPath: "/home/me/tf"), destination: "/run/treefile")],
                                          command: ["/bin/sh", "-c", "true"])
        let mounts = Array(arguments[1..<arguments.firstIndex(of: "--unshare-net")!])
        #expect(mounts == ["--ro-bind", "/var/tmp/w/rootfs", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                           "--ro-bind", "/home/me/tf", "/run/treefile"])
        #expect(Array(arguments.suffix(4)) == ["--", "/bin/sh", "-c", "true"])
    }

    @Test func confinementChoice() throws {
        #expect(try SandboxMode.none.resolve(sourceDateEpoch: 1, bwrap: "/usr/bin/bwrap") == .unconfined(reason: nil))
        guard case .unconfined(let reason?) = try SandboxMode.auto.resolve(sourceDateEpoch: 1, bwrap: nil) else {
            Issue.record("auto without bwrap must fall back")
            return
        }
        #expect(reason.contains("not on the PATH"))
        guard case .unconfined(let missing?) = try SandboxMode.auto.resolve(sourceDateEpoch: 1, bwrap: "/nonexistent/bwrap") else {
            Issue.record("auto with a missing bwrap must fall back")
            return
        }
        #expect(missing.contains("/nonexistent/bwrap is not installed"))
        #expect(throws: ComposeError.self) { try SandboxMode.bwrap.resolve(sourceDateEpoch: 1, bwrap: "/nonexistent/bwrap") }
        #expect(Sandbox.findExecutable(path: "/nonexistent") == nil)
    }

    @Test func mountPointsBwrapCreatedAreRemovedWhenEmpty() throws {
        let dir = try TemporaryDirectory("mount-points")
        let root = dir.path("root")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("dev"), withIntermediateDirectories: true)
        let created = MountPoints.missing(in: root, for: ["/dev", "/proc", "/tmp", "/run/treefile", "/run/other"])
        #expect(created == ["proc", "tmp", "run"])
        for path in ["proc", "tmp", "run/treefile", "run/other"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(path), withIntermediateDirectories: true)
        }
        try dir.write("root/tmp/written-underneath", "kept: not bwrap's\n")
        MountPoints.removeCreated(created, in: root)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() == ["dev", "tmp"])
    }
}
