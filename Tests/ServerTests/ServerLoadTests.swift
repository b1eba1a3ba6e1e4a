import Foundation
import Testing
import TestSupport

/// Many clients at once on loopback, bounded in count and time: stock
/// `ostree pull`s of the published ref beside API reads and repository
/// reads, with no request failing. (The figures beside a stock static file
/// server are `benchmarks/serve-vs-static`'s, in docs/performance.md.)
@Suite(.serialized, .enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct ServerLoadTests {
    static let pulls = 6
    static let readers = 4
    static let readsPerReader = 100

    @Test func concurrentPullsAndReadsAllSucceed() throws {
        let server = try ServerHarness("server-load")
        try server.start()
        let id = try server.submit()
        let commit = try #require(try server.waitFor(id, ["succeeded", "failed"])["commit"] as? String)
        let started = Date()

        let failures = LockedBox<[String]>([])
        let group = DispatchGroup()
        for index in 0..<Self.pulls {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let client = server.dir.path("client-\(index)")
                    _ = try Command.check(["ostree", "--repo=\(client.path)", "init", "--mode=bare-user"])
                    _ = try Command.check(["ostree", "--repo=\(client.path)", "remote", "add", "--no-gpg-verify", "server",
                                           server.base!.appendingPathComponent("repo/").absoluteString])
                    _ = try Command.check(["ostree", "--repo=\(client.path)", "pull", "server", server.ref])
                    if try Oracle.ostreeRev(client, server.ref) != commit { failures.value.append("pull \(index): wrong commit") }
                } catch {
                    failures.value.append("pull \(index): \(error)")
                }
            }
        }
        let paths = ["/api/v1/builds", "/api/v1/builds/\(id)", "/api/v1/refs", "/api/v1/treefiles", "/health", "/metrics",
                     "/repo/summary", "/repo/config", "/api/v1/builds/\(id)/events"]
        for reader in 0..<Self.readers {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                for read in 0..<Self.readsPerReader {
                    let path = paths[(reader + read) % paths.count]
                    do {
                        let reply = try server.get(path)
                        if reply.status != 200 { failures.value.append("GET \(path): \(reply.status)") }
                    } catch {
                        failures.value.append("GET \(path): \(error)")
                    }
                }
            }
        }
        #expect(group.wait(timeout: .now() + 120) == .success, "the load did not finish within 120 s")
        let seconds = Date().timeIntervalSince(started)
        #expect(failures.value.isEmpty, "\(failures.value.prefix(10))")
        // Every pull's requests went through /repo/ (thousands for 6 pulls; the reads add 4 × 100 / 9 × 2).
        let served = try server.get("/metrics").text
        let requests = served.split(separator: "\n").first { $0.hasPrefix("treeforge_repo_requests_total ") }
            .flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        #expect(requests > Self.pulls * 10, "\(served)")
        print("load: \(Self.pulls) pulls and \(Self.readers * Self.readsPerReader) reads in \(String(format: "%.1f", seconds)) s")
        #expect(try server.stop() == 0)
    }
}
