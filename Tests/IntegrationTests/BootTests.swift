import Foundation
import Testing
import TestSupport

/// scripts/boot-test: treefiles/bootable composed from real Debian packages,
/// deployed with the stock `ostree admin`, booted under QEMU to its version
/// line, upgraded and rolled back. Minutes of work (two composes with dracut
/// once, three boots under software emulation); its console logs are kept in
/// the test artifacts (`boot/`).
/// Root, QEMU, mkfs.ext4 and ostree (scripts/setup-host installs them).
let bootTestCanRun = getuid() == 0 && ["/usr/bin/qemu-system-x86_64", "/usr/sbin/mkfs.ext4", "/usr/bin/ostree"].allSatisfy {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// The boot corpus is built, or the corpus tool that builds it is at hand
/// (`TREEFORGE_CORPUS_TOOL`, ../shared/corpus beside the checkout, or the
/// shared workspace's), as scripts/boot-test looks for it.
let bootCorpusAvailable = FileManager.default.fileExists(atPath: "/var/tmp/treeforge-boot-corpus/repo-updates-only/repodata/repomd.xml")
    || [ProcessInfo.processInfo.environment["TREEFORGE_CORPUS_TOOL"],
        Fixtures.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus/debian-payload-repo").path,
        "/work/shared/corpus/debian-payload-repo"].compactMap { $0 }.contains { FileManager.default.isExecutableFile(atPath: $0) }

@Suite(.enabled(if: bootTestCanRun, "needs root, QEMU and mkfs.ext4 (scripts/setup-host)"))
struct BootTests {
    @Test(.enabled(if: bootCorpusAvailable, "no boot corpus in /var/tmp/treeforge-boot-corpus and no corpus tool to build it (../shared/corpus)"),
          .timeLimit(.minutes(40)))
    func deploysBootsUpgradesAndRollsBack() throws {
        let artifacts = try Fixtures.artifacts("boot")
        let work = try TemporaryDirectory("boot-test")
        var environment = ProcessInfo.processInfo.environment
        environment["TREEFORGE"] = Fixtures.treeforgeExecutable.path
        environment["TREEFORGE_BOOT_WORK"] = work.url.path
        environment["TREEFORGE_TEST_ARTIFACTS"] = artifacts.deletingLastPathComponent().path
        let result = try Command.run([Fixtures.packageRoot.appendingPathComponent("scripts/boot-test").path], environment: environment)
        try #require(result.status == 0, "scripts/boot-test exited \(result.status):\n\(result.stderr)")

        // The three boots printed the versions the composes made, in order: 1, 2, then 1 again.
        let marker = "treeforge-boot: debian reached multi-user.target, version "
        let versions = try ["1", "2", "rollback"].map { label -> String in
            let console = try String(contentsOf: artifacts.appendingPathComponent("console-\(label).log"), encoding: .utf8)
            let found = try #require(console.range(of: marker), "no version line on the console of boot \(label)")
            // The console interleaves systemd's status lines, so the version ends at the first space or line end.
            return String(console[found.upperBound...].prefix { !$0.isWhitespace && $0 != "\r" })
        }
        #expect(versions[0] != versions[1] && versions[2] == versions[0], "\(versions)")
        // Version 2 changed bash only: its initramfs is version 1's, not built again.
        let second = try String(contentsOf: artifacts.appendingPathComponent("postprocess-2.log"), encoding: .utf8)
        #expect(second.contains("initramfs reused"), "\(second)")
        // The same inputs composed again from an empty cache gave the same commit.
        let timings = try String(contentsOf: artifacts.appendingPathComponent("timings.txt"), encoding: .utf8)
        #expect(timings.contains("reproducible: commit"), "\(timings)")
    }
}
