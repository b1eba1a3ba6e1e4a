import Foundation
import Yams

extension TreefileLoader {
    /// Parses one file into its own keys, with line numbers for errors.
    func parse(_ file: URL, chain: [URL]) throws -> Partial {
        let format = file.pathExtension.lowercased() == "json" ? "JSON" : "YAML"
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw ComposeError(.load, subject: file.path, "cannot read the treefile: \(error.localizedDescription)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            let (line, column, problem) = Self.location(of: error)
            throw ComposeError(.load, subject: "\(file.path):\(line):\(column)", "\(format) syntax error: \(problem)",
                               details: Self.includedFrom(chain))
        }
        guard let root else { return Partial() }  // an empty file is an empty treefile
        guard case .mapping(let mapping) = root else {
            throw ComposeError(.load, subject: "\(file.path):\(Self.line(root))", "the treefile must be a mapping of keys to values")
        }
        var partial = Partial()
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let at = "\(file.path):\(Self.line(keyNode))"
            func fail(_ message: String) -> ComposeError {
                ComposeError(.load, subject: at, message, details: Self.includedFrom(chain))
            }
            switch key {
            case "ref":
                guard let ref = value.scalar?.string else { throw fail("`ref` must be a string") }
                partial.ref = ref
            case "releasever":
                guard let release = value.scalar?.string else { throw fail("`releasever` must be a number or a string") }
                partial.releasever = release
            case "repos":
                partial.repos = try Self.strings(value) ?? { throw fail("`repos` must be a list of repository ids") }()
            case "packages":
                let entries = try Self.strings(value) ?? { throw fail("`packages` must be a list of strings") }()
                partial.packages = entries.flatMap(Self.splitPackageEntry)
            case "include":
                let line = Self.line(value)
                if let single = value.scalar?.string {
                    partial.includes = [(single, line)]
                } else if let list = Self.strings(value) {
                    partial.includes = list.map { ($0, line) }
                } else {
                    throw fail("`include` must be a file name or a list of file names")
                }
            case _ where Self.notYetSupportedKeys.contains(key):
                throw fail("`\(key)` is an rpm-ostree treefile key that this treeforge does not act on yet; remove it or wait for support (a tree built without it would differ from what the treefile asks for)")
            default:
                throw fail("unknown key `\(key)`")
            }
        }
        return partial
    }

    static func strings(_ node: Node) -> [String]? {
        guard case .sequence(let sequence) = node else { return nil }
        var out: [String] = []
        for item in sequence {
            guard let s = item.scalar?.string else { return nil }
            out.append(s)
        }
        return out
    }

    /// rpm-ostree splits `packages` entries on whitespace; a quoted part
    /// (`'foo >= 1.2'`) stays one spec.
    static func splitPackageEntry(_ entry: String) -> [String] {
        var specs: [String] = []
        var current = ""
        var quote: Character?
        for c in entry {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c.isWhitespace {
                if !current.isEmpty { specs.append(current); current = "" }
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { specs.append(current) }
        return specs
    }

    static func line(_ node: Node) -> Int { (node.mark?.line ?? 0) }

    static func includedFrom(_ chain: [URL]) -> [String] {
        chain.reversed().map { "included from \($0.path)" }
    }

    static func location(of error: YamlError) -> (Int, Int, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let what = context.map { "\($0.text) \(problem)" } ?? problem
            return (mark.line, mark.column, what)
        case .reader(let problem, _, _, _):
            return (1, 1, problem)
        default:
            return (1, 1, "\(error)")
        }
    }
}
