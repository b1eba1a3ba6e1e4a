/// Finds a YAML anchor (`&name`) in a document's text before Yams composes
/// it. Treefiles may not use anchors and aliases, and they must be refused
/// before Yams sees them: Yams expands an alias into the anchored node, and
/// hashes mapping keys to find duplicates, so a few lines aliasing lists as
/// keys keep it hashing 10^8 nodes. Nothing after Yams can stop that.
///
/// A scan of the text as libyaml tokenizes it, for the contexts where `&`
/// is not an anchor: comments, quoted scalars, block scalars (`|`, `>`),
/// and plain scalars already begun. A plain scalar continued on a further
/// line whose text starts with `&` is taken for an anchor; quote it.
enum YAMLAnchorScan {
    struct Anchor: Equatable {
        /// 1-based, as Yams marks.
        var line: Int
        var column: Int
        var name: String
    }

    static func firstAnchor(in text: String) -> Anchor? {
        var state = State()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let found = state.scan(Array(line.unicodeScalars), line: index + 1) { return found }
        }
        return nil
    }

    private struct State {
        /// Inside a block scalar: lines indented more than this are its text.
        var blockScalarParent: Int?
        /// Inside a quoted scalar that goes on over lines.
        var quote: Unicode.Scalar?
        var flowDepth = 0

        mutating func scan(_ chars: [Unicode.Scalar], line: Int) -> Anchor? {
            let indent = chars.prefix { $0 == " " }.count
            if let parent = blockScalarParent {
                if indent > parent || chars.allSatisfy({ $0 == " " || $0 == "\r" }) { return nil }
                blockScalarParent = nil
            }
            if quote == nil, chars.first == "%" { return nil }  // a directive
            var i = 0
            if quote == nil, chars.starts(with: ["-", "-", "-"]) || chars.starts(with: [".", ".", "."]),
               chars.count == 3 || chars[3] == " " || chars[3] == "\r" {
                i = 3
            }
            var tokenStart = true
            var inPlain = false
            func at(_ k: Int) -> Unicode.Scalar? { k < chars.count ? chars[k] : nil }
            func isBlank(_ c: Unicode.Scalar?) -> Bool { c == nil || c == " " || c == "\t" || c == "\r" }
            func isFlowIndicator(_ c: Unicode.Scalar?) -> Bool { c.map { ",[]{}".unicodeScalars.contains($0) } ?? false }

            while i < chars.count {
                let c = chars[i]
                if let open = quote {
                    if open == "\"" && c == "\\" { i += 2; continue }
                    if c == open {
                        if open == "'" && at(i + 1) == "'" { i += 2; continue }
                        quote = nil
                    }
                    i += 1
                    continue
                }
                if c == "#" && (i == 0 || isBlank(chars[i - 1])) { return nil }
                if isBlank(c) {
                    if !inPlain { tokenStart = true }
                    i += 1
                    continue
                }
                if inPlain {
                    if c == ":" && (isBlank(at(i + 1)) || (flowDepth > 0 && isFlowIndicator(at(i + 1)))) {
                        inPlain = false
                        tokenStart = true
                    } else if flowDepth > 0 && isFlowIndicator(c) {
                        inPlain = false
                        continue
                    }
                    i += 1
                    continue
                }
                let indicator = (c == "-" || c == "?" || c == ":") && (isBlank(at(i + 1)) || (c == ":" && flowDepth > 0))
                if c == "[" || c == "{" {
                    flowDepth += 1
                    tokenStart = true
                } else if c == "]" || c == "}" {
                    flowDepth = max(0, flowDepth - 1)
                    tokenStart = false
                } else if (c == "," && flowDepth > 0) || indicator {
                    tokenStart = true
                } else if c == "\"" || c == "'" {
                    quote = c
                } else if tokenStart && (c == "|" || c == ">") {
                    blockScalarParent = indent
                    return nil
                } else if tokenStart && c == "!" {
                    while i < chars.count && !isBlank(chars[i]) { i += 1 }
                    continue
                } else if tokenStart && c == "&" {
                    var end = i + 1
                    while end < chars.count && !isBlank(chars[end]) && !isFlowIndicator(chars[end]) { end += 1 }
                    var name = ""
                    name.unicodeScalars.append(contentsOf: chars[(i + 1)..<end])
                    return Anchor(line: line, column: i + 1, name: name)
                } else {
                    inPlain = true
                    tokenStart = false
                }
                i += 1
            }
            return nil
        }
    }
}
