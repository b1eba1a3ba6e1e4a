import Foundation
import LibSolv

/// Turns a treefile's package requests into solver jobs, and its (and the
/// repositories') restrictions into excludes: repository `excludepkgs` and
/// `includepkgs`, treefile `exclude-packages`, `repo-packages` pins, and
/// lockfile constraints.
struct PackageSelection {
    let pool: SolvPool
    let treefile: Treefile
    let repos: [String: (RepoDefinition, lockedOnly: Bool)]
    let lockfile: Lockfile?
    let strict: Bool
    /// Why packages were excluded, by name, for problem reports.
    private(set) var excludedBy: [String: String] = [:]
    /// What the excluded packages provide, by name.
    private var excludedProvides: [String: [String]] = [:]

    /// A path was asked for that primary metadata does not list.
    struct NeedsFilelists: Error {}

    init(pool: SolvPool, treefile: Treefile, repos: [String: (RepoDefinition, lockedOnly: Bool)], lockfile: Lockfile?, strict: Bool) {
        self.pool = pool
        self.treefile = treefile
        self.repos = repos
        self.lockfile = lockfile
        self.strict = strict
    }

    mutating func applyExcludes() throws {
        var excluded: [SolvableID] = []
        let pins = Dictionary(treefile.config.repoPackages.flatMap { entry in entry.packages.map { ($0, entry.repo) } },
                              uniquingKeysWith: { _, last in last })
        let anyRule = lockfile != nil || !pins.isEmpty || !treefile.config.excludePackages.isEmpty
            || repos.values.contains { !$0.0.excludePackages.isEmpty || !$0.0.includePackages.isEmpty }
        guard anyRule else { return }
        for id in pool.allPackages {
            let info = pool.package(id)
            guard let (repo, lockedOnly) = repos[info.repository] else { continue }
            var reason: String?
            if repo.excludePackages.contains(where: { glob($0, info.name) }) {
                reason = "excludepkgs of repo \(repo.id)"
            } else if !repo.includePackages.isEmpty, !repo.includePackages.contains(where: { glob($0, info.name) }) {
                reason = "not in includepkgs of repo \(repo.id)"
            } else if treefile.config.excludePackages.contains(where: { glob($0, info.name) }) {
                reason = "exclude-packages"
            } else if let pinned = pins[info.name], pinned != info.repository {
                reason = "repo-packages takes it from \(pinned)"
            } else if let lockfile {
                if let locked = lockfile.packages[info.name] {
                    if !Self.matches(locked, info) { reason = "locked to another version" }
                } else if lockedOnly {
                    reason = "repo \(repo.id) is a lockfile repo"
                } else if strict {
                    reason = "not in the lockfile (--ex-lockfile-strict)"
                }
            }
            if let reason {
                excluded.append(id)
                excludedBy[info.name] = reason
                excludedProvides[info.name] = pool.provideNames(id)
            }
        }
        pool.exclude(excluded)
        if let lockfile {
            for (name, locked) in lockfile.packages.sorted(by: { $0.key < $1.key })
            where !pool.allPackages.contains(where: { let info = pool.package($0); return info.name == name && Self.matches(locked, info) }) {
                throw ComposeError(.resolve, subject: "lockfile package \(name)",
                                   "no repository has \(name) \(Self.describe(locked)) (repos: \(repos.keys.sorted().joined(separator: ", ")))")
            }
        }
    }

    /// One job per package spec (and per `repo-packages` entry), each
    /// installing one of its candidates. Throws `NeedsFilelists` for a path
    /// nothing matches while file lists are not loaded.
    func jobs(filelistsLoaded: Bool) throws -> SolveRequest {
        var request = SolveRequest()
        request.installWeakDependencies = treefile.config.recommends
        var unknown: [(spec: String, repo: String?)] = []
        let requests = treefile.packages.map { ($0, nil as String?) }
            + treefile.config.repoPackages.flatMap { entry in entry.packages.map { ($0, entry.repo as String?) } }
        for (spec, repo) in requests {
            var candidates = pool.packages(matching: spec)
            if let repo { candidates = candidates.filter { pool.package($0).repository == repo } }
            if candidates.isEmpty {
                if spec.hasPrefix("/") && !filelistsLoaded { throw NeedsFilelists() }
                unknown.append((spec, repo))
                continue
            }
            if pool.nameMatches(spec) {
                candidates += pool.obsoleters(of: candidates)
            }
            request.installOneOf.append(candidates)
        }
        if !unknown.isEmpty {
            throw ComposeError(.resolve, subject: treefile.path.path,
                               "no package in repos \(repos.keys.sorted().joined(separator: ", ")) matches "
                               + unknown.map { entry in entry.repo.map { "`\(entry.spec)` (from repo \($0))" } ?? "`\(entry.spec)`" }
                                   .joined(separator: ", ")
                               + (excludedBy.isEmpty ? "" : " (after excludes)"),
                               details: unknown.compactMap { entry in excludedBy[entry.spec].map { "\(entry.spec) is excluded: \($0)" } })
        }
        return request
    }

    /// The excludes that explain a problem: packages it names, or that
    /// provide a capability it names.
    func excludes(mentionedIn texts: [String]) -> [String] {
        let words = Set(texts.flatMap { $0.split(whereSeparator: { $0.isWhitespace || $0 == "," || $0 == "(" || $0 == ")" }).map(String.init) })
        return excludedBy.compactMap { name, reason -> String? in
            let provided = (excludedProvides[name] ?? []).filter { $0 != name && words.contains($0) }
            guard words.contains(name) || !provided.isEmpty else { return nil }
            let via = provided.isEmpty ? "" : " (it provides \(provided.joined(separator: ", ")))"
            return "\(name) is excluded\(via): \(reason)"
        }.sorted()
    }

    static func matches(_ locked: Lockfile.LockedPackage, _ info: PackageInfo) -> Bool {
        let evr = normalizedEVR(info.epoch.isEmpty ? "\(info.version)-\(info.release)" : "\(info.epoch):\(info.version)-\(info.release)")
        switch locked.version {
        case .evra(let lockedEVR, let arch):
            guard normalizedEVR(lockedEVR) == evr, arch == info.arch else { return false }
        case .evr(let lockedEVR):
            guard normalizedEVR(lockedEVR) == evr else { return false }
        }
        guard let digest = locked.digest else { return true }
        let parts = digest.split(separator: ":", maxSplits: 1)
        return parts.count == 2 && parts[0] == (info.checksumType ?? "") && parts[1] == (info.checksum ?? "")
    }

    static func normalizedEVR(_ evr: String) -> String {
        evr.hasPrefix("0:") ? String(evr.dropFirst(2)) : evr
    }

    static func describe(_ locked: Lockfile.LockedPackage) -> String {
        switch locked.version {
        case .evra(let evr, let arch): "\(evr).\(arch)" + (locked.digest.map { " with digest \($0)" } ?? "")
        case .evr(let evr): evr + (locked.digest.map { " with digest \($0)" } ?? "")
        }
    }

    private func glob(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
