import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

@Suite struct BuildStoreTests {
    @Test func recordsABuildFromStartToFinish() throws {
        let store = try BuildStore()
        let id = try store.start(treefilePath: "/t.yaml")
        #expect(try store.build(id)?.status == .running)
        try store.update(id) {
            $0.ref = "os/base"
            $0.status = .succeeded
            $0.commit = "abc"
            $0.packages = ["a-1-1.noarch", "b-2-1.x86_64"]
            $0.stageSeconds = ["resolve": 0.5]
        }
        let build = try #require(try store.build(id))
        #expect(build.status == .succeeded)
        #expect(build.packages == ["a-1-1.noarch", "b-2-1.x86_64"])
        #expect(build.stageSeconds["resolve"] == 0.5)
        #expect(try store.builds(ref: "os/base").map(\.id) == [id])
        #expect(try store.builds(ref: "other").isEmpty)
    }

    @Test func databaseLivesBesideTheRepository() throws {
        #expect(BuildStore.databasePath(forRepo: URL(fileURLWithPath: "/srv/os/repo/")).path == "/srv/os/repo.builds.sqlite")
        let dir = try TemporaryDirectory("store")
        let store = try BuildStore(repoPath: dir.path("nested/repo"))
        _ = try store.start(treefilePath: "/t.yaml")
        #expect(FileManager.default.fileExists(atPath: dir.path("nested/repo.builds.sqlite").path))
    }
}
