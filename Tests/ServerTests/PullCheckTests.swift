import Foundation
import Testing
import TestSupport

/// A head whose pull check failed is not `succeeded`: it stays `publishing`
/// until a pull from the server's own `/repo/` works, which the server's
/// publish lane sees to.
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct PullCheckTests {
    @Test func aFailedPullCheckLeavesTheBuildPublishingUntilTheServerPullsIt() throws {
        let server = try ServerHarness("pull-check")
        let treefile = server.treefiles.appendingPathComponent("fixture/treefile.yaml")
        // Nothing listens on port 9 of loopback: the client cannot pull.
        let compose = try Command.run([Fixtures.treeforgeExecutable.path, "compose", "tree", treefile.path, "--repo", server.repo.path,
                                       "--workdir", server.dir.path("work").path, "--verify-pull", "http://127.0.0.1:9/repo/"])
        #expect(compose.status == 1, "\(compose.stderr)")
        #expect(compose.stderr.contains("error: publish: http://127.0.0.1:9/repo/: the stock ostree client cannot pull the new head"),
                "\(compose.stderr)")
        let row = try server.sql("select status, coalesce(pullCheck, '-') from build")
        #expect(row == ["publishing|-"], "\(row)")

        try server.start()
        try server.waitUntil("the publish lane to pull and settle the build", timeout: 60) {
            try server.sql("select status from build where id = 1") == ["succeeded"]
        }
        let build = try server.build(1)
        #expect((build["pullCheck"] as? String)?.contains("from \(server.base!.absoluteString)repo/") == true, "\(build)")
        #expect(try server.stop() == 0)
    }
}
