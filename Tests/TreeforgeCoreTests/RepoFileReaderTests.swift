import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore

@Suite struct RepoFileReaderTests {
    let dir: TemporaryDirectory
    let reader = RepoFileReader(basearch: "x86_64", releasever: "40")
    init() throws { dir = try TemporaryDirectory("repofile") }

    @Test func readsSectionsAndSubstitutesVariables() throws {
        try dir.write("a.repo", """
            # comment
            [base]
            name = Base $releasever
            baseurl=file:///srv/repos/$releasever/$basearch/
            gpgcheck=1

            [local]
            baseurl=rpms
            enabled=0
            """)
        let repos = try reader.definitions(in: dir.url)
        #expect(repos["base"]?.baseURL.path == "/srv/repos/40/x86_64")
        #expect(repos["base"]?.name == "Base 40")
        #expect(repos["base"]?.gpgcheck == true)
        #expect(repos["base"]?.enabled == true)
        #expect(repos["local"]?.baseURL.path == dir.url.appendingPathComponent("rpms").standardizedFileURL.path)
        #expect(repos["local"]?.enabled == false)
        #expect(repos["local"]?.definedAt.hasSuffix("a.repo:7") == true)
    }

    @Test func ignoresOtherFiles() throws {
        try dir.write("notes.txt", "[x]\nbaseurl=/a\n")
        #expect(try reader.definitions(in: dir.url).isEmpty)
    }

    @Test func rejectsDuplicateIDs() throws {
        try dir.write("a.repo", "[base]\nbaseurl=/a\n")
        try dir.write("b.repo", "[base]\nbaseurl=/b\n")
        let error = try #require(throws: ComposeError.self) { try reader.definitions(in: dir.url) }
        #expect(error.message.contains("defined twice"))
    }

    @Test func requiresBaseURL() throws {
        try dir.write("a.repo", "[base]\nmetalink=https://example.invalid/\n")
        let error = try #require(throws: ComposeError.self) { try reader.definitions(in: dir.url) }
        #expect(error.message.contains("no baseurl"))
    }

    @Test func readsDnfSelectionKeys() throws {
        try dir.write("a.repo", """
            [remote]
            baseurl=https://example.invalid/$releasever/repo
            priority=10
            cost = 500
            excludepkgs=kernel*, foo bar
            includepkgs=
            gpgcheck=1
            gpgkey=file:///etc/pki/a.gpg https://example.invalid/keys/b.gpg,keys/c.asc
            """)
        let repo = try #require(try reader.definitions(in: dir.url)["remote"])
        #expect(repo.baseURL.absoluteString == "https://example.invalid/40/repo/")
        #expect(repo.isRemote)
        #expect(repo.priority == 10 && repo.cost == 500)
        #expect(repo.excludePackages == ["kernel*", "foo", "bar"])
        #expect(repo.includePackages.isEmpty)
        #expect(repo.gpgkeys.map(\.absoluteString) == [
            "file:///etc/pki/a.gpg", "https://example.invalid/keys/b.gpg", dir.path("keys/c.asc").standardizedFileURL.absoluteString,
        ])
    }

    @Test func rejectsANonNumericPriority() throws {
        try dir.write("a.repo", "[base]\nbaseurl=/a\npriority=high\n")
        let error = try #require(throws: ComposeError.self) { try reader.definitions(in: dir.url) }
        #expect(error.message.contains("`priority` of repository `base` must be a whole number"))
    }

    @Test(arguments: ["priority=-9223372036854775808", "cost=4294967296", "priority=2147483648"])
    func rejectsWeightsLibsolvCannotHold(line: String) throws {
        try dir.write("a.repo", "[base]\nbaseurl=/a\n\(line)\n")
        let error = try #require(throws: ComposeError.self) { try reader.definitions(in: dir.url) }
        #expect(error.message.contains("must be a whole number from -2147483647 to 2147483647"), "\(error)")
        #expect(error.subject?.hasSuffix("a.repo:1") == true)
    }

    @Test func acceptsTheWidestWeights() throws {
        try dir.write("a.repo", "[base]\nbaseurl=/a\npriority=-2147483647\ncost=2147483647\n")
        let repo = try #require(try reader.definitions(in: dir.url)["base"])
        #expect(repo.solvPriorities == (2147483647, -2147483647))
    }

    @Test func namesTheLineThatIsNotUTF8() throws {
        var bytes = Data("[base]\nbaseurl=/a\nname=caf".utf8)
        bytes.append(contentsOf: [0xE9, 0x0A])
        try bytes.write(to: dir.path("a.repo"))
        let error = try #require(throws: ComposeError.self) { try reader.definitions(in: dir.url) }
        #expect(error.message == "the line is not valid UTF-8")
        #expect(error.subject?.hasSuffix("a.repo:3") == true)
    }

    @Test func rejectsGarbageLines() throws {
        try dir.write("a.repo", "[base]\nthis is not ini\n")
        let error = try #require(throws: ComposeError.self) { try reader.definitions(in: dir.url) }
        #expect(error.subject?.hasSuffix("a.repo:2") == true)
    }
}
