import Foundation
import Testing
@testable import TreeforgeCore

/// Where a compose's scratch folder goes without `--workdir`.
@Suite struct ScratchSpaceTests {
    @Test func theFlagsDecide() {
        #expect(ScratchSpace.prefix(for: .disk, installSize: 1).prefix == "/var/tmp/treeforge-compose-")
        #expect(ScratchSpace.prefix(for: .tmpfs, installSize: 1 << 50).prefix == "/dev/shm/treeforge-compose-")
    }

    /// In memory only with room for the tree and half as much again.
    @Test func autoKeepsATreeInMemoryOnlyWhenItFits() throws {
        let memory = try #require(ScratchSpace.usableMemory(), "this machine's /dev/shm is a tmpfs that runs programs")
        let small = ScratchSpace.prefix(for: .auto, installSize: 10 << 20)
        #expect(small.prefix == ScratchSpace.memoryPrefix, "\(small.reason)")
        let large = ScratchSpace.prefix(for: .auto, installSize: memory)
        #expect(large.prefix == ScratchSpace.diskPrefix)
        #expect(large.reason.contains("MiB wanted"), "\(large.reason)")
    }
}
