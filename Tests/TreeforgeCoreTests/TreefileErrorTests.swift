import Foundation
import Testing
import TestSupport
@testable import TreeforgeCore
import Yams

/// Every malformed treefile: the message names the file, line and column of
/// the offending node and the include chain that led there.
@Suite struct TreefileErrorTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("treefile-errors") }

    func error(_ name: String) throws -> ComposeError {
        try #require(throws: ComposeError.self) { try TreefileLoader(basearch: "x86_64").load(dir.path(name)) }
    }

    @Test func missingTreefile() throws {
        let e = try error("nope.yaml")
        #expect(e.message == "treefile not found")
        #expect(e.subject?.hasSuffix("nope.yaml") == true)
    }

    @Test func missingInclude() throws {
        try dir.write("t.yaml", "ref: r\ninclude: gone.yaml\n")
        let e = try error("t.yaml")
        #expect(e.message.contains("gone.yaml not found"))
        #expect(e.subject?.hasSuffix("t.yaml:2:10") == true)
    }

    @Test func yamlSyntaxError() throws {
        try dir.write("t.yaml", "ref: r\npackages:\n  - a\n  b: [\n")
        let e = try error("t.yaml")
        #expect(e.message.hasPrefix("YAML syntax error"))
        #expect(e.subject?.contains("t.yaml:4:") == true)
    }

    @Test func jsonSyntaxError() throws {
        try dir.write("t.json", "{\n  \"ref\": \"r\",\n  \"packages\": [\"a\",,]\n")
        let e = try error("t.json")
        #expect(e.message.hasPrefix("JSON syntax error"))
        #expect(e.subject?.contains("t.json:3:") == true)
    }

    @Test func unknownKeyWithLineAndIncludeChain() throws {
        try dir.write("deep.yaml", "packages: [a]\npakages: [b]\n")
        try dir.write("mid.yaml", "include: deep.yaml\n")
        try dir.write("t.yaml", "ref: r\ninclude: mid.yaml\n")
        let e = try error("t.yaml")
        #expect(e.message == "unknown key `pakages`")
        #expect(e.subject?.hasSuffix("deep.yaml:2:1") == true)
        #expect(e.details.count == 2)
        #expect(e.details[0].contains("mid.yaml:1:10"))
        #expect(e.details[1].contains("t.yaml:2:10"))
    }

    @Test func keysThatYAMLTypesApartButAreOneName() throws {
        try dir.write("t.yaml", "ref: r\nvariables:\n  1: a\n  \"1\": b\n")
        let e = try error("t.yaml")
        #expect(e.message == "duplicate key `1` in this mapping (also at 3:3)")
        #expect(e.subject?.hasSuffix("t.yaml:4:3") == true)
    }

    @Test func anEmptyQuotedPackageSpec() throws {
        try dir.write("t.yaml", "ref: r\npackages:\n  - \"bash '' vim\"\n")
        let e = try error("t.yaml")
        #expect(e.message == "empty package spec ('') in `packages` entry: bash '' vim")
        #expect(e.subject?.hasSuffix("t.yaml:3:5") == true, "\(e)")
    }

    @Test func anchorsAreRefusedWhereTheyAreSet() throws {
        try dir.write("t.yaml", "ref: r\nmetadata:\n  a: &list [x, y]\n  b: *list\n")
        let e = try error("t.yaml")
        #expect(e.message == "YAML anchors and aliases are not supported (&list)")
        #expect(e.subject?.hasSuffix("t.yaml:3:6") == true, "\(e)")
    }

    @Test func nestedAliasesAsKeysStopBeforeYams() throws {
        // Yams would hash 10^8 strings to check these keys for duplicates.
        var text = "ref: r\nmetadata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            text += "  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "  ? *a8\n  : 1\n"
        try dir.write("t.json", text)
        let e = try error("t.json")
        #expect(e.message == "YAML anchors and aliases are not supported (&a0)")
        #expect(e.subject?.hasSuffix("t.json:3:7") == true, "\(e)")
    }

    @Test func anAliasThatReachesTheTreeIsRefusedWhereItIsUsed() throws {
        // What the anchor scan guards against, should it miss an anchor.
        let root = try #require(try Yams.compose(yaml: "a: &list [x, y]\nb: *list\n", TreefileNode.resolver))
        var visited = Set<TreefileNode.NodeStart>()
        let e = try #require(throws: ComposeError.self) { try TreefileNode(root, file: "t.yaml", chain: [], visited: &visited) }
        #expect(e.message == "YAML aliases are not supported (this repeats the sequence at 1:4)")
        #expect(e.subject == "t.yaml:2:1")
    }

    /// rpm-ostree refuses unknown keys only in YAML; in JSON it ignores them
    /// (treefiles use them as comments), so treeforge warns and drops them.
    @Test func unknownKeysAreErrorsInYAMLAndWarningsInJSON() throws {
        try dir.write("t.yaml", "ref: r\ncolour: blue\n")
        let e = try error("t.yaml")
        #expect(e.message == "unknown key `colour`")
        #expect(e.subject?.hasSuffix("t.yaml:2:1") == true)

        try dir.write("inc.json", "{\n  \"packages\": [\"vim\"],\n  \"comment-packages\": \"vim for editing\"\n}\n")
        try dir.write("t.json", #"{"ref": "r", "packages": ["bash"], "colour": {"any": ["shape"]}, "include": "inc.json"}"#)
        let treefile = try TreefileLoader(basearch: "x86_64").load(dir.path("t.json"))
        #expect(treefile.packages == ["bash", "vim"])
        #expect(treefile.warnings.count == 2)
        #expect(treefile.warnings[0] == "unknown key `colour` ignored, as rpm-ostree ignores unknown keys in JSON treefiles (\(dir.path("t.json").path):1:36)")
        #expect(treefile.warnings[1].hasPrefix("unknown key `comment-packages` ignored"))
        #expect(treefile.warnings[1].hasSuffix("inc.json:3:3)"))
        #expect(!treefile.printed.contains("colour") && !treefile.printed.contains("comment-packages"))
        #expect(try treefile.checkComposable() == treefile.warnings, "a compose reports them")
        // A YAML file included from JSON keeps YAML's rule.
        try dir.write("y.yaml", "pakages: [b]\n")
        try dir.write("j.json", #"{"include": "y.yaml"}"#)
        #expect(try error("j.json").message == "unknown key `pakages`")
    }

    @Test func includeCycle() throws {
        try dir.write("a.yaml", "include: b.yaml\n")
        try dir.write("b.yaml", "include: a.yaml\n")
        let e = try error("a.yaml")
        #expect(e.message.contains("included twice"))
        #expect(e.details.contains { $0.contains("b.yaml:1:10") })
    }

    @Test func sameFileIncludedTwice() throws {
        try dir.write("a.yaml", "packages: [bash]\n")
        try dir.write("b.yaml", "include: a.yaml\n")
        try dir.write("t.yaml", "include: [a.yaml, b.yaml]\n")
        #expect(try error("t.yaml").message.contains("included twice"))
    }

    @Test(arguments: [
        ("releasever >> 3", "unknown operator `>>`"),
        ("== 3", "expected `NAME OP VALUE`"),
        ("stream == next", "`next` is not a value"),
    ])
    func badCondition(condition: String, message: String) throws {
        try dir.write("t.yaml", "conditional-include:\n  - if: \(condition)\n    include: x.yaml\n")
        let e = try error("t.yaml")
        #expect(e.message.contains(message), "\(e.message)")
        #expect(e.subject?.hasSuffix("t.yaml:2:9") == true)
    }

    @Test func conditionOnUndefinedVariable() throws {
        try dir.write("t.yaml", "conditional-include:\n  - if: stream == \"next\"\n    include: x.yaml\n")
        #expect(try error("t.yaml").message.contains("undefined variable `stream`"))
    }

    @Test func conditionComparingDifferentTypes() throws {
        try dir.write("t.yaml", "releasever: \"40\"\nconditional-include:\n  - if: releasever >= 39\n    include: x.yaml\n")
        #expect(try error("t.yaml").message.contains("not the same type"))
    }

    @Test func reservedVariableRedefined() throws {
        try dir.write("t.yaml", "variables: {basearch: aarch64}\n")
        let e = try error("t.yaml")
        #expect(e.message.contains("`basearch` is a reserved variable"))
        try dir.write("r.yaml", "variables: {releasever: 40}\n")
        #expect(try error("r.yaml").message.contains("`releasever` is a reserved variable"))
    }

    @Test func wrongValueTypesNameTheNode() throws {
        try dir.write("t.yaml", "ref: r\nrepos: x\n")
        let e = try error("t.yaml")
        #expect(e.message == "`repos` must be a list of strings, not a string")
        #expect(e.subject?.hasSuffix("t.yaml:2:8") == true)
        try dir.write("e.yaml", "edition: 2024\n")
        #expect(try error("e.yaml").message.contains("quoted string"))
        try dir.write("b.yaml", "recommends: yes\n")
        #expect(try error("b.yaml").message == "`recommends` must be true or false, not a string")
        try dir.write("o.yaml", "boot-location: sideways\n")
        #expect(try error("o.yaml").message.contains("must be one of \"new\", \"modules\", \"kernel-install\""))
    }

    @Test func crossArchBasearch() throws {
        try dir.write("t.yaml", "basearch: aarch64\n")
        #expect(try error("t.yaml").message.contains("cross-composes are not supported"))
    }

    @Test func missingExternalFile() throws {
        try dir.write("t.yaml", "postprocess-script: post.sh\n")
        let e = try error("t.yaml")
        #expect(e.message.contains("`postprocess-script` names post.sh, which does not exist"))
        #expect(e.subject?.hasSuffix("t.yaml:1:1") == true)
    }

    @Test func addFilesDestinationOutsideTheTree() throws {
        try dir.write("f", "x")
        try dir.write("t.yaml", "add-files: [[f, /usr/local/f]]\n")
        #expect(try error("t.yaml").message.contains("unsupported destination in add-files: /usr/local/f"))
    }

    @Test func duplicateKey() throws {
        try dir.write("t.yaml", "ref: a\nref: b\n")
        let e = try error("t.yaml")
        #expect(e.message == "YAML syntax error: duplicate key `ref` in this mapping")
        #expect(!e.message.contains("\n"))
    }
}

@Suite struct TreefileComposeCheckTests {
    @Test func keysNotActedOnStopACompose() throws {
        let dir = try TemporaryDirectory("treefile-compose")
        try dir.write("t.yaml", "ref: r\npackages: [a]\nostree-layers: ['layer']\nselinux: true\ncliwrap: true\n")
        let treefile = try TreefileLoader(basearch: "x86_64").load(dir.path("t.yaml"))
        let error = try #require(throws: ComposeError.self) { try treefile.checkComposable() }
        #expect(error.message.contains("does not act on these settings yet"))
        #expect(error.details.contains { $0.hasPrefix("`ostree-layers` (") && $0.contains("t.yaml:3:1") })
        #expect(error.details.contains { $0.hasPrefix("`selinux: true`") })
    }

    @Test func keysRpmOstreeOnlyWarnsAboutWarn() throws {
        let dir = try TemporaryDirectory("treefile-compose")
        try dir.write("t.yaml", "ref: r\npackages: [a]\ncliwrap: true\nselinux: false\nrecommends: false\n")
        let treefile = try TreefileLoader(basearch: "x86_64").load(dir.path("t.yaml"))
        let warnings = try treefile.checkComposable()
        #expect(warnings.count == 1)
        #expect(warnings[0].hasPrefix("cliwrap is deprecated"))
    }

    @Test func aComposeNeedsARefAndPackages() throws {
        let dir = try TemporaryDirectory("treefile-compose")
        try dir.write("noref.yaml", "packages: [a]\n")
        try dir.write("nopkgs.yaml", "ref: r\n")
        for name in ["noref.yaml", "nopkgs.yaml"] {
            let treefile = try TreefileLoader(basearch: "x86_64").load(dir.path(name))
            #expect(throws: ComposeError.self) { try treefile.checkComposable() }
        }
    }
}
