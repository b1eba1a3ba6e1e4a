import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// Finding the tree's kernel and placing it as rpm-ostree does.
@Suite struct KernelLayoutTests {
    static func tree(_ files: [String]) throws -> (TemporaryDirectory, RootDirectory) {
        let dir = try TemporaryDirectory("kernel-layout")
        for file in files {
            let url = dir.path("root/" + file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.utf8).write(to: url)
        }
        try FileManager.default.createDirectory(at: dir.path("root/boot"), withIntermediateDirectories: true)
        return (dir, RootDirectory(dir.path("root")))
    }

    @Test func aDebianKernelMovesIntoItsModulesFolderAndBootIsEmptied() throws {
        let (dir, root) = try Self.tree(["boot/vmlinuz-6.1.0-1-amd64", "boot/config-6.1.0-1-amd64", "boot/System.map-6.1.0-1-amd64",
                                         "boot/initrd.img-6.1.0-1-amd64", "usr/lib/modules/6.1.0-1-amd64/kernel/fs/ext4.ko"])
        let kernel = try #require(try KernelLayout.find(in: root))
        #expect(kernel == InstalledKernel(version: "6.1.0-1-amd64", image: "boot/vmlinuz-6.1.0-1-amd64"))
        _ = try KernelLayout.placeKernel(kernel, in: root)
        #expect(try root.entries("boot").isEmpty)
        #expect(try root.entries("usr/lib/modules/6.1.0-1-amd64") == ["System.map", "config", "kernel", "vmlinuz"])
        #expect(KernelLayout.bootableKernel(in: dir.path("root")) == "6.1.0-1-amd64")
    }

    @Test func aFedoraKernelIsFoundInPlaceAndNewAlsoLinksItIntoOstreeBoot() throws {
        let (dir, root) = try Self.tree(["usr/lib/modules/6.8.5-301.fc40.x86_64/vmlinuz", "usr/lib/modules/6.8.5-301.fc40.x86_64/initramfs.img",
                                       "usr/lib/modules/6.8.5-301.fc40.x86_64/modules.order"])
        let kernel = try #require(try KernelLayout.find(in: root))
        #expect(kernel.image == "usr/lib/modules/6.8.5-301.fc40.x86_64/vmlinuz" && dir.path("root").path == root.url.path)
        #expect(try KernelLayout.placeForBootLocation(kernel, location: "modules", in: root).isEmpty)
        #expect(try KernelLayout.placeForBootLocation(kernel, location: "new", in: root).count == 2)
        #expect(root.status("usr/lib/ostree-boot/vmlinuz-6.8.5-301.fc40.x86_64")?.st_nlink == 2, "a hardlink: the same object")
        #expect(throws: ComposeError.self) { try KernelLayout.placeForBootLocation(kernel, location: "kernel-install", in: root) }
    }

    @Test func noKernelTwoKernelsAndAKernelWithoutModules() throws {
        #expect(try KernelLayout.find(in: try Self.tree(["usr/bin/sh"]).1) == nil)
        let two = try Self.tree(["boot/vmlinuz-6.1.0-1-amd64", "usr/lib/modules/6.1.0-1-amd64/kernel/a.ko",
                                 "usr/lib/modules/6.1.0-2-amd64/vmlinuz", "usr/lib/modules/6.1.0-2-amd64/kernel/a.ko"])
        let twoError = #expect(throws: ComposeError.self) { try KernelLayout.find(in: two.1) }
        #expect(twoError?.description.contains("2 kernels") == true && twoError?.description.contains("6.1.0-2-amd64") == true)
        let bare = try Self.tree(["boot/vmlinuz-6.1.0-1-amd64"])
        let bareError = #expect(throws: ComposeError.self) { try KernelLayout.find(in: bare.1) }
        #expect(bareError?.description.contains("has no modules") == true)
    }
}
