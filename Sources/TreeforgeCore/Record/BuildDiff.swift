import LibSolv

/// What changed between two builds' package sets, as `rpm-ostree db diff`
/// reports it: packages added, removed, upgraded and downgraded (by name and
/// architecture, versions compared by RPM's rules).
public struct BuildDiff: Sendable, Equatable, Codable {
    public struct Change: Sendable, Equatable, Codable {
        public let name: String
        public let arch: String
        public let from: String
        public let to: String
    }

    public var added: [String] = []
    public var removed: [String] = []
    public var upgraded: [Change] = []
    public var downgraded: [Change] = []

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && upgraded.isEmpty && downgraded.isEmpty }

    public init(from old: [BuildPackage], to new: [BuildPackage]) {
        func key(_ p: BuildPackage) -> String { "\(p.name).\(p.arch)" }
        let before = Dictionary(old.map { (key($0), $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.map { (key($0), $0) }, uniquingKeysWith: { a, _ in a })
        let comparator = EVRComparator()
        for (name, package) in after.sorted(by: { $0.key < $1.key }) {
            guard let previous = before[name] else { added.append(package.nevra); continue }
            let order = comparator.compare(previous.evr, package.evr)
            let change = Change(name: package.name, arch: package.arch, from: previous.evr, to: package.evr)
            if order < 0 { upgraded.append(change) } else if order > 0 { downgraded.append(change) }
        }
        removed = before.filter { after[$0.key] == nil }.map(\.value.nevra).sorted()
    }

    /// The terminal form.
    public var lines: [String] {
        var out: [String] = []
        func section(_ title: String, _ rows: [String]) {
            guard !rows.isEmpty else { return }
            out.append("\(title):")
            out += rows.map { "  \($0)" }
        }
        section("Upgraded", upgraded.map { "\($0.name).\($0.arch) \($0.from) -> \($0.to)" })
        section("Downgraded", downgraded.map { "\($0.name).\($0.arch) \($0.from) -> \($0.to)" })
        section("Removed", removed)
        section("Added", added)
        return out.isEmpty ? ["No package changes."] : out
    }
}
