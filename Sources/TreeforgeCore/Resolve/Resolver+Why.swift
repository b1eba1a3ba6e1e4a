import LibSolv

extension Resolver {
    /// Why a package is in the treefile's package set: the chain of
    /// requirements from a treefile entry to it, one line per step
    /// (`treeforge compose why`).
    public func explain(_ treefile: Treefile, package name: String) throws -> [String] {
        try withSession(treefile) { session in
            _ = try session.solve()  // problems surface as the compose would show them
            let pool = session.pool
            guard case .solved(let ids) = pool.solve(session.request) else { return [] }
            guard let target = ids.first(where: { pool.package($0).name == name || pool.package($0).nevra == name }) else {
                let available = !pool.packages(matching: name).isEmpty
                throw ComposeError(.resolve, subject: name, available
                    ? "is available but not in the tree: nothing the treefile asks for needs it"
                    : "no package of that name in repos \(session.repos.keys.sorted().joined(separator: ", "))")
            }
            guard let chain = pool.explain(session.request, package: target) else { return [] }
            var lines = ["\(pool.package(target).nevra) is in the tree because:"]
            for (id, reason) in chain {
                let nevra = pool.package(id).nevra
                switch reason {
                case .requested:
                    let specs = treefile.packages.filter { spec in
                        let candidates = pool.packages(matching: spec)
                        return candidates.contains(id) || pool.obsoleters(of: candidates).contains(id)
                    }
                    let asked = specs.isEmpty ? "" : " (" + specs.map { "`\($0)`" }.joined(separator: ", ") + ")"
                    lines.append("  \(nevra) is asked for by the treefile\(asked)")
                case .required(let by, let dependency):
                    lines.append("  \(nevra) provides `\(dependency)`, which \(pool.package(by).nevra) requires")
                case .recommended(let by, let dependency):
                    lines.append("  \(nevra) is recommended by \(pool.package(by).nevra) (`\(dependency)`)")
                case .other(let text):
                    lines.append("  \(nevra): \(text)")
                }
            }
            return lines
        }
    }
}
