import Foundation
import LibSolv
import Testing
import TestSupport

@Suite struct ChecksumTests {
    @Test func knownVectors() throws {
        #expect(Checksum.sha256.hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Checksum.sha1.hex(of: Data("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        let dir = try TemporaryDirectory("checksum")
        let file = try dir.write("abc", "abc")
        #expect(try Checksum.sha256.hex(ofFileAt: file.path) == Checksum.sha256.hex(of: Data("abc".utf8)))
        #expect(throws: SolvError.self) { try Checksum.sha256.hex(ofFileAt: dir.path("missing").path) }
    }

    @Test func repomdNames() {
        #expect(Checksum(repomdName: "sha") == .sha1)
        #expect(Checksum(repomdName: "SHA256") == .sha256)
        #expect(Checksum(repomdName: "crc32") == nil)
    }
}
