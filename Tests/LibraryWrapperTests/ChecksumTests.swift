import Foundation
import LibCrypto
import LibSolv
import Testing
import TestSupport

@Suite struct ChecksumTests {
    @Test func knownVectors() throws {
        #expect(Checksum.sha256.hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Checksum.sha1.hex(of: Data("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    /// Package files are checked with OpenSSL's digests, in 1 MiB blocks:
    /// every repomd.xml checksum type, against coreutils' tools, on a file
    /// of several blocks and a partial one, and an empty file.
    @Test func fileDigestsMatchCoreutils() throws {
        let dir = try TemporaryDirectory("file-digest")
        let file = dir.path("blocks")
        try Command.check(["sh", "-c", "head -c \((3 << 20) + 12345) /dev/urandom > '\(file.path)'"])
        let empty = try dir.write("empty", "")
        for checksum in Checksum.allCases {
            for path in [file.path, empty.path] {
                let oracle = try Command.check(["\(checksum.rawValue)sum", path]).prefix { $0 != " " }
                #expect(try FileDigest.hex(ofFileAt: path, algorithm: checksum.rawValue) == String(oracle), "\(checksum) of \(path)")
            }
        }
        #expect(try FileDigest.hex(ofFileAt: empty.path, algorithm: "sha256") == Checksum.sha256.hex(of: Data()))
        #expect(throws: CryptoError.self) { try FileDigest.hex(ofFileAt: dir.path("missing").path, algorithm: "sha256") }
        #expect(throws: CryptoError.self) { try FileDigest.hex(ofFileAt: empty.path, algorithm: "crc32") }
    }

    @Test func repomdNames() {
        #expect(Checksum(repomdName: "sha") == .sha1)
        #expect(Checksum(repomdName: "SHA256") == .sha256)
        #expect(Checksum(repomdName: "crc32") == nil)
    }
}
