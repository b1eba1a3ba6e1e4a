import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

@Suite struct LockfileTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("lockfile") }

    @Test func readsAndMergesLaterEntriesWhole() throws {
        try dir.write("base.json", """
            {
              "packages": {
                "bash": {"evra": "5.2.26-3.fc40.x86_64", "digest": "sha256:abc"},
                "glibc": {"evr": "2.39-5.fc40"}
              },
              "metadata": {"generated": "2026-11-27T00:00:00Z", "rpmmd_repos": {"fedora": {"generated": "2026-11-26T10:00:00Z"}}}
            }
            """)
        try dir.write("overrides.yaml", """
            packages:
              bash:
                evr: 5.2.26-4.fc40
            metadata:
              generated: "2027-01-01T00:00:00Z"
            """)
        let lockfile = try Lockfile.load([dir.path("base.json"), dir.path("overrides.yaml")])
        #expect(lockfile.packages["bash"] == .init(version: .evr("5.2.26-4.fc40"), digest: nil, metadata: nil))
        #expect(lockfile.packages["glibc"]?.version == .evr("2.39-5.fc40"))
        #expect(lockfile.metadata?["generated"] == .string("2026-11-27T00:00:00Z"))
        let first = try Lockfile.load([dir.path("base.json")])
        #expect(first.packages["bash"]?.version == .evra(evr: "5.2.26-3.fc40", arch: "x86_64"))
        #expect(first.packages["bash"]?.digest == "sha256:abc")
    }

    @Test(arguments: [
        (#"{"packages": {"a": {"evr": "1-1", "colour": "x"}}}"#, "unknown key `colour` in package `a`"),
        (#"{"packages": {"a": {"evr": "1-1", "evra": "1-1.x86_64"}}}"#, "sets both `evra` and `evr`"),
        (#"{"packages": {"a": {"digest": "sha256:0"}}}"#, "needs `evra` or `evr`"),
        (#"{"packages": {"a": {"evra": "1-1"}}}"#, "malformed evra"),
        (#"{"metadata": {}}"#, "has no `packages`"),
        (#"{"packages": {}, "extra": 1}"#, "unknown key `extra` in the lockfile"),
        (#"{"packages": {}, "metadata": {"rpmmd_repos": {"f": {"when": 1}}}}"#, "unknown key `when`"),
    ])
    func rejectsMalformedLockfiles(text: String, message: String) throws {
        let file = try dir.write("lock.json", text)
        let error = try #require(throws: ComposeError.self) { try Lockfile.load([file]) }
        #expect(error.description.contains(message), "\(error)")
        #expect(error.description.contains("lock.json"))
    }
}
