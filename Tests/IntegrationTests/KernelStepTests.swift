import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// The kernel step (`KernelProcessing`) on a tree of the fixtures' shell, a
/// stand-in kernel and stand-in `depmod` and `dracut` scripts of the tree's
/// own, which record what they see. The real dracut on a real kernel runs in
/// scripts/boot-test (BootTests).
@Suite(.serialized, .enabled(if: bubblewrapRuns, "bwrap cannot create namespaces here (or not root)"))
struct KernelStepTests {
    static let kernel = "6.1.0-stub-amd64"
    let dir: TemporaryDirectory
    /// The installed tree every test copies before the step changes it.
    let pristine: URL
    let treefile: Treefile

    init() throws {
        dir = try TemporaryDirectory("kernel-step")
        // Installed without the kernel keys (the tree has no kernel until the stand-ins are added).
        pristine = try ShellRoot.install(into: dir)
        treefile = try TreefileLoader().load(try FixtureTreefile.write(packages: ["fixture-sh"], repository: Fixtures.repository(),
                                                                       extra: "boot-location: modules\ninitramfs-args: [--omit, test]",
                                                                       in: dir.path("tf")))
        try Self.addStandIns(to: pristine)
    }

    /// Debian's kernel layout (/boot/vmlinuz-K beside /usr/lib/modules/K),
    /// host tools the stand-ins use (with their libraries), and the stand-ins.
    static func addStandIns(to root: URL) throws {
        func write(_ relative: String, _ text: String, mode: Int = 0o644) throws {
            let url = root.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        }
        try write("boot/vmlinuz-\(kernel)", "a kernel image\n")
        try write("boot/config-\(kernel)", "CONFIG_EXT4_FS=y\n")
        try write("usr/lib/modules/\(kernel)/kernel/fs/ext4.ko", "a module\n")
        try write("usr/lib/stand-in/included.conf", "a file dracut copies into the image\n")
        for tool in ["mkdir", "cp", "cat", "sleep"] { try copyHostProgram("/bin/" + tool, into: root) }
        try write("usr/sbin/depmod", """
            #!/bin/sh
            echo "depmod $*" >> /var/stand-in.log
            echo "kernel/fs/ext4.ko:" > "/usr/lib/modules/$2/modules.dep"

            """, mode: 0o755)
        // Staged as dracut --keep stages (<tmpdir>/dracut.*/initramfs/…); the mode
        // in /var/stand-in-mode makes it fail or hang.
        try write("usr/bin/dracut", """
            #!/bin/sh
            tmpdir= previous= output= kver=
            for argument in "$@"; do
                [ "$previous" = --tmpdir ] && tmpdir=$argument
                previous=$argument output=$kver kver=$argument
            done
            {
                echo "args: $*"
                echo "epoch: $SOURCE_DATE_EPOCH"
                while read -r line; do echo "net: $line"; done < /proc/net/dev
                if [ -e /etc/debian_version ]; then echo "host: visible"; else echo "host: hidden"; fi
            } >> /var/stand-in.log
            mode=$(cat /var/stand-in-mode 2>/dev/null || true)
            [ "$mode" = fail ] && { echo "dracut: no module named ostree" >&2; exit 3; }
            [ "$mode" = hang ] && exec sleep 600
            echo built >> /var/stand-in-runs
            staged=$tmpdir/dracut.stand-in/initramfs
            mkdir -p "$staged/usr/lib/stand-in" "$staged/usr/bin"
            cp /usr/lib/stand-in/included.conf "$staged/usr/lib/stand-in/"
            cp /usr/bin/dash "$staged/usr/bin/"
            { echo "initramfs for $kver, epoch $SOURCE_DATE_EPOCH"; cat /usr/lib/stand-in/included.conf; } > "$output"

            """, mode: 0o755)
    }

