import Foundation
import Testing
import TestSupport
import TreeforgeCore

/// treeforge's package set equals dnf's for the same request on the same
/// repository (dnf's default weak-dependency setting on both sides).
@Suite(.enabled(if: getuid() == 0, "dnf --installroot needs root"))
struct ResolverParityTests {
    @Test(arguments: [
        ["fixture-app", "fixture-oldtool"],
        ["fixture-app"],
        ["fixture-oldtool"],
        ["fixture-app", "fixture-editor-b"],
        ["fixture-legacy"],
        ["fixture-app", "fixture-legacy"],
        ["fixture-lib-1.0-1", "fixture-app"],
        ["fixture-lib < 2.0"],
        ["/bin/sh"],
        ["fixture-mail-transport"],
        ["/usr/bin/fixture-app"],
        ["fixture-data-reader"],
        ["/usr/share/fixture-app/data/README"],
    ])
    func sameSetAsDnf(request: [String]) throws {
        let repository = try Fixtures.repository()
        let dir = try TemporaryDirectory("parity")
        let treefile = try FixtureTreefile.write(packages: request, repository: repository, in: dir.url)
        let ours = try Resolver(basearch: "x86_64").resolve(TreefileLoader().load(treefile)).nevras
        let dnfs = try Oracle.dnfResolve(request, repository: repository)
        #expect(ours == dnfs)
    }
}

/// The resolver's command-line faces: `--dry-run --json`, lockfiles written
/// and read back, `compose why`.
@Suite struct ResolverCommandTests {
    func run(_ arguments: [String]) throws -> Command.Result {
        try Command.run([Fixtures.treeforgeExecutable.path] + arguments)
    }

    @Test func dryRunJSONAndLockfileRoundTrip() throws {
        let dir = try TemporaryDirectory("resolver-cli")
        let treefile = try FixtureTreefile.write(packages: Fixtures.defaultRequest, repository: Fixtures.repository(), in: dir.url)
        let lock = dir.path("tree.lock.json")
        let result = try run(["compose", "tree", treefile.path, "--dry-run", "--json", "--ex-write-lockfile-to", lock.path])
        #expect(result.status == 0, "\(result.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let nevras = (document?["packages"] as? [[String: Any]])?.compactMap { $0["nevra"] as? String }
        #expect(nevras == Fixtures.defaultSet)
        #expect((document?["installSize"] as? Int ?? 0) > 0)
        #expect(FileManager.default.fileExists(atPath: lock.path))

        let strict = try run(["compose", "tree", treefile.path, "--dry-run", "--ex-lockfile", lock.path, "--ex-lockfile-strict"])
        #expect(strict.status == 0, "\(strict.stderr)")
        for nevra in Fixtures.defaultSet { #expect(strict.stdout.contains(nevra)) }

        let missing = dir.path("bad.lock.yaml")
        try "packages:\n  fixture-app:\n    evr: 9-9\n".write(to: missing, atomically: true, encoding: .utf8)
        let failed = try run(["compose", "tree", treefile.path, "--dry-run", "--ex-lockfile", missing.path])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("error: resolve: lockfile package fixture-app: no repository has fixture-app 9-9"))
    }

    @Test func why() throws {
        let dir = try TemporaryDirectory("why-cli")
        let treefile = try FixtureTreefile.write(packages: Fixtures.defaultRequest, repository: Fixtures.repository(), in: dir.url)
        let result = try run(["compose", "why", treefile.path, "fixture-lib"])
        #expect(result.status == 0)
        #expect(result.stdout == """
            fixture-lib-2.0-1.noarch is in the tree because:
              fixture-lib-2.0-1.noarch provides `fixture-lib >= 1.0`, which fixture-app-1.0-1.noarch requires
              fixture-app-1.0-1.noarch is asked for by the treefile (`fixture-app`)

            """)
    }
}
