import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

/// A CoreOS-style manifest set (Tests/Fixtures/treefiles/coreos-like):
/// nested includes, arch-include, conditional includes on variables and
/// releasever (one inline), packages-$arch for four arches, postprocess in
/// several files, repo-packages, exclude-packages, a symlinked entry point.
/// The expected flattened outputs are checked in, worked out by hand from
/// rpm-ostree's rules.
@Suite struct TreefileGoldenTests {
    static let folder = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/treefiles/coreos-like")

    @Test(arguments: ["x86_64", "s390x"])
    func flattensAsRpmOstreeDoes(arch: String) throws {
        let treefile = try TreefileLoader(basearch: arch).load(Self.folder.appendingPathComponent("manifest.yaml"))
        let expected = try String(contentsOf: Self.folder.appendingPathComponent("expected-\(arch).json"), encoding: .utf8)
        #expect(treefile.printed + "\n" == expected)
    }

    @Test func readsOnlyTheFilesItNeeds() throws {
        let treefile = try TreefileLoader(basearch: "x86_64").load(Self.folder.appendingPathComponent("manifest.yaml"))
        #expect(treefile.sourceFiles.map { $0.path.replacingOccurrences(of: Self.folder.path + "/", with: "") } == [
            "manifest.yaml",
            "manifests/coreos-base.yaml",
            "manifests/shared/ignition-and-ostree.yaml",
            "manifests/shared/system-configuration.yaml",
            "manifests/arch/x86_64.yaml",
            "manifests/dev-tools.yaml",
            "manifests/next.yaml",
        ])
        #expect(treefile.variables["stream"] == .string("testing-devel"))
        #expect(treefile.variables["releasever"] == .uint(40))
    }

    @Test func canonicalFormIsStable() throws {
        let url = Self.folder.appendingPathComponent("manifest.yaml")
        let first = try TreefileLoader(basearch: "x86_64").load(url).config.canonicalJSON
        let second = try TreefileLoader(basearch: "x86_64").load(url).config.canonicalJSON
        #expect(first == second)
        #expect(!first.contains("\n") && !first.contains(": "))
        // The same settings written differently give the same bytes.
        let dir = try TemporaryDirectory("canonical")
        try dir.write("a.yaml", "ref: r\npackages: [b, a]\nrecommends: false\n")
        try dir.write("b.json", #"{"recommends": false, "packages": ["a b"], "ref": "r"}"#)
        let a = try TreefileLoader(basearch: "x86_64").load(dir.path("a.yaml")).config.canonicalJSON
        let b = try TreefileLoader(basearch: "x86_64").load(dir.path("b.json")).config.canonicalJSON
        #expect(a == b)
        #expect(a == #"{"basearch":"x86_64","packages":["a","b"],"recommends":false,"ref":"r"}"#)
    }
}
