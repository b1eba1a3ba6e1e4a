import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

@Suite struct TreefileLoaderTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("treefile") }

    func load(_ name: String) throws -> Treefile {
        try TreefileLoader().load(dir.path(name))
    }

    @Test func readsYAML() throws {
        try dir.write("t.yaml", """
            ref: os/x86_64/base
            releasever: 40
            repos: [base, updates]
            packages:
              - bash
              - "coreutils systemd"
              - "'glibc >= 2.36' kernel"
            """)
        let treefile = try load("t.yaml")
        #expect(treefile.ref == "os/x86_64/base")
        #expect(treefile.releasever == "40")
        #expect(treefile.repos == ["base", "updates"])
        #expect(treefile.packages == ["bash", "coreutils", "systemd", "glibc >= 2.36", "kernel"])
        #expect(treefile.sha256.count == 64)
    }

    @Test func readsJSON() throws {
        try dir.write("t.json", #"{"ref": "os/base", "repos": ["base"], "packages": ["bash"]}"#)
        let treefile = try load("t.json")
        #expect(treefile.ref == "os/base")
        #expect(treefile.packages == ["bash"])
    }

    @Test func mergesIncludesIncludedFirst() throws {
        try dir.write("common/base.yaml", """
            ref: os/common
            repos: [base]
            packages: [bash, coreutils]
            """)
        try dir.write("extra.yaml", "packages: [vim]\n")
        try dir.write("empty.yaml", "# nothing here\n")
        try dir.write("t.yaml", """
            include: [common/base.yaml, extra.yaml, empty.yaml]
            ref: os/server
            repos: [updates]
            packages: [httpd]
            """)
        let treefile = try load("t.yaml")
        #expect(treefile.ref == "os/server")
        #expect(treefile.repos == ["base", "updates"])
        #expect(treefile.packages == ["bash", "coreutils", "vim", "httpd"])
        #expect(treefile.sourceFiles.map(\.lastPathComponent) == ["t.yaml", "base.yaml", "extra.yaml", "empty.yaml"])
    }

    @Test func includingAFileTwiceIsAnError() throws {
        try dir.write("a.yaml", "packages: [bash]\n")
        try dir.write("b.yaml", "include: a.yaml\n")
        try dir.write("t.yaml", "include: [a.yaml, b.yaml]\nref: r\nrepos: [x]\n")
        let error = try #require(throws: ComposeError.self) { try load("t.yaml") }
        #expect(error.stage == .load)
        #expect(error.message.contains("included twice"))
        #expect(error.subject?.hasSuffix("a.yaml") == true)
    }

    @Test func missingTreefile() throws {
        let error = try #require(throws: ComposeError.self) { try load("nope.yaml") }
        #expect(error.message == "treefile not found")
        #expect(error.subject?.hasSuffix("nope.yaml") == true)
    }

    @Test func missingInclude() throws {
        try dir.write("t.yaml", "ref: r\nrepos: [x]\npackages: [a]\ninclude: gone.yaml\n")
        let error = try #require(throws: ComposeError.self) { try load("t.yaml") }
        #expect(error.message.contains("gone.yaml"))
        #expect(error.subject?.hasSuffix("t.yaml:4") == true)
    }

    @Test func yamlSyntaxErrorNamesFileAndLine() throws {
        try dir.write("t.yaml", "ref: r\npackages:\n  - a\n  b: [\n")
        let error = try #require(throws: ComposeError.self) { try load("t.yaml") }
        #expect(error.stage == .load)
        #expect(error.message.hasPrefix("YAML syntax error"))
        let subject = try #require(error.subject)
        #expect(subject.contains("t.yaml:"))
        #expect(subject.hasSuffix(":4:4") || subject.contains("t.yaml:4") || subject.contains("t.yaml:5"))
    }

    @Test func jsonSyntaxErrorNamesFileAndLine() throws {
        try dir.write("t.json", "{\n  \"ref\": \"r\",\n  \"packages\": [\"a\",,]\n")
        let error = try #require(throws: ComposeError.self) { try load("t.json") }
        #expect(error.message.hasPrefix("JSON syntax error"))
        #expect(error.subject?.contains("t.json:3") == true)
    }

    @Test func unknownKeyIsNamedWithItsLine() throws {
        try dir.write("inc.yaml", "packages: [a]\npakages: [b]\n")
        try dir.write("t.yaml", "ref: r\nrepos: [x]\ninclude: inc.yaml\n")
        let error = try #require(throws: ComposeError.self) { try load("t.yaml") }
        #expect(error.message == "unknown key `pakages`")
        #expect(error.subject?.hasSuffix("inc.yaml:2") == true)
        #expect(error.details.contains { $0.contains("included from") && $0.hasSuffix("t.yaml") })
    }

    @Test func rpmOstreeKeysNotActedOnFailLoudly() throws {
        try dir.write("t.yaml", "ref: r\nrepos: [x]\npackages: [a]\npostprocess: ['true']\n")
        let error = try #require(throws: ComposeError.self) { try load("t.yaml") }
        #expect(error.message.contains("`postprocess`"))
        #expect(error.message.contains("does not act on yet"))
    }

    @Test func requiresRefPackagesAndRepos() throws {
        try dir.write("noref.yaml", "repos: [x]\npackages: [a]\n")
        #expect(throws: ComposeError.self) { try load("noref.yaml") }
        try dir.write("nopkgs.yaml", "ref: r\nrepos: [x]\n")
        #expect(throws: ComposeError.self) { try load("nopkgs.yaml") }
        try dir.write("norepos.yaml", "ref: r\npackages: [a]\n")
        #expect(throws: ComposeError.self) { try load("norepos.yaml") }
    }

    @Test func wrongValueType() throws {
        try dir.write("t.yaml", "ref: r\nrepos: x\npackages: [a]\n")
        let error = try #require(throws: ComposeError.self) { try load("t.yaml") }
        #expect(error.message.contains("`repos` must be a list"))
        #expect(error.subject?.hasSuffix("t.yaml:2") == true)
    }

    @Test(arguments: [
        ("a b", ["a", "b"]),
        ("'a >= 1.0' b", ["a >= 1.0", "b"]),
        ("  spaced\tout  ", ["spaced", "out"]),
        ("\"x < 2\"", ["x < 2"]),
    ])
    func splitsPackageEntries(entry: String, expected: [String]) {
        #expect(TreefileLoader.splitPackageEntry(entry) == expected)
    }
}
