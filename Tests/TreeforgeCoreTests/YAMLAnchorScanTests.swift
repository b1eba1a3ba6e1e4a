import Testing
@testable import TreeforgeCore

/// The scan that keeps anchors (and so aliases) away from Yams: it must find
/// every anchor libyaml would read, and nothing in text that is not one.
@Suite struct YAMLAnchorScanTests {
    @Test(arguments: [
        ("a: &x [1]\n", 1, 4, "x"),
        ("- &item a\n", 1, 3, "item"),
        ("k: [b, &x a]\n", 1, 8, "x"),
        ("{a: &x 1}\n", 1, 5, "x"),
        ("k: !!seq &x [a]\n", 1, 10, "x"),
        ("--- &doc\na: 1\n", 1, 5, "doc"),
        ("script: |\n  echo\nk: &after 1\n", 3, 4, "after"),
        ("k: \"a\n  b\" \nj: &x 1\n", 3, 4, "x"),
        ("? &key a\n: 1\n", 1, 3, "key"),
    ])
    func findsAnchors(text: String, line: Int, column: Int, name: String) {
        #expect(YAMLAnchorScan.firstAnchor(in: text) == .init(line: line, column: column, name: name))
    }

    @Test(arguments: [
        "cmd: \"a &b\"\n",
        "cmd: 'it''s &b'\n",
        "cmd: run a &b\n",
        "a&b: 1\n",
        "# &x in a comment\na: 1 # &y too\n",
        "postprocess:\n  - |\n    #!/bin/sh\n    true && false\n    &not-an-anchor\n    case x in *) ;; esac\n",
        "k: \"line one\n  &still quoted\"\n",
        "url: http://example.invalid/?a=1&b=2\n",
        "packages: [bash, 'a &b']\n",
        "{\"ref\": \"a&b\", \"packages\": [\"x\"]}\n",
    ])
    func findsNoAnchorInText(text: String) {
        #expect(YAMLAnchorScan.firstAnchor(in: text) == nil)
    }
}