    /// A host program and the libraries `ldd` names, at their merged-/usr paths.
    static func copyHostProgram(_ path: String, into root: URL) throws {
        let libraries = try Command.check(["ldd", path]).split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            return words.first { $0.hasPrefix("/") }.map(String.init)
        }
        for file in [path] + libraries {
            // Under the name the loader asks for (the soname), with the content of the file it names.
            let real = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
            let inTree = file.hasPrefix("/usr/") ? file : "/usr" + file
            let destination = root.appendingPathComponent(String(inTree.dropFirst()))
            guard !FileManager.default.fileExists(atPath: destination.path) else { continue }
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: real, toPath: destination.path)
        }
    }

    func freshTree(_ name: String, mode: String? = nil) throws -> URL {
        let root = dir.path(name)
        try Command.check(["cp", "-a", pristine.path, root.path])
        if let mode { try mode.write(to: root.appendingPathComponent("var/stand-in-mode"), atomically: false, encoding: .utf8) }
        return root
    }

    func step(confinement: Confinement? = nil, cache: InitramfsCache? = nil, timeout: TimeInterval = 60,
              events: ComposeEventSink = SilentEvents()) throws -> KernelProcessing {
        let sandbox = Sandbox(bwrap: try #require(Sandbox.findExecutable()), sourceDateEpoch: 42)
        return KernelProcessing(confinement: confinement ?? .sandboxed(sandbox), timeout: timeout, sourceDateEpoch: 42,
                                cache: cache, logFile: dir.path("kernel-\(UUID().uuidString).log"), events: events)
    }

    func standInLog(_ root: URL) throws -> String {
        try String(contentsOf: root.appendingPathComponent("var/stand-in.log"), encoding: .utf8)
    }

    func image(_ root: URL) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent("usr/lib/modules/\(Self.kernel)/initramfs.img"))
    }

    func interfaces(in log: String) -> [String] {
        log.split(separator: "\n").filter { $0.hasPrefix("net: ") && $0.contains(":") && !$0.contains("|") }
            .map { String($0.dropFirst("net: ".count).prefix { $0 != ":" }) }
    }

    @Test func theTreesOwnDracutRunsConfinedWithTheArgumentsRpmOstreeUses() throws {
        for (name, confinement) in [("sandboxed", nil), ("unconfined", Confinement.unconfined(reason: nil))] as [(String, Confinement?)] {
            let root = try freshTree(name)
            let log = try step(confinement: confinement).run(root: root, treefile: treefile)
            let seen = try standInLog(root)
            #expect(seen.contains("depmod -a \(Self.kernel)"), "\(name): \(seen)")
            #expect(seen.contains("args: --no-hostonly --reproducible --add ostree --tmpdir /.treeforge-dracut --keep --omit test "
                                  + "--force /usr/lib/modules/\(Self.kernel)/initramfs.img \(Self.kernel)"), "\(name): \(seen)")
            #expect(seen.contains("epoch: 42"), "\(name): \(seen)")
            #expect(interfaces(in: seen) == ["lo"], "\(name): no network inside, only loopback: \(seen)")
            #expect(seen.contains("host: hidden"), "\(name): the tree is /, not the host: \(seen)")
            #expect(try image(root) == Data("initramfs for \(Self.kernel), epoch 42\na file dracut copies into the image\n".utf8))
            let modules = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("usr/lib/modules/\(Self.kernel)").path)
            #expect(Set(modules).isSuperset(of: ["vmlinuz", "initramfs.img", "config", "modules.dep", "kernel"]), "\(modules)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("boot").path).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(KernelProcessing.stagingFolder).path))
            #expect(log.contains { $0.contains("dracut built /usr/lib/modules/\(Self.kernel)/initramfs.img") }, "\(log)")
        }
    }

    @Test func anUnchangedInitramfsIsReusedAndADamagedOrOutdatedOneIsBuiltAgain() throws {
        let cache = InitramfsCache(folder: dir.path("cache/initramfs"))
        let first = try freshTree("first")
        _ = try step(cache: cache).run(root: first, treefile: treefile)
        let built = try image(first)

        // The same inputs: dracut does not run, the bytes are the same.
        let second = try freshTree("second")
        let log = try step(cache: cache).run(root: second, treefile: treefile)
        #expect(log.contains { $0.contains("initramfs reused") }, "\(log)")
        #expect(!FileManager.default.fileExists(atPath: second.appendingPathComponent("var/stand-in-runs").path), "dracut ran again")
        #expect(try image(second) == built)

        // A damaged cached image is dropped with a warning and built again.
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.folder.path).filter { !$0.hasPrefix(".") }
        try #require(entries.count == 1)
        try Data("not an initramfs".utf8).write(to: cache.folder.appendingPathComponent(entries[0] + "/initramfs.img"))
        let events = RecordedEvents()
        let damaged = try freshTree("damaged")
        _ = try step(cache: cache, events: events).run(root: damaged, treefile: treefile)
        #expect(FileManager.default.fileExists(atPath: damaged.appendingPathComponent("var/stand-in-runs").path))
        #expect(try image(damaged) == built)
        #expect(events.events.contains { if case .warning(let text) = $0 { text.contains("is damaged") } else { false } })

        // A file the image took from the tree changed (same size, so only its content tells): built again.
        let changedFile = try freshTree("changed-file")
        try "A FILE DRACUT COPIES INTO THE IMAGE\n".write(to: changedFile.appendingPathComponent("usr/lib/stand-in/included.conf"),
                                                           atomically: false, encoding: .utf8)
        _ = try step(cache: cache).run(root: changedFile, treefile: treefile)
        #expect(FileManager.default.fileExists(atPath: changedFile.appendingPathComponent("var/stand-in-runs").path))
        #expect(try image(changedFile) != built)

        // dracut's configuration changed: built again.
        let changedConfig = try freshTree("changed-config")
        let conf = changedConfig.appendingPathComponent("etc/dracut.conf.d/10-compress.conf")
        try FileManager.default.createDirectory(at: conf.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "compress=\"cat\"\n".write(to: conf, atomically: false, encoding: .utf8)
        _ = try step(cache: cache).run(root: changedConfig, treefile: treefile)
        #expect(FileManager.default.fileExists(atPath: changedConfig.appendingPathComponent("var/stand-in-runs").path))
    }

    @Test func aFailingHangingOrMissingDracutIsAnErrorThatSaysSo() throws {
        let failing = #expect(throws: ComposeError.self) { try step().run(root: try freshTree("fail", mode: "fail"), treefile: treefile) }
        #expect(failing?.description.contains("dracut failed in the tree (exit status 3)") == true, "\(String(describing: failing))")
        #expect(failing?.description.contains("no module named ostree") == true, "the log's tail: \(String(describing: failing))")

        let started = Date()
        let hanging = #expect(throws: ComposeError.self) {
            try step(timeout: 2).run(root: try freshTree("hang", mode: "hang"), treefile: treefile)
        }
        #expect(hanging?.description.contains("dracut did not finish within 2 s") == true, "\(String(describing: hanging))")
        #expect(Date().timeIntervalSince(started) < 30)

        let noDracut = try freshTree("no-dracut")
        try FileManager.default.removeItem(at: noDracut.appendingPathComponent("usr/bin/dracut"))
        let missing = #expect(throws: ComposeError.self) { try step().run(root: noDracut, treefile: treefile) }
        #expect(missing?.description.contains("add `dracut` to `packages`") == true, "\(String(describing: missing))")

        // The treefile asks for a kernel layout (boot-location) but the tree has no kernel.
        let noKernel = try freshTree("no-kernel")
        try FileManager.default.removeItem(at: noKernel.appendingPathComponent("boot/vmlinuz-\(Self.kernel)"))
        let kernelMissing = #expect(throws: ComposeError.self) { try step().run(root: noKernel, treefile: treefile) }
        #expect(kernelMissing?.description.contains("the treefile sets `boot-location` but the tree has no kernel") == true,
                "\(String(describing: kernelMissing))")

        let noKmod = try freshTree("no-kmod")
        try FileManager.default.removeItem(at: noKmod.appendingPathComponent("usr/sbin/depmod"))
        let noDepmod = #expect(throws: ComposeError.self) { try step().run(root: noKmod, treefile: treefile) }
        #expect(noDepmod?.description.contains("add `kmod` to `packages`") == true, "\(String(describing: noDepmod))")
    }
}
