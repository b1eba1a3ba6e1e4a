/// What a compose requires of a treefile beyond its being well-formed.
extension Treefile {
    /// Checks that the pipeline can build this treefile as written: it names
    /// a ref and packages, and sets no key the pipeline does not act on yet
    /// (a tree built without it would not be the tree described). Keys that
    /// rpm-ostree itself only warns about come back as warnings, after the
    /// loader's own (`warnings`).
    public func checkComposable() throws -> [String] {
        guard let ref = config.ref, !ref.isEmpty else {
            throw ComposeError(.load, subject: path.path, "the treefile does not set `ref` (the OSTree branch to commit to)")
        }
        if ref.contains("${") {
            throw ComposeError(.load, subject: config.locations["ref"]?.description, "`ref` refers to an undefined variable: \(ref)")
        }
        if packages.isEmpty {
            throw ComposeError(.load, subject: path.path, "the treefile lists no `packages`")
        }
        let derivation = config.setKeys.filter(TreefileSchema.derivationKeys.contains)
        if !derivation.isEmpty {
            throw ComposeError(.load, subject: path.path,
                               "derivation keys are for client-side layering, not for composing a tree: \(derivation.joined(separator: ", "))")
        }
        var unsupported: [String] = []
        var warnings = self.warnings
        for key in TreefileSchema.keys {
            guard let value = config[key.name] else { continue }
            // A container tree has no kernel to place (rpm-ostree skips kernel
            // handling for it), so where a kernel would go does not matter.
            if key.name == "boot-location" && config.container { continue }
            let at = config.locations[key.name].map { " (\($0))" } ?? ""
            switch key.support {
            case .actedOn, .consumed:
                continue
            case .onlyValues(let accepted) where !accepted.contains(value):
                unsupported.append("`\(key.name): \(value.canonicalString)`\(at)")
            case .onlyValues:
                continue
            case .warnOnly(let message):
                warnings.append("\(message)\(at)")
            case .notYet:
                unsupported.append("`\(key.name)`\(at)")
            }
        }
        if !unsupported.isEmpty {
            throw ComposeError(.load, subject: path.path,
                               "treeforge reads but does not act on these settings yet, so it cannot build this tree as described",
                               details: unsupported + ["(docs/treefile.md lists what each key does in treeforge)"])
        }
        return warnings
    }
}
