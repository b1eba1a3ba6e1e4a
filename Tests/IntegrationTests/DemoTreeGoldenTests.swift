import Foundation
import Testing
import TestSupport

/// The embedded demo, composed as the README's quick start does, against
/// its checked-in listing: every entry's type, mode, owner, size and link
/// target as `ostree ls -R` prints them. Any change to the pipeline that
/// moves, adds or reshapes a file shows up here as a diff to review.
///
/// To accept a change: `TREEFORGE_UPDATE_GOLDEN=1 swift test --filter DemoTreeGolden`.
@Suite(.enabled(if: getuid() == 0, "librpm chroots into the new root: run as root"))
struct DemoTreeGoldenTests {
    static let golden = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/golden/demo-tree.txt")

    @Test func theDemoTreeMatchesItsGoldenListing() throws {
        let harness = try ComposeHarness("demo-golden")
        let treefile = try DemoTree.copy(into: harness.dir.path("demo"))
        let result = try harness.compose(treefile)
        #expect(result.status == 0, "\(result.stderr)")
        // What the quick start promises: the packages, the motd its scriptlet
        // wrote, the commit's version in os-release, the script's output.
        let checkout = harness.dir.path("checkout")
        try Oracle.ostree(harness.repo, ["checkout", "-U", DemoTree.ref, checkout.path])
        #expect(try Oracle.rpmQueryAll(root: checkout).contains("demo-hello-1.0-1.noarch"))
        func read(_ path: String) throws -> String { try String(contentsOf: checkout.appendingPathComponent(path), encoding: .utf8) }
        #expect(try read("usr/etc/motd").hasPrefix("Welcome to treeforge demo 1!"))
        let version = try #require(try Oracle.ostree(harness.repo, ["log", DemoTree.ref])
            .split(separator: "\n").first { $0.hasPrefix("Version: ") }?.dropFirst("Version: ".count))
        #expect(try read("usr/lib/os-release").contains("PRETTY_NAME=\"treeforge demo \(version)\""))
        #expect(try read("usr/share/doc/demo-hello/postprocess-ran") == "first line of the banner: treeforge demo \\n \\l\n")

        let listing = try Oracle.ostree(harness.repo, ["ls", "-R", DemoTree.ref])
        if ProcessInfo.processInfo.environment["TREEFORGE_UPDATE_GOLDEN"] == "1" {
            try listing.write(to: Self.golden, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: Self.golden, encoding: .utf8)
        guard listing != expected else { return }
        let actual = harness.dir.path("demo-tree.actual")
        try listing.write(to: actual, atomically: true, encoding: .utf8)
        let diff = try Command.run(["diff", "-u", Self.golden.path, actual.path]).stdout
        Issue.record("""
            the demo tree differs from Tests/Fixtures/golden/demo-tree.txt; review the diff, and if the change is \
            intended accept it with TREEFORGE_UPDATE_GOLDEN=1 swift test --filter DemoTreeGolden
            \(diff)
            """)
    }
}
