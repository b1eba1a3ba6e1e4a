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
